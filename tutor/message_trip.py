"""A student's message on its way to the model, in one round trip on its reply's own PostgreSQL connection.

Before the model is asked, a message needs four things from the database, and each would be a round trip of its own:
in a class's burst every message then waits its turn on the event loop four times, behind every other message's
step. Sent as one query they are one wait:

1. the reply is declared owed (``reply_locks.OWED_LOCK_SQL``: a session lock, kept after the query);
2. the message is checked and stored (``admission.store_sql``: the session's row lock, then check and insert);
3. when this process's turn lock for the session was free, the server's turn lock is tried
   (``reply_locks.TURN_TRY_SQL``), so the reply need not wait for one of its own;
4. then what planning reads (``tutoring.planning_sql``), which, read after the turn lock, sees the state the
   session's last reply stored, and sees the message just stored (the same implicit transaction as 2).

Steps 3 and 4 are wasted only when the message is refused or another process holds the turn; the reply then takes the
turn and plans as it would have without them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from django.utils import timezone

from . import admission, reply_locks, tutoring
from .models import TutoringSession


@dataclass(frozen=True)
class Trip:
    admitted: admission.Admitted
    turn_locked: bool  # the connection now holds the session's turn lock
    planning_row: Any | None  # tutoring.planning_sql's row, read under the turn lock; None when not read or not held
    started: float  # when the trip began (the reply's planning time counts from here)


@lru_cache(maxsize=2)
def _query(with_turn: bool) -> str:
    statements = [reply_locks.OWED_LOCK_SQL, admission.store_sql().strip().rstrip(";")]
    if with_turn:
        statements += [reply_locks.TURN_TRY_SQL, tutoring.planning_sql().strip()]
    return ";\n".join(statements)


def _values(*, session_id: int, client_id: str, text: str, per_minute: int, now: Any) -> dict[str, Any]:
    """The parameters of every statement of the query (they share ``session``, with the same value)."""
    return {
        **admission.store_values(session_id=session_id, client_id=client_id, text=text, per_minute=per_minute, now=now),
        **reply_locks.lock_values(session_id),
        **tutoring.planning_values(session_id),
    }


# No session has this id (ids start at 1): the warm-up's statements find nothing, store nothing and lock nothing that
# a reply would ask for.
_NO_SESSION = 0


async def warm_up(conn: psycopg.AsyncConnection[Any]) -> None:
    """Send the trip's query once on a new connection, for no session, before a message needs it.

    A new connection's server process reads the catalogs of every table and index the trip touches, and plans its
    statements, on its first run: a class's first messages, each on a connection opened when its page connected,
    would otherwise all pay that at once (about 1 ms of the server's CPU each, measured in a burst of 50)."""
    values = _values(session_id=_NO_SESSION, client_id="", text="", per_minute=0, now=timezone.now())
    cursor = psycopg.AsyncClientCursor(conn)
    async with cursor:
        await cursor.execute(_query(True), values)
    await conn.execute("SELECT pg_advisory_unlock_all()")


async def send(
    conn: psycopg.AsyncConnection[Any],
    *,
    session: TutoringSession,
    client_id: str,
    text: str,
    per_minute: int,
    with_turn: bool,
) -> Trip:
    """Declare the reply owed, check and store the message, and (``with_turn``) take the turn and read what planning
    needs, in one query on ``conn`` (a claim's connection, autocommit, its owed lock not yet asked for)."""
    started = time.monotonic()
    now = timezone.now()
    values = _values(session_id=session.pk, client_id=client_id, text=text, per_minute=per_minute, now=now)
    # Several statements in one query: bound on the client, by psycopg's own quoting of each value's type.
    cursor = psycopg.AsyncClientCursor(conn)
    async with cursor:
        await cursor.execute(_query(with_turn), values)
        cursor.nextset()  # past the owed lock's row
        cursor.nextset()  # past the session row lock's (no row when the session is gone)
        admitted = admission.admitted_from(
            await cursor.fetchone(), session=session, client_id=client_id, text=text, now=now
        )
        turn_locked, planning_row = False, None
        if with_turn:
            cursor.nextset()
            turn_locked = bool((await cursor.fetchone() or (False,))[0])
            cursor.nextset()
            planning_row = await cursor.fetchone()
    stored = admitted.turn is not None
    return Trip(
        admitted=admitted,
        turn_locked=turn_locked,
        planning_row=planning_row if stored and turn_locked else None,
        started=started,
    )
