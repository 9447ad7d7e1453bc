"""Every student message is answered to the page that sent it, by its client id: the stored turn (the
acknowledgement) or a notice that refuses it. A page resends what was not acknowledged when it reconnects, so a resend
is acknowledged again and is never stored or answered twice.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis.exceptions
from channels.db import database_sync_to_async

from tests.integration.conftest import World
from tutor import consumers, session_fanout, tutoring
from tutor.models import Turn, TutoringSession

from .conftest import open_socket, say, until_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]


@database_sync_to_async
def opened(world: World) -> TutoringSession:
    tutoring.session_open(session=world.session)
    return world.session


@database_sync_to_async
def turns(session_id: int) -> list[tuple[int, str, str | None]]:
    return list(
        Turn.objects.filter(session_id=session_id).order_by("seq").values_list("seq", "role", "client_message_id")
    )


async def test_a_resend_sent_while_the_first_is_answered_is_not_answered_twice(
    world_tx: World, llm_backend: Any
) -> None:
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await say(tab, "24", "twice")
    await say(tab, "24", "twice")
    frames = await until_final(tab)
    while not await tab.receive_nothing(timeout=0.5):
        frames.append(await tab.receive_from())
    # Acknowledged to the sender, and acknowledged again; answered once. (The broadcast of the stored turn to the
    # session's other pages skips the page that sent it: it has the turn already.)
    assert sum('data-client-id="twice"' in frame for frame in frames) == 2
    assert sum('id="announcer"' in frame for frame in frames) == 1
    assert [(r, c) for _, r, c in await turns(session.pk)] == [("tutor", None), ("student", "twice"), ("tutor", None)]
    await tab.disconnect()


async def test_a_resend_does_not_count_against_the_rate_limit(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "MESSAGES_PER_MINUTE", 1)
    session = await opened(world_tx)
    tab = await open_socket(world_tx.student, session.pk)
    await say(tab, "24", "once")
    await until_final(tab)
    await say(tab, "24", "once")
    assert 'data-client-id="once"' in await tab.receive_from(timeout=5)
    await say(tab, "12", "new")
    refusal = await tab.receive_from(timeout=5)
    assert "very fast" in refusal and 'data-refused="new"' in refusal
    await tab.disconnect()


async def test_a_message_survives_a_channel_layer_outage_after_it_is_stored(
    world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis fails just after the turn is stored, as the session's other tabs are told of it: the page has its
    acknowledgement and the reply is still given on the same socket; a page that reconnects and resends the message
    gets its acknowledgement without a second reply."""
    session = await opened(world_tx)
    publish = session_fanout.publish

    async def failing_once(layer: Any, group: str, message: dict[str, Any]) -> None:
        if message["type"] == "turn.stored":
            monkeypatch.setattr(session_fanout, "publish", publish)
            raise redis.exceptions.ConnectionError("Redis is down")
        await publish(layer, group, message)

    monkeypatch.setattr(session_fanout, "publish", failing_once)
    tab = await open_socket(world_tx.student, session.pk)
    await say(tab, "24", "outage")
    frames = await until_final(tab)
    assert 'data-client-id="outage"' in frames[0]
    await asyncio.wait_for(consumers.replies_in_flight(), timeout=20)
    await tab.disconnect()

    again = await open_socket(world_tx.student, session.pk)
    await again.send_to(text_data=json.dumps({"type": "sync", "after": 1}))
    synced = await again.receive_from(timeout=5)
    assert 'data-client-id="outage"' in synced and 'data-seq="3"' in synced
    await say(again, "24", "outage")
    assert 'data-client-id="outage"' in await again.receive_from(timeout=5)
    assert await again.receive_nothing(timeout=0.5)
    assert [(r, c) for _, r, c in await turns(session.pk)] == [("tutor", None), ("student", "outage"), ("tutor", None)]
    await again.disconnect()
