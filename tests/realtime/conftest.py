from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.conftest import require
from tests.integration.conftest import World, build_world
from tutor import consumers, reply_locks
from tutor.asgi import application
from tutor.llm import tutor_llm


@pytest.fixture
def world_tx(transactional_db: None) -> World:
    return build_world()


@pytest.fixture
async def lock_connection(world_tx: World) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    """Opens connections like a reply's lock connection (tutor/reply_locks.py; PostgreSQL only), each closed at the
    end of the test."""
    require(connection.vendor == "postgresql", "lock connections are PostgreSQL's (DATABASE_URL)")
    opened: list[Any] = []

    async def open_one() -> Any:
        opened.append(await reply_locks._connect())
        return opened[-1]

    yield open_one
    for conn in opened:
        await conn.close()


@pytest.fixture
def llm_backend(settings: Any) -> Iterator[Any]:
    """Choose the tutor model backend for a test; the process-wide backend is rebuilt around it."""

    def use(name: str, url: str = "") -> None:
        settings.TUTOR_LLM_BACKEND = name
        settings.TUTOR_LLM_URL = url
        settings.TUTOR_LLM_MODEL = "tutor" if name == "openai" else ""
        tutor_llm.cache_clear()

    use("none")
    yield use
    tutor_llm.cache_clear()


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


async def say(tab: WebsocketCommunicator, text: str, client_id: str, **extra: Any) -> None:
    await tab.send_to(text_data=json.dumps({"message": text, "client_id": client_id, **extra}))


async def until_final(tab: WebsocketCommunicator, timeout: float = 20) -> list[str]:
    """Every frame up to and including the one that delivers the tutor's finished reply."""
    frames = []
    while True:
        frame = await tab.receive_from(timeout=timeout)
        frames.append(frame)
        if 'id="announcer"' in frame or "could not answer" in frame:
            return frames


@pytest.fixture(autouse=True)
async def _close_kept_lock_connections() -> AsyncIterator[None]:
    """Close the reply-lock connections kept for later replies once the test's replies are done: they belong to the
    test's event loop, and an open one keeps the test database from being dropped at the end of the run."""
    yield
    await consumers.replies_in_flight()
    await reply_locks.close_kept()
    # Sockets a test left open went with its event loop: the next test's process has no writer connected yet.
    reply_locks._writers = 0
