"""A message's way to the model is one query on its reply's lock connection: the reply declared owed, the message
checked and stored, the session's turn taken and what the plan needs read (tutor/message_trip.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from channels.db import database_sync_to_async

from tests.integration.conftest import World
from tutor import consumers, message_trip, reply_locks, tutoring
from tutor.models import Turn, TutoringSession
from tutor.opened_stream import OpenedStream

from .conftest import open_socket, say, until_final
from .test_session_lock import on_postgresql, opened

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


@pytest.fixture
async def conn(lock_connection: Any) -> Any:
    return await lock_connection()


@pytest.fixture
async def other_worker(lock_connection: Any) -> Any:
    """A connection of another server process."""
    return await lock_connection()


async def trip(conn: Any, session: TutoringSession, client_id: str, *, with_turn: bool = True) -> message_trip.Trip:
    return await message_trip.send(
        conn, session=session, client_id=client_id, text="is it 7?", per_minute=20, with_turn=with_turn
    )


async def free_for(other_worker: Any, session_id: int, key: int) -> bool:
    """Whether another process could take the lock exclusively now (it lets go at once if it could)."""
    if await reply_locks._ask(other_worker, "pg_try_advisory_lock", key, session_id):
        await reply_locks._ask(other_worker, "pg_advisory_unlock", key, session_id)
        return True
    return False


@database_sync_to_async
def turn_count() -> int:
    return Turn.objects.count()


async def test_one_query_stores_the_message_holds_both_locks_and_reads_the_plan_after_it(
    world_tx: World, conn: Any, other_worker: Any
) -> None:
    session = await opened(world_tx)
    sent = await trip(conn, session, "c-1")
    assert sent.admitted.turn is not None and sent.turn_locked
    assert not await free_for(other_worker, session.pk, reply_locks.OWED_KEY)
    assert not await free_for(other_worker, session.pk, reply_locks.TURN_KEY)
    # What it read is what planning reads now, from another connection: the message just stored included.
    cursor = await other_worker.execute(tutoring.planning_sql(), tutoring.planning_values(session.pk))
    assert sent.planning_row == await cursor.fetchone()
    assert '"is it 7?"' in sent.planning_row[9]


async def test_with_the_turn_held_by_another_process_the_message_is_stored_and_no_plan_is_read(
    world_tx: World, conn: Any, other_worker: Any
) -> None:
    session = await opened(world_tx)
    assert await reply_locks._ask(other_worker, "pg_try_advisory_lock", reply_locks.TURN_KEY, session.pk)
    sent = await trip(conn, session, "c-1")
    assert sent.admitted.turn is not None
    assert not sent.turn_locked and sent.planning_row is None


async def test_a_refused_message_reads_no_plan_and_its_released_claim_holds_nothing(
    world_tx: World, other_worker: Any
) -> None:
    on_postgresql()
    session = await opened(world_tx)
    await database_sync_to_async(TutoringSession.objects.filter(pk=session.pk).update, thread_sensitive=True)(
        status=TutoringSession.Status.ABANDONED
    )
    claim = await reply_locks.claim_reply(session.pk, ask_now=False)
    assert await claim.take_turn_if_free()
    sent = await trip(claim.connection, session, "c-1")
    assert sent.admitted.turn is None and sent.planning_row is None
    await claim.release()
    assert not reply_locks.session_turn_lock(session.pk).locked()
    assert await free_for(other_worker, session.pk, reply_locks.OWED_KEY)
    assert await free_for(other_worker, session.pk, reply_locks.TURN_KEY)
    await reply_locks.close_kept()


async def test_the_turn_is_taken_ahead_only_when_no_reply_of_the_process_holds_or_awaits_it(world_tx: World) -> None:
    on_postgresql()
    session = await opened(world_tx)
    first = await reply_locks.claim_reply(session.pk, ask_now=False)
    second = await reply_locks.claim_reply(session.pk, ask_now=False)
    try:
        assert await first.take_turn_if_free()
        assert not await second.take_turn_if_free()
        async with first.turn():
            waiting = asyncio.create_task(_turn_of(second))
            await asyncio.sleep(0.05)
            assert not waiting.done()  # the second reply waits for the first's turn
        await asyncio.wait_for(waiting, timeout=5)
        assert not reply_locks.session_turn_lock(session.pk).locked()
    finally:
        await first.release()
        await second.release()
        await reply_locks.close_kept()


async def _turn_of(claim: reply_locks.ReplyClaim) -> None:
    async with claim.turn():
        pass


async def test_the_warm_up_stores_nothing_and_holds_no_lock(world_tx: World, conn: Any) -> None:
    await opened(world_tx)
    before = await turn_count()
    await message_trip.warm_up(conn)
    assert await turn_count() == before
    cursor = await conn.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
    assert await cursor.fetchone() == (0,)


async def test_a_message_reaches_the_model_after_one_query_on_its_lock_connection(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_postgresql()
    queries: list[str] = []
    asked_after: list[int] = []
    execute, start = psycopg.AsyncCursor.execute, OpenedStream.open

    async def counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        queries.append(str(query))
        return await execute(self, query, *args, **kwargs)

    async def recorded_start(llm: Any, messages: Any, **options: Any) -> Any:
        asked_after.append(len(queries))
        return await start(llm, messages, **options)

    monkeypatch.setattr(psycopg.AsyncCursor, "execute", counted_execute)
    monkeypatch.setattr(OpenedStream, "open", staticmethod(recorded_start))
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=10)  # the lock connection opened (and warmed) ahead
    queries.clear()
    await say(tab, "is it 7?", "c-1")
    await until_final(tab)
    assert asked_after == [1]
    assert "pg_advisory_lock_shared" in queries[0] and "INSERT INTO" in queries[0]
    await tab.disconnect()
