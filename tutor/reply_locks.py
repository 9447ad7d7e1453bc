"""Who may reply in a tutoring session, across every server process.

A session's replies are serialized by two locks, so that each reply is planned from the state the one before it
stored, and so that a student turn left without a reply (its worker was stopped mid-reply) can be told apart from one
whose reply is merely under way:

- *owed* (shared): held by every reply from before its student turn is stored until the reply is stored. Whoever
  gets it exclusively knows that no reply is owed or under way anywhere, so a student turn left last is one that
  nobody is going to answer.
- *turn* (exclusive): held while a reply is planned, phrased by the model and stored.

On PostgreSQL both are advisory locks held on a connection, not a transaction: the model's phrasing streams for
seconds outside any transaction, and PostgreSQL releases a connection's locks when it closes, also when the process
holding it is killed. A reply has a connection to itself while the process holds fewer than
``TUTOR_REPLY_LOCK_CONNECTIONS``; past that many replies at once (or when the server refuses another connection) it
shares the one lent to the fewest, and lets go of its own session's locks alone. A connection is kept for a later
reply once no reply holds it: opening one makes the server start a process, several milliseconds of CPU on the
machine that is serving a class's burst of messages. The in-process locks in front of them keep a
worker's own replies queueing without a connection each waiting on the server; on SQLite (the embedded default, one
process) they are the whole story. Whatever happens to these locks, ``tutoring.turn_complete`` still re-plans a
stale plan under the session's row lock, so a dialogue state is never overwritten from an older one.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

WarmUp = Callable[["psycopg.AsyncConnection[Any]"], Awaitable[None]]

# Advisory locks are keyed by two 32-bit integers; the first says which of this app's locks, the second which session.
OWED_KEY = 0x7475_0001
TURN_KEY = 0x7475_0002
# Waiting for the turn lock polls, so a waiting reply holds no query open that would need cancelling on timeout.
TURN_POLL_SECONDS = 0.05
# A reply holds the turn for at most its planning, the model's timeout and the store; past this, a worker waiting
# for it goes ahead without it (turn_complete's re-plan still keeps the state right) rather than leave a student
# without a reply because another worker hangs.
TURN_WAIT_SECONDS = 120.0

# The locks as statements with named parameters (``lock_values``), for a caller that sends them at the head of its
# own query on a claim's connection (tutor/message_trip.py): one round trip for the lock and what it guards.
OWED_LOCK_SQL = "SELECT pg_advisory_lock_shared(%(owed_key)s, %(session_key)s)"
TURN_TRY_SQL = "SELECT pg_try_advisory_lock(%(turn_key)s, %(session_key)s)"

# What a claim holds, as the unlock function and key that let go of it.
_OWED_HOLD = ("pg_advisory_unlock_shared", OWED_KEY)
_TURN_HOLD = ("pg_advisory_unlock", TURN_KEY)

# Replies owed in this process, per session, and the gate a recovery holds while it checks for an unanswered turn.
_OWED: collections.Counter[int] = collections.Counter()
# Replies of this process holding or waiting for a session's turn lock: while none does, it is taken without a wait.
_TURN_USERS: collections.Counter[int] = collections.Counter()
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


def lock_values(session_id: int) -> dict[str, int]:
    """The parameters of ``OWED_LOCK_SQL`` and ``TURN_TRY_SQL``."""
    return {"owed_key": OWED_KEY, "turn_key": TURN_KEY, "session_key": _key(session_id)}


def _turn_user_left(session_id: int) -> None:
    _TURN_USERS[session_id] -= 1
    if _TURN_USERS[session_id] <= 0:
        del _TURN_USERS[session_id]


def _on_postgresql() -> bool:
    return bool(connections["default"].vendor == "postgresql")


async def _connect() -> psycopg.AsyncConnection[Any]:
    params = connections["default"].get_connection_params()
    # Django's cursor class and adapters are for its own synchronous connections.
    for name in ("cursor_factory", "context"):
        params.pop(name, None)
    conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
    # Statements are prepared on their first run: the connection is kept for many replies, each sending the same lock
    # statements (and, where a reply reads its plan alone, the same planning query), which the server then plans once
    # per connection rather than on every turn.
    conn.prepare_threshold = 0
    return conn


# Connections kept for the next replies, holding no lock, and the event loop they belong to (an asyncio connection
# works only on its own loop: tests run one loop per test).
_kept: list[psycopg.AsyncConnection[Any]] = []
_kept_loop: asyncio.AbstractEventLoop | None = None
# Connections lent to claims now, with how many claims each is lent to: past ``kept_limit()`` connections in use, a
# claim shares the one lent to the fewest (each claim's locks are its own session's, and lets go of only those).
_lent: dict[psycopg.AsyncConnection[Any], int] = {}
# Connections being opened ahead of the replies that will need them (``writer_connected``), each done when kept.
_opening: list[asyncio.Future[None]] = []
# This process's sockets that may write (``writer_connected``): connections are opened ahead only while there are any.
_writers = 0
# A forked child's copies of its parent's kept connections: never used and never closed (closing one would end the
# parent's session on the server), only held so that collecting them does not close them either.
_inherited: list[psycopg.AsyncConnection[Any]] = []


def _forget_kept_in_child() -> None:
    global _kept, _kept_loop, _writers, _lent
    _inherited.extend([*_kept, *_lent])
    _kept, _kept_loop, _writers, _lent = [], None, 0, {}
    _opening.clear()


os.register_at_fork(after_in_child=_forget_kept_in_child)


def kept_limit() -> int:
    return max(0, int(getattr(settings, "TUTOR_REPLY_LOCK_CONNECTIONS", 16)))


def _kept_here() -> list[psycopg.AsyncConnection[Any]]:
    """The kept connections usable on the running loop; those of a loop that is gone are closed."""
    global _kept_loop
    loop = asyncio.get_running_loop()
    if _kept_loop is not loop:
        for conn in [*_kept, *_lent]:
            conn.pgconn.finish()  # its loop no longer runs: close the socket without it
        _kept.clear()
        _lent.clear()
        _opening.clear()
        _kept_loop = loop
    return _kept


async def _borrow() -> tuple[psycopg.AsyncConnection[Any], bool]:
    """A connection for a claim, with whether it was in use before (kept, or shared: a failure on it may be the
    server having dropped it, not the claim's own). A kept one when there is one; else a new one while fewer than
    ``kept_limit()`` are in use; else, or when the server refuses a new one (``max_connections``), a share of the one
    lent to the fewest claims: a class larger than the connections a process may hold still replies under the locks
    every process sees, rather than under this process's alone."""
    kept = _kept_here()
    while True:
        while kept:
            conn = kept.pop()
            if not conn.closed:
                _lent[conn] = 1
                return conn, True
        if _opening:
            # One is being opened for a reply like this one: wait for it rather than make the server start another.
            await asyncio.wait([_opening[0]])
            continue
        if sum(not conn.closed for conn in _lent) < max(1, kept_limit()):
            try:
                conn = await _connect()
            except (psycopg.Error, OSError):
                if not _shareable():
                    raise
            else:
                _lent[conn] = 1
                return conn, False
        if (shared := _shareable()) is not None:
            _lent[shared] += 1
            return shared, True


def _shareable() -> psycopg.AsyncConnection[Any] | None:
    """The lent connection with the fewest claims (broken ones left out), or None."""
    working = [conn for conn in _lent if not conn.closed]
    return min(working, key=_lent.__getitem__) if working else None


def writer_connected(warm_up: WarmUp | None = None) -> Coroutine[Any, Any, None]:
    """Count a socket of this process that may write; start the coroutine returned (a task of its own): it opens a
    connection for a later reply ahead of the message, while fewer are kept (or being opened) than are kept at most,
    and runs ``warm_up`` on it (the queries a message will send, so the server has read what they need).
    A class's sockets connect before its messages come: a connection opened in their burst instead makes each message
    wait for PostgreSQL to start a process, on the machine that is serving the burst."""
    global _writers
    _writers += 1
    return _open_ahead(warm_up)


async def writer_disconnected() -> None:
    """A socket counted by ``writer_connected`` has gone: once none is left, the connections kept are closed (a new
    socket opens one again), rather than held open for sockets that may never come."""
    global _writers
    _writers = max(0, _writers - 1)
    if not _writers:
        await close_kept()


async def _open_ahead(warm_up: WarmUp | None) -> None:
    if not _on_postgresql():
        return
    kept = _kept_here()
    if len(kept) + len(_opening) >= kept_limit():
        return
    opened = asyncio.get_running_loop().create_future()
    _opening.append(opened)
    conn = None
    try:
        conn = await _connect()
        if warm_up is not None:
            await warm_up(conn)
    except (psycopg.Error, OSError) as exc:
        logger.info("no lock connection opened ahead of replies: %r", exc)
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                await conn.close()
            conn = None
    finally:
        # Kept before a reply waiting for it resumes (it runs only once this task yields).
        if conn is not None and _writers and _kept_here() is kept and len(kept) < kept_limit():
            kept.append(conn)
            conn = None
        if opened in _opening:
            _opening.remove(opened)
        opened.set_result(None)
    if conn is not None:
        with contextlib.suppress(psycopg.Error):
            await conn.close()


async def _give_back(conn: psycopg.AsyncConnection[Any], session_id: int, holds: list[tuple[str, int]]) -> None:
    """A claim is done with ``conn``. Still lent to other claims, it lets go of this claim's ``holds`` alone (unlock
    functions and keys, in the session's name); else it is kept for a later reply, holding no lock, or closed when
    enough are kept or it is broken."""
    claims = _lent.pop(conn, 1) - 1
    if claims > 0 and not conn.closed:
        _lent[conn] = claims
        for function, key in reversed(holds):
            with contextlib.suppress(psycopg.Error):
                await _ask(conn, function, key, session_id)
        return
    kept = _kept_here()
    if len(kept) < kept_limit() and not conn.closed:
        try:
            # Whatever this claim still held (a reply cut short between its lock and its unlock) goes with it.
            await conn.execute("SELECT pg_advisory_unlock_all()")
        except psycopg.Error:
            pass
        else:
            kept.append(conn)
            return
    with contextlib.suppress(psycopg.Error):
        await conn.close()


async def close_kept() -> None:
    """Close the connections kept for later replies (tests, and an orderly shutdown)."""
    kept = _kept_here()
    while kept:
        with contextlib.suppress(psycopg.Error):
            await kept.pop().close()


async def _locked(
    function: str, key: int, session_id: int, release: str, *, retry: bool = True
) -> tuple[psycopg.AsyncConnection[Any], list[tuple[str, int]]] | None:
    """A connection on which ``function`` (a lock, let go of by ``release``) was granted, with that hold: a kept or
    shared one, or another once if that fails (the server may have dropped a kept one while it was idle). None when
    the lock was refused; errors of a new one, or of the second, are raised."""
    conn, reused = await _borrow()
    try:
        if await _ask(conn, function, key, session_id):
            return conn, [(release, key)]
    except psycopg.Error:
        await _let_go(conn, session_id, [])
        if not (reused and retry):
            raise
        return await _locked(function, key, session_id, release, retry=False)
    await _give_back(conn, session_id, [])
    return None


async def _let_go(conn: psycopg.AsyncConnection[Any], session_id: int, holds: list[tuple[str, int]]) -> None:
    """A claim is done with ``conn`` after a query on it failed: closed when no other claim shares it (the server
    then lets go of whatever it held), else given back with ``holds`` (the locks the failed query may have taken)."""
    if _lent.get(conn, 1) > 1 and not conn.closed:
        await _give_back(conn, session_id, holds)
        return
    _lent.pop(conn, None)
    with contextlib.suppress(psycopg.Error):
        await conn.close()


async def _ask(conn: psycopg.AsyncConnection[Any], function: str, key: int, session_id: int) -> bool:
    cursor = await conn.execute(f"SELECT {function}(%s, %s)", (key, _key(session_id)))  # function: ours, fixed
    row = await cursor.fetchone()
    return row is not None and row[0] is not False


class ReplyClaim:
    """The right to reply once in a session: taken before the student turn is stored, released once the reply is."""

    def __init__(
        self,
        session_id: int,
        conn: psycopg.AsyncConnection[Any] | None,
        gate: asyncio.Lock | None = None,
        holds: list[tuple[str, int]] | None = None,
    ) -> None:
        self.session_id = session_id
        self._conn = conn
        self._gate = gate  # held by a recovery until it has decided what it answers
        self._released = False
        # This process's turn lock, when taken before ``turn()`` is entered (``take_turn_if_free``).
        self._turn_here: asyncio.Lock | None = None
        # The locks this claim holds on its connection, as (unlock function, key): on a shared connection it lets go
        # of these alone. The turn lock among them, taken in the caller's own query, spares ``turn()`` asking.
        self._holds = list(holds or [])

    @property
    def connection(self) -> psycopg.AsyncConnection[Any] | None:
        """The claim's own connection (None on the in-process locks alone): autocommit, on this event loop, free
        between the claim's lock calls, possibly shared with other claims of this process (their queries then wait
        for each other). A message is stored and its reply planned on it (tutor/message_trip.py), without a trip to
        the database threads."""
        return self._conn

    def owed_locked_on_server(self) -> None:
        """The claim's connection holds the owed lock (asked for in the caller's own query: ``ask_now=False``)."""
        self._holds.append(_OWED_HOLD)

    async def drop_connection(self, *, turn_maybe_locked: bool = False) -> None:
        """A query on the claim's connection failed, its locks unknown: an unshared connection is closed (the server
        lets go of whatever it held); a shared one lets go of the owed lock the failed query asked for first (and of
        the turn lock, with ``turn_maybe_locked``). The reply goes on under this process's locks alone."""
        conn, self._conn = self._conn, None
        maybe = [_OWED_HOLD, _TURN_HOLD] if turn_maybe_locked else [_OWED_HOLD]
        holds, self._holds = [*self._holds, *maybe], []
        if conn is not None:
            await _let_go(conn, self.session_id, holds)

    async def take_turn_if_free(self) -> bool:
        """Take this process's turn lock for the session now, when no reply of this process holds it or waits for
        it; ``turn()`` then starts with it held. The caller may then ask for the server's turn lock in its own query
        (``TURN_TRY_SQL``) and say so with ``turn_locked_on_server``."""
        if _TURN_USERS[self.session_id] or self._turn_here is not None:
            return False
        lock = session_turn_lock(self.session_id)
        _TURN_USERS[self.session_id] += 1
        await lock.acquire()  # free, with nobody waiting: taken without yielding
        self._turn_here = lock
        return True

    def turn_locked_on_server(self) -> None:
        """The claim's connection holds the session's turn lock (asked for in the caller's own query)."""
        self._holds.append(_TURN_HOLD)

    async def __aenter__(self) -> ReplyClaim:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait until no other reply in the session is being planned, phrased or stored, in any process."""
        lock, self._turn_here = self._turn_here, None
        locked = _TURN_HOLD in self._holds
        if lock is None:
            lock = session_turn_lock(self.session_id)
            _TURN_USERS[self.session_id] += 1
            try:
                await lock.acquire()
            except BaseException:
                _turn_user_left(self.session_id)
                raise
        try:
            if self._conn is not None and not locked:
                try:
                    async with asyncio.timeout(TURN_WAIT_SECONDS):
                        while not (locked := await _ask(self._conn, "pg_try_advisory_lock", TURN_KEY, self.session_id)):
                            await asyncio.sleep(TURN_POLL_SECONDS)
                    self._holds.append(_TURN_HOLD)
                except (psycopg.Error, TimeoutError) as exc:
                    logger.warning("replying in session %s without the turn lock: %r", self.session_id, exc)
            try:
                yield
            finally:
                if locked and self._conn is not None:
                    with contextlib.suppress(psycopg.Error):  # a broken connection has released it already
                        await _ask(self._conn, "pg_advisory_unlock", TURN_KEY, self.session_id)
                    with contextlib.suppress(ValueError):
                        self._holds.remove(_TURN_HOLD)
        finally:
            lock.release()
            _turn_user_left(self.session_id)

    async def share(self) -> None:
        """Let other replies be owed again, this one among them: a recovery does this once it knows what it answers,
        so that students' new messages are not held back while it replies."""
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                # A connection's own locks never conflict with each other: the shared lock is granted at once.
                await _ask(self._conn, "pg_advisory_lock_shared", OWED_KEY, self.session_id)
                await _ask(self._conn, "pg_advisory_unlock", OWED_KEY, self.session_id)
                self._holds = [_OWED_HOLD]
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
        if self._turn_here is not None:  # taken ahead for a reply that never started (its message was refused)
            self._turn_here.release()
            self._turn_here = None
            _turn_user_left(self.session_id)
        _OWED[self.session_id] -= 1
        if _OWED[self.session_id] <= 0:
            del _OWED[self.session_id]
        if self._conn is not None:
            conn, self._conn = self._conn, None
            # Shielded: a reply cancelled while it lets go must not leave a connection (and its locks) behind.
            await asyncio.shield(_give_back(conn, self.session_id, self._holds))


async def claim_reply(session_id: int, *, ask_now: bool = True) -> ReplyClaim:
    """Declare a reply owed in the session, before its student turn is stored.

    With ``ask_now`` false the claim's connection is borrowed but the owed lock not yet asked for: the caller sends
    ``OWED_LOCK_SQL`` first in its own first query on it (tutor/message_trip.py), or drops the connection.

    Without a connection of its own (the server refuses one), the reply goes ahead on the in-process locks alone:
    a student's message is never refused for the sake of the lock.
    """
    async with _lock_for(_OWED_GATES, session_id):  # a recovery in this process is deciding: wait for it
        _OWED[session_id] += 1
    conn: psycopg.AsyncConnection[Any] | None = None
    holds: list[tuple[str, int]] = []
    if _on_postgresql():
        try:
            if not ask_now:
                conn, _ = await _borrow()
            elif (locked := await _locked("pg_advisory_lock_shared", OWED_KEY, session_id, _OWED_HOLD[0])) is not None:
                conn, holds = locked
        except (psycopg.Error, OSError) as exc:
            logger.warning("replying in session %s on this process's locks only: %r", session_id, exc)
    return ReplyClaim(session_id, conn, holds=holds)


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
            locked = await _locked("pg_try_advisory_lock", OWED_KEY, session_id, "pg_advisory_unlock")
            if locked is not None:
                claim._conn, claim._holds = locked
                return claim
        except (psycopg.Error, OSError) as exc:
            # Answering a left turn can wait for the next visit; it is not worth a reply that might be a second one.
            logger.warning("not checking session %s for an unanswered turn: %r", session_id, exc)
        await claim.release()
        return None
    return claim
