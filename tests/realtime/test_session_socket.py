"""The session websocket over the configured channel layer (Redis in CI): whole turns, budgets, duplicates,
reconnects, dropped sockets, limits and roles."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.integration.conftest import World
from tutor import consumers, tutoring
from tutor.models import Turn, TutoringSession

from .conftest import open_socket, say, until_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


@database_sync_to_async
def stored_turns(session_id: int) -> list[tuple[str, str]]:
    return list(Turn.objects.filter(session_id=session_id).order_by("seq").values_list("role", "text"))


@database_sync_to_async
def tutor_turns(session_id: int) -> list[Turn]:
    return list(Turn.objects.filter(session_id=session_id, role="tutor").order_by("seq"))


@database_sync_to_async
def session_row(session_id: int) -> TutoringSession:
    return TutoringSession.objects.get(pk=session_id)


@database_sync_to_async
def opened(world: World) -> TutoringSession:
    """A session the way the page starts it: the tutor has asked the first question."""
    tutoring.session_open(session=world.session)
    return world.session


async def test_a_whole_problem_is_solved_over_the_socket(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await say(tab, "10", "m1")  # the known misconception: trays plus muffins
    frames = await until_final(tab)
    assert "Adding 4 and 6 mixes trays with muffins" in frames[-1]
    await say(tab, "24", "m2")
    await until_final(tab)
    await say(tab, "so it's 12 dollars", "m3")
    final = (await until_final(tab))[-1]
    assert "Solved!" in final and "Next:" in final
    assert "Skills you practised" in final and "Multiplication: 30% →" in final
    assert 'id="mastery-panel"' in final
    row = await session_row(session.pk)
    assert row.status == TutoringSession.Status.SOLVED
    moves = [t.move for t in await tutor_turns(session.pk)]
    assert moves[1] == "probing:misconception_feedback" and moves[-1] == "generic:wrap_up"
    await tab.disconnect()


async def test_the_hint_budget_is_enforced(world_tx: World, llm_backend: Any) -> None:
    await database_sync_to_async(
        lambda: type(world_tx.assignment).objects.filter(pk=world_tx.assignment.pk).update(hints_per_problem=1)
    )()
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await tab.send_to(text_data=json.dumps({"action": "hint", "client_id": "h1"}))
    first = (await until_final(tab))[-1]
    assert "no hints left" in first
    await tab.send_to(text_data=json.dumps({"action": "hint", "client_id": "h2"}))
    await until_final(tab)
    turns = await tutor_turns(session.pk)
    assert [t.plan["hint_spent"] for t in turns[1:]] == [True, False]
    assert turns[-1].plan["sub_kind"] != "hint"
    assert (await session_row(session.pk)).hints_used == 1
    await tab.disconnect()


async def test_a_student_message_reaches_every_open_tab(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    tab1 = await open_socket(world_tx.student, session.pk)
    tab2 = await open_socket(world_tx.student, session.pk)
    await say(tab1, "Is it 24 muffins?", "c-1")
    first, second = await until_final(tab1), await until_final(tab2)
    assert "Is it 24 muffins?" in first[0] and "Is it 24 muffins?" in second[0]
    assert first[-1].count("data-seq") == second[-1].count("data-seq") == 1
    await tab1.disconnect()
    await tab2.disconnect()


async def test_a_double_send_is_stored_once(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await say(tab, "24", "same-id")
    await until_final(tab)
    await say(tab, "24", "same-id")
    assert 'data-client-id="same-id"' in await tab.receive_from(timeout=5)  # acknowledged again, not answered again
    assert await tab.receive_nothing(timeout=0.5)
    assert [r for r, _ in await stored_turns(session.pk)] == ["tutor", "student", "tutor"]
    await tab.disconnect()


async def test_a_reconnecting_page_receives_the_turns_it_missed(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    phone = await open_socket(world_tx.student, session.pk)
    await phone.disconnect()
    laptop = await open_socket(world_tx.student, session.pk)
    await say(laptop, "24", "l1")
    await until_final(laptop)
    phone = await open_socket(world_tx.student, session.pk)
    await phone.send_to(text_data=json.dumps({"type": "sync", "after": 1}))
    missed = await phone.receive_from(timeout=5)
    assert 'data-seq="2"' in missed and 'data-seq="3"' in missed and 'data-seq="1"' not in missed
    await phone.send_to(text_data=json.dumps({"type": "sync", "after": 3}))
    assert await phone.receive_nothing(timeout=0.3)
    await phone.disconnect()
    await laptop.disconnect()


async def test_a_reply_under_way_when_the_socket_drops_is_still_stored(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await say(tab, "24", "d1")
    await tab.receive_from(timeout=5)  # the student's own turn, stored before the reply starts
    await tab.disconnect()
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=20)
    assert [r for r, _ in await stored_turns(session.pk)] == ["tutor", "student", "tutor"]


async def test_a_teacher_watches_but_cannot_write(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    teacher = await open_socket(world_tx.teacher, session.pk)
    await say(teacher, "the answer is 12", "t-1")
    assert "read-only" in await teacher.receive_from(timeout=5)
    student = await open_socket(world_tx.student, session.pk)
    await say(student, "10?", "s-1")
    watched = await until_final(teacher)
    assert "10?" in watched[0] and "Student" in watched[0]
    assert [r for r, _ in await stored_turns(session.pk)] == ["tutor", "student", "tutor"]
    await teacher.disconnect()
    await student.disconnect()


async def test_an_oversized_message_gets_a_notice_and_changes_nothing(world_tx: World, llm_backend: Any) -> None:
    before = await stored_turns(world_tx.session.pk)
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await say(tab, "9" * (consumers.MAX_MESSAGE_CHARS + 1), "big")
    assert "too long" in await tab.receive_from(timeout=5)
    assert await stored_turns(world_tx.session.pk) == before
    await tab.disconnect()


async def test_a_frame_that_is_not_json_closes_the_socket(world_tx: World, llm_backend: Any) -> None:
    before = await stored_turns(world_tx.session.pk)
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await tab.send_to(text_data="{not json")
    output = await tab.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": consumers.CLOSE_BAD_MESSAGE}
    assert await stored_turns(world_tx.session.pk) == before


async def test_sending_too_fast_is_refused_with_a_visible_notice(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "MESSAGES_PER_MINUTE", 3)
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    for i in range(consumers.MESSAGES_PER_MINUTE):
        await say(tab, f"try {i}", f"id-{i}")
        await until_final(tab)
    await say(tab, "one more", "id-last")
    assert "very fast" in await tab.receive_from(timeout=5)
    students = [r for r, _ in await stored_turns(world_tx.session.pk) if r == "student"]
    assert len(students) == consumers.MESSAGES_PER_MINUTE
    await tab.disconnect()


async def test_a_solved_problem_takes_the_reflection_but_a_stopped_one_takes_nothing(
    world_tx: World, llm_backend: Any
) -> None:
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    for answer, cid in (("24", "a"), ("12", "b")):
        await say(tab, answer, cid)
        await until_final(tab)
    await say(tab, "The first step, counting the muffins.", "reflect")
    await until_final(tab)
    turns = await tutor_turns(session.pk)
    assert turns[-1].move == "generic:acknowledge_reflection"
    await database_sync_to_async(lambda: TutoringSession.objects.filter(pk=session.pk).update(status="abandoned"))()
    before = await stored_turns(session.pk)
    await say(tab, "12", "late")
    assert "stopped" in await tab.receive_from(timeout=5)
    assert await stored_turns(session.pk) == before
    await tab.disconnect()


async def test_a_socket_stops_receiving_once_its_viewer_loses_access(world_tx: World, llm_backend: Any) -> None:
    session = await opened(world_tx)
    teacher = await open_socket(world_tx.teacher, session.pk)
    student = await open_socket(world_tx.student, session.pk)
    await database_sync_to_async(
        lambda: type(world_tx.teacher).objects.filter(pk=world_tx.teacher.pk).update(is_active=False)
    )()
    await say(student, "24", "after-deactivation")
    assert await teacher.receive_output(timeout=5) == {"type": "websocket.close", "code": consumers.CLOSE_FORBIDDEN}
    await until_final(student)
    await student.disconnect()
