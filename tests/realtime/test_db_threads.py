"""Database calls from the websocket run on a pool of threads, not queued on one."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from tests.integration.conftest import World
from tutor import db_threads, urgent_work
from tutor.models import TutoringSession

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


@pytest.fixture(autouse=True)
def _fresh_pool():  # type: ignore[no-untyped-def]
    db_threads.shutdown()
    yield
    db_threads.shutdown()


async def test_calls_in_flight_together_run_at_the_same_time(settings, world_tx: World) -> None:  # type: ignore[no-untyped-def]
    # Each call waits until the other has started: on a single shared thread the second would never start.
    settings.TUTOR_DB_THREADS = 4
    both_started = threading.Barrier(2)

    @db_threads.db_call
    def count_sessions_once_both_run() -> int:
        both_started.wait(timeout=5)
        return TutoringSession.objects.count()

    counts = await asyncio.wait_for(
        asyncio.gather(count_sessions_once_both_run(), count_sessions_once_both_run()), timeout=10
    )
    assert counts[0] == counts[1] == await sync_to_async(TutoringSession.objects.count)()


async def test_the_pool_never_runs_more_calls_than_its_size(settings, world_tx: World) -> None:  # type: ignore[no-untyped-def]
    settings.TUTOR_DB_THREADS = 2
    running = peak = 0
    lock = threading.Lock()

    @db_threads.db_call
    def slow_query() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        TutoringSession.objects.exists()
        threading.Event().wait(0.05)
        with lock:
            running -= 1

    await asyncio.gather(*(slow_query() for _ in range(8)))
    assert peak == 2


async def test_shutdown_stops_every_pool_thread(settings, world_tx: World) -> None:  # type: ignore[no-untyped-def]
    settings.TUTOR_DB_THREADS = 3
    all_started = threading.Barrier(3)

    @db_threads.db_call
    def query_on_its_own_thread() -> str:
        all_started.wait(timeout=5)
        TutoringSession.objects.exists()
        return threading.current_thread().name

    names = set(await asyncio.gather(*(query_on_its_own_thread() for _ in range(3))))
    assert len(names) == 3
    db_threads.shutdown()
    assert not {t.name for t in threading.enumerate()} & names


async def test_a_message_is_stored_before_waiting_work_and_a_reply_is_planned_before_the_rest(settings) -> None:  # type: ignore[no-untyped-def]
    # One thread, held busy while calls queue up: when it frees, the waiting calls run by urgency, then by arrival
    # (storing a message, then planning a reply, then the other work that came before them both).
    settings.TUTOR_DB_THREADS = 1
    busy, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def hold_the_thread() -> None:
        busy.set()
        release.wait(timeout=5)

    def record(name: str) -> None:
        ran.append(name)

    holding = asyncio.ensure_future(db_threads.db_call(hold_the_thread)())
    await asyncio.to_thread(busy.wait, 5)
    calls = [
        asyncio.ensure_future(db_threads.db_call(record)("finished reply")),
        asyncio.ensure_future(db_threads.db_call(record, urgency=db_threads.PLAN)("plan")),
        asyncio.ensure_future(db_threads.db_call(record)("rendering")),
        asyncio.ensure_future(db_threads.db_call(record, urgency=db_threads.ADMIT)("message")),
    ]
    await asyncio.sleep(0.1)  # every call is queued on the pool before the thread frees
    release.set()
    await asyncio.wait_for(asyncio.gather(holding, *calls), timeout=10)
    assert ran == ["message", "plan", "finished reply", "rendering"]


async def test_work_no_student_waits_on_steps_aside_while_a_message_is_on_its_way(settings) -> None:  # type: ignore[no-untyped-def]
    """Finished replies' storing and rendering wait while urgent work is under way (tutor/urgent_work.py); storing
    a student's message does not."""
    settings.TUTOR_DB_THREADS = 2
    ran: list[str] = []

    def record(name: str) -> str:
        ran.append(name)
        return name

    with urgent_work.Urgent():
        later = asyncio.create_task(db_threads.db_call(record)("later"))
        await asyncio.wait_for(db_threads.db_call(record, urgency=db_threads.ADMIT)("admit"), timeout=5)
        await asyncio.sleep(0.02)
        assert ran == ["admit"] and not later.done()
    assert await asyncio.wait_for(later, timeout=5) == "later"
    assert ran == ["admit", "later"]
