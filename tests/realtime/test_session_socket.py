"""The session websocket over the configured channel layer (Redis in CI): delivery, duplicates, limits, roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from tests.integration.conftest import World
from tutor import consumers
from tutor.asgi import application
from tutor.models import Turn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


def _cookie_for(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def open_socket(user: Any, session_id: int) -> WebsocketCommunicator:
    cookie = await database_sync_to_async(_cookie_for)(user)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session_id}/",
        headers=[(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", cookie.encode())],
    )
    connected, code = await communicator.connect(timeout=5)
    assert connected, code
    return communicator


@database_sync_to_async
def stored_turns(session_id: int) -> list[tuple[str, str]]:
    return list(Turn.objects.filter(session_id=session_id).order_by("seq").values_list("role", "text"))


@pytest.fixture(autouse=True)
def _fresh_rate_limit(world_tx: World) -> None:
    for user in (world_tx.student, world_tx.teacher):
        cache.delete(f"rl:ws:{user.pk}")


async def test_a_student_message_is_stored_and_reaches_every_open_tab(world_tx: World) -> None:
    tab1 = await open_socket(world_tx.student, world_tx.session.pk)
    tab2 = await open_socket(world_tx.student, world_tx.session.pk)
    await tab1.send_to(text_data=json.dumps({"message": "Is it 24 muffins?", "client_id": "c-1"}))
    first, second = await tab1.receive_from(timeout=5), await tab2.receive_from(timeout=5)
    assert "Is it 24 muffins?" in first and "Is it 24 muffins?" in second
    assert 'hx-swap-oob="beforeend"' in first
    assert await stored_turns(world_tx.session.pk) == [("student", "Is it 24 muffins?")]
    await tab1.disconnect()
    await tab2.disconnect()


async def test_a_double_send_is_stored_once(world_tx: World) -> None:
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    payload = json.dumps({"message": "24", "client_id": "same-id"})
    await tab.send_to(text_data=payload)
    await tab.receive_from(timeout=5)
    await tab.send_to(text_data=payload)
    assert await tab.receive_nothing(timeout=0.5)
    assert await stored_turns(world_tx.session.pk) == [("student", "24")]
    await tab.disconnect()


async def test_a_teacher_watches_but_cannot_write(world_tx: World) -> None:
    teacher = await open_socket(world_tx.teacher, world_tx.session.pk)
    await teacher.send_to(text_data=json.dumps({"message": "the answer is 12", "client_id": "t-1"}))
    assert "read-only" in await teacher.receive_from(timeout=5)
    student = await open_socket(world_tx.student, world_tx.session.pk)
    await student.send_to(text_data=json.dumps({"message": "10?", "client_id": "s-1"}))
    assert "10?" in await teacher.receive_from(timeout=5)
    assert await stored_turns(world_tx.session.pk) == [("student", "10?")]
    await teacher.disconnect()
    await student.disconnect()


async def test_an_oversized_message_gets_a_notice_and_changes_nothing(world_tx: World) -> None:
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await tab.send_to(text_data=json.dumps({"message": "9" * (consumers.MAX_MESSAGE_CHARS + 1)}))
    assert "too long" in await tab.receive_from(timeout=5)
    assert await stored_turns(world_tx.session.pk) == []
    await tab.disconnect()


async def test_a_frame_that_is_not_json_closes_the_socket(world_tx: World) -> None:
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await tab.send_to(text_data="{not json")
    output = await tab.receive_output(timeout=5)
    assert output == {"type": "websocket.close", "code": consumers.CLOSE_BAD_MESSAGE}
    assert await stored_turns(world_tx.session.pk) == []


async def test_sending_too_fast_is_refused_with_a_visible_notice(world_tx: World) -> None:
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    for i in range(consumers.MESSAGES_PER_MINUTE):
        await tab.send_to(text_data=json.dumps({"message": f"try {i}", "client_id": f"id-{i}"}))
        await tab.receive_from(timeout=5)
    await tab.send_to(text_data=json.dumps({"message": "one more", "client_id": "id-last"}))
    assert "very fast" in await tab.receive_from(timeout=5)
    assert len(await stored_turns(world_tx.session.pk)) == consumers.MESSAGES_PER_MINUTE
    await tab.disconnect()
