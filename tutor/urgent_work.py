"""In a server process, the work a student is waiting to see goes first; other work steps aside for a moment.

Every socket of a process shares one event loop (and one interpreter lock), so in a class's burst of messages each
message's way to the model (stored, planned, asked) and each reply's first text waited behind whatever else the
process had to do at that moment: other replies' streamed text to check and send, finished replies to store and
render, other tabs to tell. None of that changes what a student sees first, only a little later. So while any
*urgent* work is under way (an ``Urgent``), other work waits (``after_urgent()``), for at most ``MAX_WAIT_SECONDS``
each time, so that under a steady stream of messages it is slowed, never starved.
"""

from __future__ import annotations

import asyncio
import time

# The longest a piece of other work waits for urgent work to end, each time it asks.
MAX_WAIT_SECONDS = 0.1

_urgent = 0
_waiting: list[asyncio.Future[None]] = []


class Urgent:
    """A piece of urgent work, under way from its creation until :meth:`end` (which may come from another task: a
    message's way to the model starts in its socket's task and ends in its reply's). Also a context manager."""

    def __init__(self) -> None:
        global _urgent
        _urgent += 1
        self._ended = False

    def end(self) -> None:
        global _urgent
        if self._ended:
            return
        self._ended = True
        _urgent -= 1
        if not _urgent:
            _wake_all()

    def __enter__(self) -> Urgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.end()


def _wake_all() -> None:
    waiting = list(_waiting)
    _waiting.clear()
    for future in waiting:
        if not future.done():
            # Through the future's own loop, which may not be the running one (tests run a loop per test).
            future.get_loop().call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def under_way() -> int:
    """How many pieces of urgent work are under way in this process."""
    return _urgent


async def after_urgent() -> None:
    """Wait until no urgent work is under way in this process, or ``MAX_WAIT_SECONDS``, whichever comes first."""
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while _urgent:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        future = asyncio.get_running_loop().create_future()
        _waiting.append(future)
        try:
            # A timeout, not wait_for: no task per wait (every streamed piece of every reply comes through here).
            async with asyncio.timeout(left):
                await future
        except TimeoutError:
            return
        finally:
            if future in _waiting:
                _waiting.remove(future)
