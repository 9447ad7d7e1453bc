"""A tutor model's reply stream, asked for at once and read later.

A reply asks the model as soon as it is planned, then does what the student is not waiting on (telling the session's
other tabs, opening the reply's bubble) while the model works on its first token. The connection to a model server is
started when the message arrives (``connect_ahead``), so it is open by the time the reply is planned; the request has
gone out when ``open`` returns, so the work that waits for the urgent work of the moment (tutor/urgent_work.py) does
not delay it; a task of its own then waits for the first piece, and the reply reads the pieces when it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from models.backends import Connection, TutorLLMError, close_connection

# The most tokens a reply may take; the guard's length limit is far below what this many words would make.
MAX_NEW_TOKENS = 160
_OPTIONS: dict[str, Any] = {"max_new_tokens": MAX_NEW_TOKENS, "temperature": 0.7}


def connect_ahead(llm: Any) -> Connection | None:
    """A connection to ``llm``'s server, started now for a request :meth:`OpenedStream.open` sends soon (where the
    backend has a server to connect to); None otherwise. Give it to ``open``, or to ``close_connection``."""
    start = getattr(llm, "connect_ahead", None)
    return start() if start is not None else None


async def _failing(exc: TutorLLMError) -> AsyncIterator[str]:
    raise exc
    yield ""  # an async generator, whose first read raises


class OpenedStream:
    """The pieces of one model reply; iterate once. :meth:`close` ends the generation at once (idempotent)."""

    def __init__(self, stream: AsyncIterator[str]) -> None:
        self._stream = stream
        self._first: asyncio.Future[str] = asyncio.ensure_future(anext(stream))

    @classmethod
    async def open(
        cls, llm: Any, messages: Sequence[dict[str, str]], *, connection: Connection | None = None
    ) -> OpenedStream | None:
        """Ask ``llm`` for its reply to ``messages`` now, and return once the request has gone out where the backend
        can tell (its ``open``: a model server's request, on ``connection`` when one was started ahead), else at
        once; None when there is no model to ask (templates only). A failure to ask is raised by the first read, as
        any failure of the model."""
        opener = getattr(llm, "open", None)
        if opener is None or llm.name == "none":
            close_connection(connection)
            return None if llm.name == "none" else cls(llm.stream(messages, **_OPTIONS))
        try:
            return cls(await opener(messages, connection=connection, **_OPTIONS))
        except TutorLLMError as exc:
            return cls(_failing(exc))

    def __aiter__(self) -> AsyncIterator[str]:
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        try:
            first = await self._first
        except StopAsyncIteration:
            return
        yield first
        async for piece in self._stream:
            yield piece

    async def close(self) -> None:
        if not self._first.done():
            self._first.cancel()
            await asyncio.wait([self._first])
        if not self._first.cancelled():
            self._first.exception()  # read, so a failure already handled is not reported as never retrieved
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
