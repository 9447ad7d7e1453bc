"""A session's live events (a stored turn, the tutor's reply starting, its streamed text, its end) to every socket
watching the session: those of this process directly, those of other processes through the channel layer.

Through Redis alone, each event cost a group send (four round trips) and, for each socket, a pop from the one queue
every socket of the process reads from; a streamed reply sends its text a dozen times, so in a class's burst the first
words of one student's reply waited behind everyone's earlier words. Here an event is put straight on the queue of
each socket of this process that watches the session (the socket's consumer dispatches it in order with its other
events), and only the group's other members, found with one read of the group, get it through the layer.

A reply's streamed text goes to the members found when the reply started: a tab opening on another process meanwhile
shows the reply when it is stored, as it would if it had opened a moment later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
import weakref
from typing import Any, Protocol

from channels.layers import BaseChannelLayer, InMemoryChannelLayer

logger = logging.getLogger(__name__)


class Watcher(Protocol):
    """A socket of this process watching a session (the consumer)."""

    channel_name: str
    live_events: asyncio.Queue[dict[str, Any]]


# The sockets of this process, per session group; weak, so a consumer that never ran its disconnect is not kept.
_WATCHERS: dict[str, weakref.WeakSet[Any]] = {}
# Events this process sent through a layer that cannot tell members apart carry this, so its own sockets drop them.
ORIGIN = secrets.token_hex(8)


def _new_origin_in_child() -> None:
    global ORIGIN, _WATCHERS
    ORIGIN, _WATCHERS = secrets.token_hex(8), {}


os.register_at_fork(after_in_child=_new_origin_in_child)


def join(group: str, watcher: Watcher) -> None:
    _WATCHERS.setdefault(group, weakref.WeakSet()).add(watcher)


def leave(group: str, watcher: Watcher) -> None:
    watchers = _WATCHERS.get(group)
    if watchers is not None:
        watchers.discard(watcher)
        if not watchers:
            del _WATCHERS[group]


def _local(group: str) -> list[Watcher]:
    return list(_WATCHERS.get(group, ()))


async def _members(layer: BaseChannelLayer, group: str) -> list[str] | None:
    """Every channel in the group, or None for a layer that cannot list them (then the group gets every event)."""
    if isinstance(layer, InMemoryChannelLayer):
        return list(layer.groups.get(group, {}))
    # channels-redis keeps a group as a sorted set of channel names scored by when they joined (as its group_send
    # reads it, expired members left out).
    group_key = getattr(layer, "_group_key", None)
    if group_key is None:
        return None
    connection = layer.connection(layer.consistent_hash(group))
    joined_since = int(time.time()) - layer.group_expiry
    names = await connection.zrangebyscore(group_key(group), min=joined_since, max="+inf")
    return [name.decode() for name in names]


async def others(layer: BaseChannelLayer, group: str) -> list[str] | None:
    """The group's channels outside this process; None when the layer cannot tell."""
    members = await _members(layer, group)
    if members is None:
        return None
    here = {watcher.channel_name for watcher in _local(group)}
    return [name for name in members if name not in here]


async def publish(layer: BaseChannelLayer, group: str, event: dict[str, Any]) -> None:
    """Deliver ``event`` to the session's sockets here, then to the group's other members as they are now."""
    deliver_here(group, event)
    await send_to_others(layer, group, event, await others(layer, group))


def deliver_here(group: str, event: dict[str, Any]) -> None:
    for watcher in _local(group):
        watcher.live_events.put_nowait(event)


async def send_to_others(layer: BaseChannelLayer, group: str, event: dict[str, Any], names: list[str] | None) -> None:
    """``event`` to the channels an ``others`` lookup found; to the whole group when it could not tell."""
    if names is None:
        await layer.group_send(group, {**event, "origin": ORIGIN})
        return
    for name in names:
        try:
            await layer.send(name, event)
        except Exception as exc:  # a full or gone channel of one socket must not stop the others
            logger.warning("session event not sent to %s: %r", name, exc)


def from_here(event: dict[str, Any]) -> bool:
    """Whether ``event`` is this process's own, come back through the layer (already delivered directly)."""
    return event.get("origin") == ORIGIN
