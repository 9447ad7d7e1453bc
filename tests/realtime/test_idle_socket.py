"""A session socket on the Redis channel layer outlives the layer's blocking receive wait.

The consumer waits on Redis for group messages in blocking reads of several seconds; a Redis client whose read timeout
is not comfortably longer tears the socket down (close code 1011) whenever a student pauses to think.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from tests.conftest import require
from tests.integration.conftest import World
from tutor import tutoring
from tutor.models import TutoringSession

from .conftest import open_socket, say, until_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]

# Three times channels-redis's blocking receive wait (5 s): a student reading the problem, then answering.
IDLE_SECONDS = 15


@database_sync_to_async
def opened(world: World) -> TutoringSession:
    tutoring.session_open(session=world.session)
    return world.session


async def test_an_idle_socket_stays_open_and_still_gets_the_tutors_reply(world_tx: World, llm_backend: Any) -> None:
    require(bool(settings.REDIS_URL), "REDIS_URL is not set")
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await asyncio.sleep(IDLE_SECONDS)  # the student is thinking; nothing crosses the socket
    # The reply reaches the browser as group messages through Redis, so this proves the socket is alive and subscribed.
    await say(tab, "10", "m1")
    frames = await until_final(tab, timeout=5)
    assert "Adding 4 and 6 mixes trays with muffins" in frames[-1]
    await tab.disconnect()
