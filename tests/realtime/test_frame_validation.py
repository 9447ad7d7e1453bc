"""Every frame the session socket receives is checked in full before anything acts on it.

A frame the page never sends (not a flat JSON object of known keys and types, numbers JSON does not allow, NUL
characters, lone surrogates, nesting) closes the socket with 4400 and stores nothing; a mistake a student can make
(an empty or overlong message) gets a notice naming the message. The socket only opens for pages of this site:
scheme, host and port of the Origin must match the site or a trusted origin.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from tests.integration.conftest import World
from tutor import consumers
from tutor.asgi import application
from tutor.models import Turn

from .conftest import _cookie_for, open_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


@database_sync_to_async
def stored_turns(session_id: int) -> list[tuple[str, str, str | None]]:
    rows = Turn.objects.filter(session_id=session_id).order_by("seq")
    return list(rows.values_list("role", "text", "client_message_id"))


async def refused_with_4400(world: World, frame: str) -> None:
    """Send one raw frame; the socket must close with 4400 and the transcript must not change."""
    before = await stored_turns(world.session.pk)
    tab = await open_socket(world.student, world.session.pk)
    await tab.send_to(text_data=frame)
    assert await tab.receive_output(timeout=5) == {"type": "websocket.close", "code": consumers.CLOSE_BAD_MESSAGE}
    await tab.disconnect()
    assert await stored_turns(world.session.pk) == before


MALFORMED_FRAMES = {
    "a NUL in the message": json.dumps({"message": "12\x00", "client_id": "nul"}),
    "a lone surrogate in the message": json.dumps({"message": "12 \ud83d", "client_id": "surrogate"}),
    "a NUL in the client id": json.dumps({"message": "12", "client_id": "a\x00b"}),
    "Infinity as the sync point": '{"type": "sync", "after": Infinity}',
    "-Infinity as the sync point": '{"type": "sync", "after": -Infinity}',
    "NaN as the sync point": '{"type": "sync", "after": NaN}',
    "a 5,000-digit sync point": '{"type": "sync", "after": ' + "9" * 5000 + "}",
    "a fraction as the sync point": '{"type": "sync", "after": 1.5}',
    "a boolean as the sync point": '{"type": "sync", "after": true}',
    "a negative sync point": '{"type": "sync", "after": -1}',
    "a sync point beyond any turn number": '{"type": "sync", "after": 99999999999}',
    "deeply nested arrays": "[" * 5000 + "]" * 5000,
    "a deeply nested message": '{"message": ' + "[" * 3000 + "]" * 3000 + ', "client_id": "deep"}',
    "an object as the message": json.dumps({"message": {"text": "12"}, "client_id": "obj"}),
    "a list as the message": json.dumps({"message": ["12"], "client_id": "list"}),
    "a number as the message": json.dumps({"message": 12, "client_id": "num"}),
    "null as the message": json.dumps({"message": None, "client_id": "null"}),
    "a number as the client id": json.dumps({"message": "12", "client_id": 7}),
    "an object as the client id": json.dumps({"message": "12", "client_id": {"a": 1}}),
    "a client id with spaces": json.dumps({"message": "12", "client_id": "a b"}),
    "an overlong client id": json.dumps({"message": "12", "client_id": "x" * 65}),
    "no client id": json.dumps({"message": "12"}),
    "an unknown key": json.dumps({"message": "12", "client_id": "k", "HEADERS": {}}),
    "an unknown action": json.dumps({"action": "reveal", "client_id": "act"}),
    "a message and an action at once": json.dumps({"message": "12", "action": "hint", "client_id": "both"}),
    "an unknown frame type": json.dumps({"type": "delete", "client_id": "t"}),
    "a duplicated key": '{"message": "12", "message": "13", "client_id": "dup"}',
    "a sync with extra keys": json.dumps({"type": "sync", "after": 0, "message": "12"}),
    "a bare string": json.dumps("12"),
    "an array": json.dumps(["12"]),
    "not JSON": "{not json",
    "only whitespace": " \n ",
}


@pytest.mark.parametrize("frame", MALFORMED_FRAMES.values(), ids=MALFORMED_FRAMES.keys())
async def test_a_malformed_frame_closes_the_socket_and_stores_nothing(
    world_tx: World, llm_backend: Any, frame: str
) -> None:
    await refused_with_4400(world_tx, frame)


async def test_a_binary_frame_closes_the_socket(world_tx: World, llm_backend: Any) -> None:
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await tab.send_to(bytes_data=b'{"message": "12", "client_id": "bin"}')
    assert await tab.receive_output(timeout=5) == {"type": "websocket.close", "code": consumers.CLOSE_BAD_MESSAGE}
    await tab.disconnect()


@pytest.mark.parametrize(
    ("message", "notice"),
    [("   ", "Type a message first."), ("9" * (consumers.MAX_MESSAGE_CHARS + 1), "too long")],
    ids=["blank", "too long"],
)
async def test_a_students_mistake_gets_a_notice_naming_the_message(
    world_tx: World, llm_backend: Any, message: str, notice: str
) -> None:
    before = await stored_turns(world_tx.session.pk)
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await tab.send_to(text_data=json.dumps({"message": message, "client_id": "mistake-1"}))
    frame = await tab.receive_from(timeout=5)
    assert notice in frame and 'data-refused="mistake-1"' in frame
    await tab.send_to(text_data=json.dumps({"type": "sync", "after": 0}))
    assert 'data-seq="1"' in await tab.receive_from(timeout=5)  # still open
    await tab.disconnect()
    assert await stored_turns(world_tx.session.pk) == before


async def test_a_valid_message_is_stored_as_the_text_it_was(world_tx: World, llm_backend: Any) -> None:
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await tab.send_to(text_data=json.dumps({"message": "  $\\frac{1}{2}$ of 24 \U0001f600\n", "client_id": "ok-1"}))
    assert 'data-client-id="ok-1"' in await tab.receive_from(timeout=5)
    await consumers.replies_in_flight()
    await tab.disconnect()
    student = [(text, cid) for role, text, cid in await stored_turns(world_tx.session.pk) if role == "student"]
    assert student == [("$\\frac{1}{2}$ of 24 \U0001f600", "ok-1")]


# -- the Origin check ----------------------------------------------------------------------------------------


async def connects(world: World, headers: list[tuple[bytes, bytes]], scheme: str | None = None) -> bool:
    cookie = await database_sync_to_async(_cookie_for)(world.student)
    communicator = WebsocketCommunicator(
        application, f"/ws/sessions/{world.session.pk}/", headers=[*headers, (b"cookie", cookie.encode())]
    )
    if scheme is not None:
        communicator.scope["scheme"] = scheme
    connected, _ = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return connected


@pytest.mark.parametrize(
    ("origin", "host", "accepted"),
    [
        (b"http://localhost", b"localhost", True),
        (b"http://localhost:8000", b"localhost:8000", True),
        (b"http://LOCALHOST:80", b"localhost", True),
        (b"https://localhost", b"localhost", False),
        (b"http://localhost:9999", b"localhost", False),
        (b"http://localhost", b"localhost:8000", False),
        (b"http://evil.example", b"localhost", False),
        (b"http://evil.example", b"evil.example", False),
        (b"null", b"localhost", False),
        (b"javascript:alert(1)//localhost", b"localhost", False),
        (b"http://localhost:99999", b"localhost", False),
    ],
)
async def test_only_this_sites_own_origin_may_open_the_socket(
    world_tx: World, origin: bytes, host: bytes, accepted: bool
) -> None:
    assert await connects(world_tx, [(b"origin", origin), (b"host", host)]) is accepted


async def test_a_socket_without_an_origin_is_refused(world_tx: World) -> None:
    assert not await connects(world_tx, [(b"host", b"localhost")])


async def test_a_secure_socket_needs_an_https_origin(world_tx: World) -> None:
    assert await connects(world_tx, [(b"origin", b"https://localhost"), (b"host", b"localhost")], scheme="wss")
    assert not await connects(world_tx, [(b"origin", b"http://localhost"), (b"host", b"localhost")], scheme="wss")


async def test_a_trusted_origin_matches_on_scheme_host_and_port(world_tx: World, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["tutor.example.org"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://tutor.example.org", "https://*.school.example"]
    host = [(b"host", b"tutor.example.org")]
    assert await connects(world_tx, [(b"origin", b"https://tutor.example.org"), *host])
    assert await connects(world_tx, [(b"origin", b"https://maths.school.example"), *host])
    assert not await connects(world_tx, [(b"origin", b"https://tutor.example.org:8443"), *host])
    assert not await connects(world_tx, [(b"origin", b"http://maths.school.example"), *host])
    assert not await connects(world_tx, [(b"origin", b"https://school.example.evil"), *host])
    assert not await connects(world_tx, [(b"origin", b"https://tutor.example.org"), (b"host", b"localhost")])


async def test_behind_a_tls_proxy_the_forwarded_scheme_decides(world_tx: World, settings: Any) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    host = (b"host", b"localhost")
    assert await connects(world_tx, [(b"origin", b"https://localhost"), host, (b"x-forwarded-proto", b"https")])
    assert not await connects(world_tx, [(b"origin", b"http://localhost"), host, (b"x-forwarded-proto", b"https")])
    assert not await connects(world_tx, [(b"origin", b"https://localhost"), host, (b"x-forwarded-proto", b"http")])


async def test_two_origin_headers_are_refused(world_tx: World) -> None:
    origins = [(b"origin", b"http://evil.example"), (b"origin", b"http://localhost")]
    assert not await connects(world_tx, [*origins, (b"host", b"localhost")])
