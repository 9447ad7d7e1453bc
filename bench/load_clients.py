"""The simulated students of ``bench.load``, in a process of their own.

Reads ``{"turns": n, "students": [[cookie, session_id, base_url], ...]}`` on stdin, lets every student open the
session's websocket (on the server ``base_url`` names: students are split over the server processes), waits until all
are connected, then has each send ``turns`` messages one after another (each after the previous reply is finished).
Writes ``{"timings": [...], "wall_s": ...}`` on stdout; problems go to stderr.

With ``"idle_seconds": s`` instead of ``turns``, every socket is opened and then left idle for ``s`` seconds; then each
asks for the transcript (the page's re-sync frame) and must get it back. Writes ``{"idle": {"opened", "dropped",
"answered", ...}}``: a socket the server closed while idle is a drop.
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
    if "idle_seconds" in spec:
        return {"idle": await hold_idle(spec["students"], float(spec["idle_seconds"]))}
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(talk(cookie, session_id, base_url, spec["turns"], start))
        for cookie, session_id, base_url in spec["students"]
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


# Sockets opened at once while setting up the idle run: a class arriving together, not a thundering herd.
_OPENING_AT_ONCE = 50


async def hold_idle(sockets: list[list[Any]], seconds: float) -> dict[str, Any]:
    """Open every socket, leave them all idle for ``seconds``, then check each is still there and still answers."""
    gate = asyncio.Semaphore(_OPENING_AT_ONCE)

    async def open_one(cookie: str, session_id: int, base_url: str) -> Socket | None:
        async with gate:
            try:
                origin = base_url.replace("ws://", "http://")
                headers = {"Cookie": cookie, "Origin": origin}
                return await Socket.open(f"{base_url}/ws/sessions/{session_id}/", headers)
            except (OSError, TimeoutError) as exc:
                _say(f"session {session_id}: idle socket did not open: {exc}")
                return None

    opened_at = time.perf_counter()
    tabs = await asyncio.gather(*(open_one(*s) for s in sockets))
    open_tabs = [t for t in tabs if t is not None]
    opening_s = time.perf_counter() - opened_at
    # Frames sent at connect (none today) are drained as they come; a None is the server closing the socket.
    closed = [False] * len(open_tabs)

    async def watch(i: int, tab: Socket) -> None:
        while True:
            frame = await tab.receive(seconds + 3600)
            if frame is None:
                closed[i] = True
                return

    watchers = [asyncio.create_task(watch(i, tab)) for i, tab in enumerate(open_tabs)]
    await asyncio.sleep(seconds)
    dropped = sum(closed)
    for w in watchers:
        w.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)

    async def still_answers(tab: Socket) -> bool:
        tab.send(json.dumps({"type": "sync", "after": 0}))
        try:
            return await tab.receive(30) is not None
        except TimeoutError:
            return False

    alive = [tab for i, tab in enumerate(open_tabs) if not closed[i]]
    answers = []
    for start in range(0, len(alive), _OPENING_AT_ONCE):
        answers += await asyncio.gather(*(still_answers(t) for t in alive[start : start + _OPENING_AT_ONCE]))
    await asyncio.gather(*(tab.close() for tab in open_tabs), return_exceptions=True)
    return {
        "requested": len(sockets),
        "opened": len(open_tabs),
        "dropped": dropped,
        "answered": sum(answers),
        "idle_s": seconds,
        "opening_s": round(opening_s, 1),
    }


def main() -> int:
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
