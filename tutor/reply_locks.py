"""Who may reply in a tutoring session, across every server process.

A session's replies are serialized by two locks, so that each reply is planned from the state the one before it
stored, and so that a student turn left without a reply (its worker was stopped mid-reply) can be told apart from one
whose reply is merely under way:

- *owed* (shared): held by every reply from before its student turn is stored until the reply is stored. Whoever
  gets it exclusively knows that no reply is owed or under way anywhere, so a student turn left last is one that
  nobody is going to answer.
- *turn* (exclusive): held while a reply is planned, phrased by the model and stored.

On PostgreSQL both are advisory locks held on a connection of the reply's own, not a transaction's: the model's
phrasing streams for seconds outside any transaction, and PostgreSQL releases a connection's locks when it closes,
also when the process holding it is killed. The in-process locks in front of them keep a worker's own replies
queueing without a connection each waiting on the server; on SQLite (the embedded default, one process) they are
the whole story. Whatever happens to these locks, ``tutoring.turn_complete`` still re-plans a stale plan under the
session's row lock, so a dialogue state is never overwritten from an older one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from django.db import connections

logger = logging.getLogger(__name__)

# Advisory locks are keyed by two 32-bit integers; the first says which of this app's locks, the second which session.
OWED_KEY = 0x7475_0001
TURN_KEY = 0x7475_0002
# Waiting for the turn lock polls, so a waiting reply holds no query open that would need cancelling on timeout.
TURN_POLL_SECONDS = 0.05
# A reply holds the turn for at most its planning, the model's timeout and the store; past this, a worker waiting
# for it goes ahead without it (turn_complete's re-plan still keeps the state right) rather than leave a student
# without a reply because another worker hangs.
TURN_WAIT_SECONDS = 120.0

# Replies owed in this process, per session, and the gate a recovery holds while it checks for an unanswered turn.
_OWED: collections.Counter[int] = collections.Counter()
_OWED_GATES: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
_TURN_LOCKS: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def _lock_for(locks: weakref.WeakValueDictionary[int, asyncio.Lock], session_id: int) -> asyncio.Lock:
    lock = locks.get(session_id)
    if lock is None:
        lock = asyncio.Lock()
        locks[session_id] = lock
    return lock


def session_turn_lock(session_id: int) -> asyncio.Lock:
    """This process's turn lock for a session (a second process has its own: only the advisory lock spans both)."""
    return _lock_for(_TURN_LOCKS, session_id)


def _key(session_id: int) -> int:
    # The second key is a signed 32-bit integer; ids beyond it share a lock with another session, which only waits.
    return (session_id & 0xFFFF_FFFF) - (1 << 32 if session_id & 0x8000_0000 else 0)


def _on_postgresql() -> bool:
    return bool(connections["default"].vendor == "postgresql")


async def _connect() -> psycopg.AsyncConnection[Any]:
    params = connections["default"].get_connection_params()
    # Django's cursor class and adapters are for its own synchronous connections.
    for name in ("cursor_factory", "context"):
        params.pop(name, None)
    return await psycopg.AsyncConnection.connect(**params, autocommit=True)


async def _ask(conn: psycopg.AsyncConnection[Any], function: str, key: int, session_id: int) -> bool:
    cursor = await conn.execute(f"SELECT {function}(%s, %s)", (key, _key(session_id)))  # function: ours, fixed
    row = await cursor.fetchone()
    return row is not None and row[0] is not False


class ReplyClaim:
    """The right to reply once in a session: taken before the student turn is stored, released once the reply is."""

    def __init__(
        self, session_id: int, conn: psycopg.AsyncConnection[Any] | None, gate: asyncio.Lock | None = None
    ) -> None:
        self.session_id = session_id
        self._conn = conn
        self._gate = gate  # held by a recovery until it has decided what it answers
        self._released = False

    async def __aenter__(self) -> ReplyClaim:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait until no other reply in the session is being planned, phrased or stored, in any process."""
        async with session_turn_lock(self.session_id):
            locked = False
            if self._conn is not None:
                try:
                    async with asyncio.timeout(TURN_WAIT_SECONDS):
                        while not (locked := await _ask(self._conn, "pg_try_advisory_lock", TURN_KEY, self.session_id)):
                            await asyncio.sleep(TURN_POLL_SECONDS)
                except (psycopg.Error, TimeoutError) as exc:
                    logger.warning("replying in session %s without the turn lock: %r", self.session_id, exc)
            try:
                yield
            finally:
                if locked and self._conn is not None:
                    with contextlib.suppress(psycopg.Error):  # a broken connection has released it already
                        await _ask(self._conn, "pg_advisory_unlock", TURN_KEY, self.session_id)

    async def share(self) -> None:
        """Let other replies be owed again, this one among them: a recovery does this once it knows what it answers,
        so that students' new messages are not held back while it replies."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                # A connection's own locks never conflict with each other: the shared lock is granted at once.
                await _ask(self._conn, "pg_advisory_lock_shared", OWED_KEY, self.session_id)
                await _ask(self._conn, "pg_advisory_unlock", OWED_KEY, self.session_id)
        if self._gate is not None:
            self._gate.release()
            self._gate = None

    async def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._gate is not None:
            self._gate.release()
            self._gate = None
        _OWED[self.session_id] -= 1
        if _OWED[self.session_id] <= 0:
            del _OWED[self.session_id]
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()


async def claim_reply(session_id: int) -> ReplyClaim:
    """Declare a reply owed in the session, before its student turn is stored.

    Without a connection of its own (the server refuses one), the reply goes ahead on the in-process locks alone:
    a student's message is never refused for the sake of the lock.
    """
    async with _lock_for(_OWED_GATES, session_id):  # a recovery in this process is deciding: wait for it
        _OWED[session_id] += 1
    conn = None
    if _on_postgresql():
        try:
            conn = await _connect()
            await _ask(conn, "pg_advisory_lock_shared", OWED_KEY, session_id)
        except (psycopg.Error, OSError) as exc:
            logger.warning("replying in session %s on this process's locks only: %r", session_id, exc)
            if conn is not None:
                await conn.close()
            conn = None
    return ReplyClaim(session_id, conn)


async def claim_if_nothing_owed(session_id: int) -> ReplyClaim | None:
    """A claim held exclusively, or None while any process owes the session a reply or is replying in it.

    Holding it, a student turn found last in the transcript is one that no worker is going to answer. Call
    ``share()`` once that has been checked, and ``release()`` in any case.
    """
    gate = _lock_for(_OWED_GATES, session_id)
    if _OWED[session_id] or gate.locked():
        return None
    await gate.acquire()  # free, so taken without yielding: no reply in this process can slip in before it
    _OWED[session_id] += 1
    claim = ReplyClaim(session_id, None, gate)
    if _on_postgresql():
        try:
            claim._conn = await _connect()
            if await _ask(claim._conn, "pg_try_advisory_lock", OWED_KEY, session_id):
                return claim
        except (psycopg.Error, OSError) as exc:
            # Answering a left turn can wait for the next visit; it is not worth a reply that might be a second one.
            logger.warning("not checking session %s for an unanswered turn: %r", session_id, exc)
        await claim.release()
        return None
    return claim
