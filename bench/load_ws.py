"""A small asyncio websocket client for the load benchmark.

It is built on autobahn, which daphne already installs, so the benchmark needs no dependency of its own. Each frame
is stamped with ``time.perf_counter()`` when it arrives, before the simulated student's task gets to read it, so a
busy client loop does not inflate the app's latencies.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import txaio

txaio.use_asyncio()  # type: ignore[no-untyped-call]

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol  # noqa: E402

# A frame as received: (arrival time, text); None once the socket has closed.
Frame = tuple[float, str] | None


class _Protocol(WebSocketClientProtocol):  # type: ignore[misc,unused-ignore]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: asyncio.Queue[Frame] = asyncio.Queue()
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None

    def onOpen(self) -> None:
        if not self.opened.done():
            self.opened.set_result(None)

    def onMessage(self, payload: bytes, is_binary: bool) -> None:
        self.frames.put_nowait((time.perf_counter(), payload.decode("utf-8", "replace")))

    def onClose(self, was_clean: bool, code: int | None, reason: str | None) -> None:
        self.close_code = code
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"websocket refused: {code} {reason}"))
        self.frames.put_nowait(None)


class Socket:
    """One open websocket: ``send`` text, ``receive`` stamped frames, ``close``."""

    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    @classmethod
    async def open(cls, url: str, headers: dict[str, str], timeout: float = 10) -> Socket:
        parts = urlsplit(url)
        factory = WebSocketClientFactory(url, headers=headers)  # type: ignore[no-untyped-call]
        factory.protocol = _Protocol
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(factory, parts.hostname or "127.0.0.1", parts.port or 80), timeout
        )
        await asyncio.wait_for(protocol.opened, timeout)
        return cls(protocol)

    def send(self, text: str) -> float:
        """Send a text frame; returns when it was handed to the transport."""
        sent_at = time.perf_counter()
        self._protocol.sendMessage(text.encode(), isBinary=False)  # type: ignore[no-untyped-call]
        return sent_at

    async def receive(self, timeout: float) -> Frame:
        """The next frame, or None when the socket closed; TimeoutError when nothing came in time."""
        return await asyncio.wait_for(self._protocol.frames.get(), timeout)

    @property
    def close_code(self) -> int | None:
        return self._protocol.close_code

    async def close(self) -> None:
        self._protocol.sendClose(code=1000)
        # Let the closing handshake finish so the server sees a clean close, not a dropped connection.
        deadline = time.monotonic() + 2
        while self._protocol.close_code is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
