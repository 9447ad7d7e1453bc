"""The simulated students of ``bench.load``, in a process of their own.

Reads ``{"base_url": ..., "turns": n, "students": [[cookie, session_id], ...]}`` on stdin, lets every student open
the session's websocket, waits until all are connected, then has each send ``turns`` messages one after another
(each after the previous reply is finished). Writes ``{"timings": [...], "wall_s": ...}`` on stdout; problems go to
stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict
from typing import Any

from bench.load import MESSAGES, REPLY_TIMEOUT_S, TurnTiming, observe
from bench.load_ws import Socket


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def talk(cookie: str, session_id: int, base_url: str, turns: int, start: asyncio.Event) -> list[TurnTiming]:
    """One student: open the session's socket, wait for everyone, then send each message after the last reply."""
    timings = [TurnTiming() for _ in range(turns)]
    origin = base_url.replace("ws://", "http://")
    try:
        tab = await Socket.open(f"{base_url}/ws/sessions/{session_id}/", {"Cookie": cookie, "Origin": origin})
    except (OSError, TimeoutError) as exc:
        _say(f"session {session_id}: socket did not open: {exc}")
        return timings  # every turn counts as lost
    await start.wait()
    for n, timing in enumerate(timings):
        message = {"message": MESSAGES[n % len(MESSAGES)], "client_id": f"load-{session_id}-{n}"}
        sent_at = tab.send(json.dumps(message))
        try:
            while True:
                frame = await tab.receive(REPLY_TIMEOUT_S)
                if frame is None:
                    _say(f"session {session_id}: socket closed ({tab.close_code}) during turn {n + 1}")
                    return timings
                if observe(timing, sent_at, *frame):
                    break
        except TimeoutError:
            # Lost: no reply in time. The student stops: a late reply would be taken for the next turn's.
            _say(f"session {session_id}: no reply to turn {n + 1} in {REPLY_TIMEOUT_S:.0f} s")
            break
    await tab.close()
    return timings


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(talk(cookie, session_id, spec["base_url"], spec["turns"], start))
        for cookie, session_id in spec["students"]
    ]
    # Everyone connects first, so the level measures concurrent turns, not a queue of connection handshakes.
    await asyncio.sleep(min(5.0, 0.5 + 0.05 * len(tasks)))
    started = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks)
    return {
        "timings": [asdict(t) for timings in results for t in timings],
        "wall_s": time.perf_counter() - started,
    }


def main() -> int:
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
