"""Writes of the per-session figures: compute them from the stored turns and keep one row per session.

The figures are derived data: computing them again gives the same row, so every entry point (the background job
when a session ends, the management command, the dashboard's refresh) calls the same idempotent refresh.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet

from .analytics import TurnRecord, session_figures
from .models import SessionFigures, Turn, TutoringSession

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
_FIGURE_FIELDS = [
    "source_updated_at",
    "solved",
    "turns",
    "student_turns",
    "time_on_task_seconds",
    "hints_used",
    "steps",
    "steps_resolved",
    "steps_told",
    "steps_first_attempt_correct",
    "student_chars",
    "tutor_chars",
    "flags",
    "hints",
]


def stale_sessions(sessions: QuerySet[TutoringSession]) -> QuerySet[TutoringSession]:
    """Those of ``sessions`` with no figures yet, or with figures older than their latest turn."""
    return sessions.filter(Q(figures__isnull=True) | ~Q(figures__source_updated_at=F("updated_at")))


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for session_id in ids:
        batch.append(session_id)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def figures_refresh(*, session_ids: Iterable[int]) -> int:
    """Compute and store the figures of these sessions (ids that no longer exist are skipped); returns how many
    were stored. Two queries read a batch of sessions and their turns, one statement writes it."""
    stored = 0
    for batch in _batches(dict.fromkeys(session_ids)):
        stored += _refresh_batch(batch)
    return stored


@transaction.atomic
def _refresh_batch(session_ids: list[int]) -> int:
    # The session rows (and so ``updated_at``) are read before the turns: a turn stored in between is counted
    # but leaves the row marked stale, so the next refresh picks it up. Never the other way round.
    sessions = list(
        TutoringSession.objects.filter(pk__in=session_ids).annotate(step_count=Count("problem__steps", distinct=True))
    )
    turns: dict[int, list[TurnRecord]] = defaultdict(list)
    for session_id, seq, role, text, created_at, plan, verdict in (
        Turn.objects.filter(session_id__in=[s.pk for s in sessions])
        .order_by("session_id", "seq")
        .values_list("session_id", "seq", "role", "text", "created_at", "plan", "guard_verdict")
    ):
        turns[session_id].append(TurnRecord(seq, role, text, created_at, plan or {}, verdict or {}))
    rows = []
    for session in sessions:
        figures = session_figures(
            turns[session.pk],
            steps=session.step_count,
            solved=session.status == TutoringSession.Status.SOLVED,
        )
        rows.append(SessionFigures(session=session, source_updated_at=session.updated_at, **asdict(figures)))
    SessionFigures.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["session"], update_fields=[*_FIGURE_FIELDS, "computed_at"]
    )
    return len(rows)


def figures_refresh_stale(*, sessions: QuerySet[TutoringSession], limit: int | None = None) -> int:
    """Refresh the figures of those of ``sessions`` that are stale, at most ``limit`` of them (newest first)."""
    ids = stale_sessions(sessions).order_by("-updated_at").values_list("pk", flat=True)
    return figures_refresh(session_ids=list(ids if limit is None else ids[:limit]))


def figures_queue(session_ids: list[int]) -> list[Any]:
    """Queue the figures of these sessions, one task per batch, so that each task ends well inside its time limit;
    the tasks' results (already done when tasks run inline). Raises what the broker raises."""
    from .tasks import session_figures_task  # the tasks module imports the services that call this

    return [
        session_figures_task.delay(session_ids[start : start + BATCH_SIZE])
        for start in range(0, len(session_ids), BATCH_SIZE)
    ]


def figures_schedule(session_id: int) -> None:
    """Ask the background worker to compute a session's figures once the current transaction commits.

    Called when a session ends. A broker that is down must not fail the tutor's turn that ended the session: the
    figures are then computed when a teacher next opens the dashboard (stale rows are refreshed there).
    """
    from .tasks import session_figures_task  # the tasks module imports the services that call this

    def send() -> None:
        try:
            session_figures_task.delay([session_id])
        except Exception:  # any broker failure: the figures are derived data and are rebuilt on demand
            logger.warning("could not queue the figures of session %s; they will be computed on demand", session_id)

    transaction.on_commit(send)
