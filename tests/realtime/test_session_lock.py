"""One reply at a time per session across every server process, and no student turn left without a reply.

A second server process is simulated the way one differs from this one: its in-process locks are its own (each reply
gets a fresh one here), so only what the database shares between processes can keep two replies apart.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.db import connection

from tests.conftest import require
from tests.integration.conftest import World
from tests.standin_vllm import Request, _draft, chunk, delta, sse, start_sse
from tutor import consumers, reply_locks, services, tutoring
from tutor.models import Turn, TutoringSession

from .conftest import open_socket, say, until_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


def slow_paraphrase(pause: float = 0.05) -> Any:
    """A model server that says the plan's draft, word by word, slowly enough for two replies to overlap."""

    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_sse(writer)
        for word in _draft(request.body["messages"]).split(" "):  # type: ignore[arg-type]
            writer.write(chunk(sse(delta(word + " "))))
            await writer.drain()
            await asyncio.sleep(pause)
        writer.write(chunk(sse(delta("", "stop")) + b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()

    return respond


class NobodyHere(collections.Counter[int]):
    """This process's count of replies holding or awaiting a session's turn, as each reply of a test sees it when
    it stands for a process of its own: none."""

    def __getitem__(self, session_id: int) -> int:
        return 0


def on_postgresql() -> None:
    require(connection.vendor == "postgresql", "locks across processes are PostgreSQL's (DATABASE_URL)")


def counting_lock_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The lock connections this process opens from now on, as they are opened."""
    opened_connections: list[Any] = []
    connect = reply_locks._connect

    async def counted_connect() -> Any:
        conn = await connect()
        opened_connections.append(conn)
        return conn

    monkeypatch.setattr(reply_locks, "_connect", counted_connect)
    return opened_connections


@database_sync_to_async
def opened(world: World) -> TutoringSession:
    tutoring.session_open(session=world.session)
    return world.session


@database_sync_to_async
def left_unanswered(session: TutoringSession, text: str) -> None:
    """A student turn stored by a worker that was stopped before the tutor's reply was."""
    services.turn_append(session=session, role=Turn.Role.STUDENT, text=text, client_message_id="left")


@database_sync_to_async
def stored_roles(session_id: int) -> list[str]:
    return list(Turn.objects.filter(session_id=session_id).order_by("seq").values_list("role", flat=True))


@database_sync_to_async
def tutor_turns(session_id: int) -> list[Turn]:
    return list(Turn.objects.filter(session_id=session_id, role=Turn.Role.TUTOR).order_by("seq"))


@database_sync_to_async
def session_row(session_id: int) -> TutoringSession:
    return TutoringSession.objects.get(pk=session_id)


async def test_replies_from_two_processes_are_each_planned_from_the_state_the_other_stored(
    world_tx: World, llm_backend: Any, serve: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_postgresql()
    server = await serve(slow_paraphrase())
    llm_backend("openai", server.url)
    settings.TUTOR_LLM_PROMPT_MODE = "paraphrase"  # the model is given the draft it says
    # Each reply as if on a worker of its own: no in-process lock is shared between them, and each takes what it
    # sees as its process's turn lock ahead, asking for the server's in its message's query.
    monkeypatch.setattr(reply_locks, "session_turn_lock", lambda session_id: asyncio.Lock())
    monkeypatch.setattr(reply_locks, "_TURN_USERS", NobodyHere())
    planned_from: list[int] = []
    plan = consumers.SessionConsumer.plan

    async def recording_plan(self: Any, conn: Any, session_id: int, message: str, trip: Any) -> tutoring.PlannedTurn:
        planned = await plan(self, conn, session_id, message, trip)
        planned_from.append(planned.based_on_turns)
        return planned

    monkeypatch.setattr(consumers.SessionConsumer, "plan", recording_plan)
    session = await opened(world_tx)
    tab1 = await open_socket(world_tx.student, session.pk)
    tab2 = await open_socket(world_tx.student, session.pk)
    await say(tab1, "Can I have a hint?", "tab1")
    await say(tab2, "Can I have a hint?", "tab2")
    for _ in range(2):  # every tab sees both replies
        await until_final(tab1)
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=30)
    assert sorted(planned_from) == [1, 2]  # the second planned after the first was stored, not from the same state
    replies = (await tutor_turns(session.pk))[1:]
    # Neither model reply was thrown away for having answered a state that had moved on.
    assert [t.guard_verdict["source"] for t in replies] == ["model", "model"]
    assert [t.backend for t in replies] == ["openai:tutor", "openai:tutor"]
    row = await session_row(session.pk)
    assert row.dialogue_state["turns"] == 3  # opening and two replies: neither state was written over the other
    assert row.hints_used == row.dialogue_state["hints_used"] == 2
    assert replies[0].plan["hint"] != replies[1].plan["hint"]  # the second reply gave the next rung of the ladder
    await tab1.disconnect()
    await tab2.disconnect()


async def test_a_student_turn_left_without_a_reply_is_answered_when_the_session_is_opened(
    world_tx: World, llm_backend: Any
) -> None:
    session = await opened(world_tx)
    await left_unanswered(session, "24")
    tab = await open_socket(world_tx.student, session.pk)
    frames = await until_final(tab)
    assert "pending-2" in frames[0]  # the reply to turn 2 comes as any reply does
    assert await stored_roles(session.pk) == ["tutor", "student", "tutor"]
    assert (await tutor_turns(session.pk))[-1].plan["outcomes"]  # it answered "24": the first step is resolved
    await tab.disconnect()
    again = await open_socket(world_tx.student, session.pk)
    assert await again.receive_nothing(timeout=0.5)
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=20)
    assert await stored_roles(session.pk) == ["tutor", "student", "tutor"]  # answered once
    await again.disconnect()


async def test_a_turn_whose_reply_another_process_owes_is_left_to_it_until_that_process_is_gone(
    world_tx: World, llm_backend: Any
) -> None:
    on_postgresql()
    session = await opened(world_tx)
    await left_unanswered(session, "24")
    # Another worker has stored the turn and is replying: it holds the session's reply as owed on its connection.
    other_worker = await reply_locks._connect()
    await reply_locks._ask(other_worker, "pg_advisory_lock_shared", reply_locks.OWED_KEY, session.pk)
    tab = await open_socket(world_tx.student, session.pk)
    assert await tab.receive_nothing(timeout=0.5)
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=20)
    assert await stored_roles(session.pk) == ["tutor", "student"]
    await tab.disconnect()
    await other_worker.close()  # the worker is stopped: its connection and what it held go with it
    tab = await open_socket(world_tx.student, session.pk)
    await until_final(tab)
    assert await stored_roles(session.pk) == ["tutor", "student", "tutor"]
    await tab.disconnect()


async def test_a_watching_teacher_does_not_answer_for_the_tutor(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    await left_unanswered(session, "24")
    teacher = await open_socket(world_tx.teacher, session.pk)
    assert await teacher.receive_nothing(timeout=0.5)
    assert await stored_roles(session.pk) == ["tutor", "student"]
    await teacher.disconnect()


async def test_replies_reuse_their_lock_connections_and_leave_no_lock_behind(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of messages does not make PostgreSQL start a process per reply; a kept connection holds nothing."""
    on_postgresql()
    session = await opened(world_tx)
    opened_connections = counting_lock_connections(monkeypatch)
    tab = await open_socket(world_tx.student, session.pk)
    for n in range(3):
        await say(tab, "I'm not sure", f"reuse-{n}")
        await until_final(tab)
        await asyncio.wait_for(consumers.replies_in_flight(), timeout=20)
    assert len(opened_connections) == 1
    # Another worker can take the session's locks exclusively: the kept connection let go of all of them.
    other_worker = await reply_locks._connect()
    for key in (reply_locks.OWED_KEY, reply_locks.TURN_KEY):
        assert await reply_locks._ask(other_worker, "pg_try_advisory_lock", key, session.pk)
    await other_worker.close()
    await tab.disconnect()


async def test_a_writers_socket_opens_its_lock_connection_before_the_student_writes(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a class's burst of messages no message waits for PostgreSQL to start a process for its locks: the
    connection is opened when the page connects (a watching teacher's page opens none)."""
    on_postgresql()
    session = await opened(world_tx)
    opened_connections = counting_lock_connections(monkeypatch)
    monkeypatch.setattr(reply_locks, "_writers", 0)  # a process with no socket yet
    teacher = await open_socket(world_tx.teacher, session.pk)
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=10)
    assert opened_connections == []
    tab = await open_socket(world_tx.student, session.pk)
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=10)
    assert len(opened_connections) == 1
    await say(tab, "I'm not sure", "ahead-1")
    await until_final(tab)
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=20)
    assert len(opened_connections) == 1
    await tab.disconnect()
    # No socket of this process may write any more: nothing is held open for sockets that may never come.
    assert all(conn.closed for conn in opened_connections)
    await teacher.disconnect()


async def test_connections_opened_ahead_stay_within_those_kept(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    on_postgresql()
    settings.TUTOR_REPLY_LOCK_CONNECTIONS = 2
    session = await opened(world_tx)
    opened_connections = counting_lock_connections(monkeypatch)
    tabs = [await open_socket(world_tx.student, session.pk) for _ in range(4)]
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=10)
    assert len(opened_connections) == 2
    for tab in tabs:
        await tab.disconnect()


async def test_replies_past_the_connections_a_process_may_hold_share_them_each_under_its_own_locks(
    world_tx: World, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """A class larger than ``TUTOR_REPLY_LOCK_CONNECTIONS`` still replies under the locks every process sees."""
    on_postgresql()
    settings.TUTOR_REPLY_LOCK_CONNECTIONS = 2
    other_worker = await reply_locks._connect()
    opened_connections = counting_lock_connections(monkeypatch)
    sessions = [910_001, 910_002, 910_003, 910_004]  # locks are keyed by id alone
    claims = [await reply_locks.claim_reply(session_id) for session_id in sessions]
    try:
        assert len(opened_connections) == 2
        assert len({id(claim.connection) for claim in claims}) == 2
        for session_id in sessions:
            assert not await reply_locks._ask(other_worker, "pg_try_advisory_lock", reply_locks.OWED_KEY, session_id)
        # One claim done on a shared connection lets go of its own session's lock alone.
        await claims[2].release()
        assert await reply_locks._ask(other_worker, "pg_try_advisory_lock", reply_locks.OWED_KEY, sessions[2])
        await reply_locks._ask(other_worker, "pg_advisory_unlock", reply_locks.OWED_KEY, sessions[2])
        for session_id in (sessions[0], sessions[1], sessions[3]):
            assert not await reply_locks._ask(other_worker, "pg_try_advisory_lock", reply_locks.OWED_KEY, session_id)
    finally:
        for claim in claims:
            await claim.release()
    for session_id in sessions:
        assert await reply_locks._ask(other_worker, "pg_try_advisory_lock", reply_locks.OWED_KEY, session_id)
    await other_worker.close()
    await reply_locks.close_kept()


async def test_a_claim_the_server_refuses_a_connection_for_shares_one_rather_than_go_without(
    world_tx: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_postgresql()
    other_worker = await reply_locks._connect()
    first = await reply_locks.claim_reply(920_001)

    async def refused() -> Any:
        raise psycopg.OperationalError("FATAL:  sorry, too many clients already")

    monkeypatch.setattr(reply_locks, "_connect", refused)  # past the server's max_connections
    second = await reply_locks.claim_reply(920_002)
    assert second.connection is not None and second.connection is first.connection
    assert not await reply_locks._ask(other_worker, "pg_try_advisory_lock", reply_locks.OWED_KEY, 920_002)
    await first.release()
    await second.release()
    assert await reply_locks._ask(other_worker, "pg_try_advisory_lock", reply_locks.OWED_KEY, 920_002)
    await other_worker.close()
    await reply_locks.close_kept()


async def test_two_students_replies_on_one_shared_connection_both_arrive(
    world_tx: World, llm_backend: Any, serve: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_postgresql()
    settings.TUTOR_REPLY_LOCK_CONNECTIONS = 1
    settings.TUTOR_LLM_PROMPT_MODE = "paraphrase"  # the model is given the draft it says
    server = await serve(slow_paraphrase(0.02))
    llm_backend("openai", server.url)
    opened_connections = counting_lock_connections(monkeypatch)
    first, second = await opened(world_tx), await database_sync_to_async(_opened_other)(world_tx)
    tabs = [await open_socket(world_tx.student, first.pk), await open_socket(world_tx.other_student, second.pk)]
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=10)
    await asyncio.gather(say(tabs[0], "Can I have a hint?", "a-1"), say(tabs[1], "Can I have a hint?", "b-1"))
    await asyncio.gather(*(until_final(tab) for tab in tabs))
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=20)
    assert len(opened_connections) == 1
    for session in (first, second):
        assert await stored_roles(session.pk) == ["tutor", "student", "tutor"]
        assert [t.guard_verdict["source"] for t in await tutor_turns(session.pk)][1:] == ["model"]
    for tab in tabs:
        await tab.disconnect()


def _opened_other(world: World) -> TutoringSession:
    tutoring.session_open(session=world.other_session)
    return world.other_session
