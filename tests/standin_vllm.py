"""Stand-ins for a vLLM OpenAI-compatible server (outside this project), speaking just enough HTTP/1.1 and
server-sent events for ``POST /v1/chat/completions`` with ``stream: true``.

- :class:`StandInServer` and the ``serve`` fixture: asyncio, on loopback, in the test's own event loop; each test
  decides how it answers (healthy, down, hanging, garbage, dropping mid-stream).
- :class:`StandInVLLM`: on a thread, for tests whose app runs in another process (browser tests). It streams, word
  by word, the draft reply found in the system prompt (paraphrase mode), which is what a model that paraphrases
  faithfully would say; with no draft it asks a neutral question.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, object]


@dataclass
class StandInServer:
    """A stand-in for a vLLM OpenAI-compatible server; ``respond`` decides how it answers each request."""

    respond: Callable[[Request, asyncio.StreamWriter], Awaitable[None]]
    requests: list[Request] = field(default_factory=list)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)
    connections: int = 0
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self.handlers.add(task)  # type: ignore[arg-type]
        try:
            request_line = (await reader.readline()).decode()
            method, path, _ = request_line.split(" ", 2)
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = json.loads(await reader.readexactly(int(headers["content-length"])))
            request = Request(method, path, headers, body)
            self.requests.append(request)
            await self.respond(request, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


Respond = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Respond], Awaitable[StandInServer]]]:
    """Start stand-in servers on free loopback ports; stop them and their hanging handlers afterwards."""
    running: list[tuple[asyncio.Server, StandInServer]] = []

    async def start(respond: Respond) -> StandInServer:
        stand_in = StandInServer(respond)
        server = await asyncio.start_server(stand_in.handle, "127.0.0.1", 0)
        stand_in.port = server.sockets[0].getsockname()[1]
        running.append((server, stand_in))
        return stand_in

    yield start
    for server, stand_in in running:
        server.close()
        for task in stand_in.handlers:
            task.cancel()
        await asyncio.gather(*stand_in.handlers, return_exceptions=True)
        await server.wait_closed()


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def sse(payload: object) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def delta(text: str, finish: str | None = None) -> dict[str, object]:
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


async def start_sse(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    await writer.drain()


NEUTRAL_REPLY = "Let's think about this together. What do you notice first?"


def _draft(messages: list[dict[str, str]]) -> str:
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    marker = "Draft reply:\n"
    return system.split(marker, 1)[1].strip() if marker in system else NEUTRAL_REPLY


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pause_seconds = 0.05

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        words = _draft(body.get("messages", [])).split(" ")
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            delta = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self._chunk(b"data: " + json.dumps(delta).encode() + b"\n\n")
            time.sleep(self.pause_seconds)
        stop = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self._chunk(b"data: " + json.dumps(stop).encode() + b"\n\ndata: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class StandInVLLM:
    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StandInVLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
