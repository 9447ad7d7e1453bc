"""A session's live events reach this process's sockets without the channel layer, and other processes' through it.

Every socket of a process reads the channel layer through one Redis queue: a streamed reply sent through it a dozen
times per reply held the first words of one student's reply behind everyone's earlier words.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from tests.integration.conftest import World
from tutor import tutoring
from tutor.consumers import session_group

from .conftest import open_socket, say, until_final
from .test_streaming import speaking

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]

TOKEN_MARK = '-text" hx-swap-oob="true"'  # the frame of a streamed piece
PIECES = ("Good question! ", "Every tray holds ", "the same number of muffins. ", "How many muffins in all?")


@database_sync_to_async
def opened(world: World) -> None:
    tutoring.session_open(session=world.session)


def counting_layer_sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The types of the events the channel layer is asked to carry, to a group or to one channel."""
    layer = get_channel_layer()
    carried: list[str] = []
    group_send, send = layer.group_send, layer.send

    async def counted_group_send(group: str, message: dict[str, Any]) -> None:
        carried.append(message["type"])
        await group_send(group, message)

    async def counted_send(channel: str, message: dict[str, Any]) -> None:
        carried.append(message["type"])
        await send(channel, message)

    monkeypatch.setattr(layer, "group_send", counted_group_send)
    monkeypatch.setattr(layer, "send", counted_send)
    return carried


async def test_a_reply_streams_to_this_process_s_sockets_without_the_channel_layer(
    world_tx: World, llm_backend: Any, serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve(speaking(*PIECES, pause=0.05))
    llm_backend("openai", server.url)
    await opened(world_tx)
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    teacher = await open_socket(world_tx.teacher, world_tx.session.pk)
    carried = counting_layer_sends(monkeypatch)
    await say(tab, "I'm not sure where to start", "f1")
    frames = await until_final(tab)
    watched = await until_final(teacher)
    streamed = [f for f in frames if TOKEN_MARK in f]
    assert len(streamed) >= 2  # in pieces
    assert [f for f in watched if TOKEN_MARK in f] == streamed  # the watching teacher saw the same stream
    assert carried == []  # every socket is in this process: nothing went through Redis
    await asyncio.gather(tab.disconnect(), teacher.disconnect())


async def test_a_socket_of_another_process_still_gets_the_whole_stream_through_the_layer(
    world_tx: World, llm_backend: Any, serve: Any
) -> None:
    server = await serve(speaking(*PIECES, pause=0.05))
    llm_backend("openai", server.url)
    await opened(world_tx)
    layer = get_channel_layer()
    # A channel in the session's group that no consumer of this process reads: another process's socket.
    elsewhere = await layer.new_channel()
    await layer.group_add(session_group(world_tx.session.pk), elsewhere)
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    await say(tab, "I'm not sure where to start", "f2")
    frames = await until_final(tab)
    received = []
    while not received or received[-1]["type"] != "reply.final":
        received.append(await asyncio.wait_for(layer.receive(elsewhere), timeout=5))
    types = [event["type"] for event in received]
    assert types[:2] == ["turn.stored", "reply.start"] and types[-1] == "reply.final"
    streamed = [event["text"] for event in received if event["type"] == "reply.token"]
    assert len(streamed) == sum(TOKEN_MARK in f for f in frames)  # every piece this tab got
    await layer.group_discard(session_group(world_tx.session.pk), elsewhere)
    await tab.disconnect()
