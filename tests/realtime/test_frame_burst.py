"""A burst of replies across many sessions reaches every socket: no frame is dropped by the channel layer.

Every socket of a server process receives through one Redis queue of that process, so two hundred replies streaming
at once pile thousands of frames into it. Past the layer's capacity, channels-redis drops them without a word, and a
student's finished reply never arrives.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from tests.conftest import require
from tests.integration.conftest import World
from tutor import tutoring
from tutor.consumers import session_group
from tutor.models import Enrollment, Turn, User

from .conftest import open_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]

REPLIES = 200
TOKENS_PER_REPLY = 20  # a streamed reply: its growing text, flushed every 50 ms, then the stored reply


@database_sync_to_async
def students_with_sessions(world: World, count: int) -> list[tuple[User, int, int]]:
    """``count`` students of the class, each with an opened session: (student, session id, opening turn id)."""
    out = []
    for i in range(count):
        student = User.objects.create_user(username=f"burst-{i}", password=None, role=User.Role.STUDENT)
        Enrollment.objects.create(classroom=world.classroom, student=student)
        session, _ = tutoring.session_begin(student=student, problem=world.problem, assignment=world.assignment)
        tutoring.session_open(session=session)
        opening = Turn.objects.filter(session=session, role=Turn.Role.TUTOR).order_by("seq").first()
        assert opening is not None
        out.append((student, session.pk, opening.pk))
    return out


async def stream_reply(layer: Any, session_id: int, turn_id: int) -> None:
    group, bubble = session_group(session_id), f"pending-burst-{session_id}"
    await layer.group_send(group, {"type": "reply.start", "bubble": bubble})
    for n in range(1, TOKENS_PER_REPLY + 1):
        await layer.group_send(group, {"type": "reply.token", "bubble": bubble, "text": "word " * n})
    await layer.group_send(group, {"type": "reply.final", "bubble": bubble, "turn_id": turn_id})


async def until_reply_final(tab: Any, timeout: float) -> int:
    """Frames received up to the finished reply (a TimeoutError if it never comes)."""
    frames = 0
    while True:
        frame = await tab.receive_from(timeout=timeout)
        frames += 1
        if 'id="announcer"' in frame:
            return frames


async def test_every_socket_gets_its_final_reply_after_a_burst_of_200_replies(world_tx: World) -> None:
    require(bool(settings.REDIS_URL), "REDIS_URL is not set")
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    students = await students_with_sessions(world_tx, REPLIES)
    tabs = [await open_socket(student, session_id) for student, session_id, _ in students]
    layer = get_channel_layer()
    # All two hundred replies stream at once, as when a class presses Enter together.
    await asyncio.gather(*(stream_reply(layer, session_id, turn_id) for _, session_id, turn_id in students))
    received = await asyncio.gather(*(until_reply_final(tab, timeout=30) for tab in tabs))
    assert all(frames == TOKENS_PER_REPLY + 2 for frames in received)
    await asyncio.gather(*(tab.disconnect() for tab in tabs))
