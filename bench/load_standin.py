"""A stand-in for the tutor model server under load: answers ``POST /v1/chat/completions`` (stream) after a fixed
time to first token, then streams a fixed number of tokens at a fixed pace, so every reply costs the model the same
and what varies between runs is the app.

    python -m bench.load_standin --port 8766 [--first-token-s 0.3] [--tokens 40] [--token-gap-s 0.02]

Run as its own process by ``bench.load`` so its work never shares an event loop or a core's GIL with the simulated
students or the app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass

# The first piece ends a sentence, so the app may release it to the page at once: the first streamed frame then
# measures the app's own delay, not how long the model takes to finish a sentence. No digits: the guard would
# refuse numbers the problem does not contain. It ends on a question, as the tutor's moves usually ask one.
FIRST_PIECE = "Let's look at this together. "
WORDS = (  # noqa: SIM905 - read as the sentence it is
    "What does the problem tell you, and what is it asking you to find? Pick the quantity you know best, say what "
    "it measures, and think about which operation connects it to the thing you want. Which step would you try "
    "first, and why does it make sense here?"
).split()


@dataclass(frozen=True)
class Pace:
    first_token_s: float
    tokens: int
    token_gap_s: float


def reply_pieces(tokens: int) -> list[str]:
    """The streamed pieces: the opening sentence, then words (repeated when more tokens are asked for)."""
    rest = [" " + WORDS[i % len(WORDS)] for i in range(max(0, tokens - 1))]
    return [FIRST_PIECE, *rest]


def _sse_chunk(text: str, finish: str | None = None) -> bytes:
    payload = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}
    payload["choices"][0]["finish_reason"] = finish  # type: ignore[index]
    data = b"data: " + json.dumps(payload).encode() + b"\n\n"
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _read_request(reader: asyncio.StreamReader) -> None:
    """Consume one request; its content does not change the reply."""
    await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    await reader.readexactly(length)


def handler(pace: Pace) -> object:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _read_request(reader)
            # The headers go out at once, as vLLM sends them; the first token comes after the model's prefill time.
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(pace.first_token_s)
            for i, piece in enumerate(reply_pieces(pace.tokens)):
                if i:
                    await asyncio.sleep(pace.token_gap_s)
                writer.write(_sse_chunk(piece))
                await writer.drain()
            done = b"data: [DONE]\n\n"
            writer.write(_sse_chunk("", "stop") + f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the app gave up on the reply (a withdrawn reply closes the stream early)
        finally:
            writer.close()

    return handle


async def serve(port: int, pace: Pace) -> None:
    server = await asyncio.start_server(handler(pace), "127.0.0.1", port)  # type: ignore[arg-type]
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--first-token-s", type=float, default=0.3)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--token-gap-s", type=float, default=0.02)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, Pace(args.first_token_s, args.tokens, args.token_gap_s)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
