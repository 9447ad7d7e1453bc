"""A student's message checked and stored in one round trip on a reply's own PostgreSQL connection, by the same rules
as on a database thread, and the reply planned there too: a message's way to the model makes no trip to the threads.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from tests.integration.conftest import World
from tutor import admission, consumers, db_threads, message_trip, reply_locks, services, tutoring
from tutor.models import Turn, TutoringSession

from .conftest import open_socket, say, until_final
from .test_session_lock import on_postgresql, opened

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


@pytest.fixture
async def conn(lock_connection: Any) -> Any:
    return await lock_connection()


async def store(conn: Any, session: TutoringSession, text: str, client_id: str, per_minute: int = 20) -> Any:
    """The message's trip to the database, without the turn (tutor/message_trip.py): what it stored, or not."""
    trip = await message_trip.send(
        conn, session=session, client_id=client_id, text=text, per_minute=per_minute, with_turn=False
    )
    return trip.admitted


@database_sync_to_async
def student_turns(session_id: int) -> list[Turn]:
    return list(Turn.objects.filter(session_id=session_id, role=Turn.Role.STUDENT).order_by("seq"))


@database_sync_to_async
def another_session(world: World) -> TutoringSession:
    problem = world.problem_set.problems.filter(is_current=True).exclude(pk=world.problem.pk).first()
    assert problem is not None
    session, _ = services.session_start(student=world.student, problem=problem, assignment=world.assignment)
    return session


@database_sync_to_async
def session_row(session_id: int) -> TutoringSession:
    return TutoringSession.objects.get(pk=session_id)


async def test_a_stored_message_is_the_row_the_database_holds(world_tx: World, conn: Any) -> None:
    session = await opened(world_tx)
    before = (await session_row(session.pk)).updated_at
    admitted = await store(conn, session, "is it 7?", "c-1")
    assert admitted.turn is not None and admitted.facts.resent is None
    [row] = await student_turns(session.pk)
    turn = admitted.turn
    assert (turn.pk, turn.seq, turn.role, turn.text, turn.client_message_id) == (
        row.pk,
        row.seq,
        row.role,
        row.text,
        row.client_message_id,
    )
    assert turn.created_at == row.created_at and turn.seq == 2  # after the tutor's opening question
    assert (await session_row(session.pk)).updated_at > before


async def test_a_resend_is_found_and_stores_nothing(world_tx: World, conn: Any) -> None:
    session = await opened(world_tx)
    first = await store(conn, session, "is it 7?", "c-1")
    again = await store(conn, session, "is it 7?", "c-1")
    assert first.turn is not None and again.turn is None
    assert again.facts.resent == first.turn.pk
    assert [t.client_message_id for t in await student_turns(session.pk)] == ["c-1"]


async def test_a_stopped_session_takes_nothing_and_is_not_touched(world_tx: World, conn: Any) -> None:
    session = await opened(world_tx)
    await database_sync_to_async(TutoringSession.objects.filter(pk=session.pk).update, thread_sensitive=True)(
        status=TutoringSession.Status.ABANDONED
    )
    before = (await session_row(session.pk)).updated_at
    admitted = await store(conn, session, "is it 7?", "c-1")
    assert admitted.turn is None
    assert "stopped" in (admission.refusal(admitted.facts, per_minute=20) or "")
    assert await student_turns(session.pk) == []
    assert (await session_row(session.pk)).updated_at == before


async def test_the_rate_limit_counts_the_students_messages_of_the_last_minute_in_every_session(
    world_tx: World, conn: Any
) -> None:
    session = await opened(world_tx)
    other = await another_session(world_tx)
    assert (await store(conn, session, "one", "a", per_minute=3)).turn is not None
    assert (await store(conn, other, "two", "b", per_minute=3)).turn is not None
    assert (await store(conn, session, "three", "c", per_minute=3)).turn is not None
    refused = await store(conn, other, "four", "d", per_minute=3)
    assert refused.turn is None and refused.facts.recent == 3
    assert "very fast" in (admission.refusal(refused.facts, per_minute=3) or "")
    # A refused message is not counted; one stored more than a minute ago no longer is.
    long_ago = timezone.now() - timedelta(seconds=admission.WINDOW_SECONDS + 5)
    await conn.execute(
        'UPDATE "tutor_turn" SET "created_at" = %s WHERE "session_id" = %s AND "client_message_id" = %s',
        (long_ago, session.pk, "a"),
    )
    assert (await store(conn, other, "four", "d", per_minute=3)).turn is not None


async def test_both_ways_read_the_same_facts(world_tx: World, conn: Any) -> None:
    session = await opened(world_tx)
    first = await store(conn, session, "is it 7?", "c-1")
    again = await store(conn, session, "is it 7?", "c-1")
    here = await database_sync_to_async(admission.facts_here)(session_id=session.pk, client_id="c-1")
    assert here == again.facts and first.turn is not None
    fresh = await database_sync_to_async(admission.facts_here)(session_id=session.pk, client_id="c-2")
    assert fresh == admission.Facts(status=session.status, resent=None, recent=1)


async def test_two_tabs_storing_at_once_take_consecutive_turns(world_tx: World, conn: Any) -> None:
    session = await opened(world_tx)
    second = await reply_locks._connect()
    try:
        results = await asyncio.gather(
            store(conn, session, "from tab one", "tab-1"), store(second, session, "from tab two", "tab-2")
        )
    finally:
        await second.close()
    assert sorted(r.turn.seq for r in results) == [2, 3]
    assert [t.seq for t in await student_turns(session.pk)] == [2, 3]


async def test_a_message_reaches_the_model_without_a_trip_to_the_database_threads(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_postgresql()
    threaded: list[str] = []
    db_call, plan_reply = consumers.db_call, consumers.plan_reply

    def recording_db_call(func: Any, **kwargs: Any) -> Any:
        if kwargs.get("urgency") in (db_threads.ADMIT, db_threads.PLAN):
            threaded.append(func.__name__)
        return db_call(func, **kwargs)

    async def recording_plan_reply(session_id: int, message: str) -> tutoring.PlannedTurn:
        threaded.append("plan_reply")
        return await plan_reply(session_id, message)

    monkeypatch.setattr(consumers, "db_call", recording_db_call)
    monkeypatch.setattr(consumers, "plan_reply", recording_plan_reply)
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await say(tab, "is it 7?", "c-1")
    frames = await until_final(tab)
    assert 'data-client-id="c-1"' in frames[0]  # the acknowledgement comes first
    assert threaded == []
    assert [t.client_message_id for t in await student_turns(session.pk)] == ["c-1"]
    await tab.disconnect()
