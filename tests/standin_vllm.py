"""A stand-in for a vLLM OpenAI-compatible server, on a thread, for tests whose app runs in another process.

It streams, word by word, the draft reply found in the system prompt (paraphrase mode), which is what a model that
paraphrases faithfully would say; with no draft it asks a neutral question. It speaks only enough HTTP for
``POST /v1/chat/completions`` with ``stream: true``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
