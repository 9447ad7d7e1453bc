"""A student's message checked and stored before the tutor replies: the rules it must pass, and two ways to apply them.

The rules, in order: a message already stored under its client id (a resend) is acknowledged again and nothing more;
an empty or overlong message, a message to a stopped session, and a message past the student's rate limit are refused
with a notice; anything else is stored as the session's next turn. The rate limit counts the student's messages
stored in the last minute, in every session: refusals are not counted, and every server process sees the same count.

- ``store_sql``: on PostgreSQL, on an asyncio connection (a reply's own lock connection, tutor/reply_locks.py), in
  the one round trip a message makes before the model is asked (tutor/message_trip.py). In a class's burst the first
  token of every reply waits on this step; on the database thread pool it cost each message a thread hop, a pooled
  connection and four statements, and under load the threads mostly waited for each other's turn at the interpreter.
- ``facts_here``: the same facts through Django's connection, on a database thread (SQLite, or no lock connection),
  where the consumer then stores the message with the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.db import connection
from django.utils import timezone

from .models import Turn, TutoringSession

# The rate limit's window: the student's messages stored this long ago or less count against it.
WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Facts:
    """What a message is checked against, read in the same statement that stores it (or before it)."""

    status: str
    resent: int | None  # the turn stored before under this client id
    recent: int  # the student's messages stored within the window


@dataclass(frozen=True)
class Admitted:
    """The outcome: the turn stored now (None when not stored), with the facts it was checked against."""

    facts: Facts
    turn: Turn | None


def text_refusal(text: str, *, max_chars: int) -> str | None:
    """Why a message's text alone is refused, before anything is read; None when it may be stored."""
    if not text:
        return "Type a message first."
    if len(text) > max_chars:
        return f"That message is too long: keep it under {max_chars} characters."
    return None


def refusal(facts: Facts, *, per_minute: int) -> str | None:
    """Why a message with acceptable text is not stored (a resend is not refused: it is acknowledged again)."""
    # A solved problem still takes the answer to the tutor's reflection question; a stopped one takes nothing.
    if facts.status == TutoringSession.Status.ABANDONED:
        return "This session was stopped. Pick a problem from your dashboard."
    if facts.recent >= per_minute:
        return "You are sending messages very fast. Wait a moment, then try again."
    return None


def _tables() -> dict[str, str]:
    return {"session": TutoringSession._meta.db_table, "turn": Turn._meta.db_table}


# The facts of one message. Only the student's sessions touched within the window can hold a message stored within
# it (storing a message stamps its session), so the count reads those sessions' turns alone. Named parameters:
# session, client_id, student_role, since.
_FACTS_SQL = """
    SELECT s."status",
           (SELECT t."id" FROM "{turn}" t WHERE t."session_id" = s."id" AND t."client_message_id" = %(client_id)s
             LIMIT 1),
           (SELECT COUNT(*) FROM "{turn}" t JOIN "{session}" o ON o."id" = t."session_id"
             WHERE o."student_id" = s."student_id" AND o."updated_at" >= %(since)s
               AND t."role" = %(student_role)s AND t."created_at" >= %(since)s)
      FROM "{session}" s WHERE s."id" = %(session)s
"""


@lru_cache(maxsize=1)
def _facts_sql() -> str:
    return _FACTS_SQL.format(**_tables()).strip()


@lru_cache(maxsize=1)
def store_sql() -> str:
    """Two statements sent as one query (parameters: :func:`store_values`), so one implicit transaction: the
    session's row is locked first (two tabs storing at once, or a reply being stored, then take consecutive turn
    numbers), and the second statement, which takes its snapshot only once it holds the lock, checks the message and
    stores it when it passes."""
    facts = _FACTS_SQL.format(**_tables())
    return """
        SELECT 1 FROM "{session}" WHERE "id" = %(session)s FOR UPDATE;
        WITH facts (status, resent, recent) AS ({facts}),
        stored AS (
            INSERT INTO "{turn}" ("session_id", "seq", "role", "text", "move", "plan", "guard_verdict", "backend",
                                  "client_message_id", "created_at")
            SELECT %(session)s, (SELECT COALESCE(MAX("seq"), 0) + 1 FROM "{turn}" WHERE "session_id" = %(session)s),
                   %(student_role)s, %(text)s, '', '{{}}', '{{}}', '', %(client_id)s, %(now)s
              FROM facts
             WHERE facts.resent IS NULL AND facts.status <> %(abandoned)s AND facts.recent < %(per_minute)s
            RETURNING "id", "seq"
        ),
        touched AS (
            UPDATE "{session}" SET "updated_at" = %(now)s WHERE "id" = %(session)s AND EXISTS (SELECT 1 FROM stored)
        )
        SELECT facts.status, facts.resent, facts.recent, stored."id", stored."seq" FROM facts LEFT JOIN stored ON TRUE
    """.format(facts=facts, **_tables())  # noqa: S608 - table names from the models, every value a parameter


def _parameters(session_id: int, client_id: str, now: Any) -> dict[str, Any]:
    return {
        "session": session_id,
        "client_id": client_id,
        "student_role": Turn.Role.STUDENT.value,
        "since": now - timedelta(seconds=WINDOW_SECONDS),
    }


def _stored_turn(session: TutoringSession, turn_id: int, seq: int, text: str, client_id: str, now: Any) -> Turn:
    """The turn just stored, as the ORM would have read it back (no read needed: every field is known)."""
    turn = Turn(id=turn_id, session=session, seq=seq, role=Turn.Role.STUDENT, text=text, client_message_id=client_id)
    turn.created_at = now
    turn._state.adding, turn._state.db = False, "default"
    return turn


def store_values(*, session_id: int, client_id: str, text: str, per_minute: int, now: Any) -> dict[str, Any]:
    """The parameters of :func:`store_sql` (named, so it can be sent with other statements: tutor/message_trip.py)."""
    return {
        **_parameters(session_id, client_id, now),
        "text": text,
        "now": now,
        "abandoned": TutoringSession.Status.ABANDONED.value,
        "per_minute": per_minute,
    }


def admitted_from(row: Any, *, session: TutoringSession, client_id: str, text: str, now: Any) -> Admitted:
    """The outcome from :func:`store_sql`'s last row (None: the lock found no session)."""
    if row is None:
        raise TutoringSession.DoesNotExist(f"no tutoring session {session.pk}")
    status, resent, recent, turn_id, seq = row
    facts = Facts(status=status, resent=resent, recent=recent)
    stored = None if turn_id is None else _stored_turn(session, turn_id, seq, text, client_id, now)
    return Admitted(facts, stored)


def facts_here(*, session_id: int, client_id: str) -> Facts:
    """The facts of a message through Django's connection (any database)."""
    values = _parameters(session_id, client_id, timezone.now())
    values["since"] = connection.ops.adapt_datetimefield_value(values["since"])
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), values)
        row = cursor.fetchone()
    if row is None:
        raise TutoringSession.DoesNotExist(f"no tutoring session {session_id}")
    return Facts(status=row[0], resent=row[1], recent=row[2])
