"""A class's sessions, turns and mastery as CSV rows for a spreadsheet.

Students write what they like, and a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab
or carriage return, which some programs strip before looking) as a formula: such a text cell is written with a
leading apostrophe, which spreadsheets read as "this is text". Numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol

from knowledge_graph.models import Skill, SkillState

from . import selectors
from .analytics import FLAG_CODES
from .models import Classroom, SessionFigures, Turn, TutoringSession, User

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A class's export is built in memory; past this many rows the export is refused with a message, never cut short.
MAX_EXPORT_ROWS = 200_000


def spreadsheet_cell(value: Any) -> str | int | float:
    """One cell: text that a spreadsheet would run as a formula gets a leading apostrophe; None is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


class TextSink(Protocol):
    """Where CSV text goes: a file, or the HTTP response itself."""

    def write(self, text: str, /) -> object: ...


def write_csv(out: TextSink, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_cell(v) for v in row])


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


SESSION_HEADER = [
    "session_id",
    "student",
    "username",
    "problem_set",
    "problem",
    "status",
    "started_at",
    "finished_at",
    "solved",
    "turns",
    "student_turns",
    "time_on_task_seconds",
    "hints_used",
    "steps",
    "steps_told",
    "telling_rate",
    "student_talk_share",
    "first_attempt_correct_rate",
    "flags",
]


def session_rows(*, classroom: Classroom) -> Iterator[list[Any]]:
    sessions = (
        selectors.class_sessions(classroom=classroom)
        .select_related("student", "problem", "problem__problem_set", "figures")
        .order_by("started_at", "id")
    )
    for s in sessions.iterator(chunk_size=500):
        f: SessionFigures | None = getattr(s, "figures", None)
        yield [
            s.pk,
            s.student.display_name,
            s.student.username,
            s.problem.problem_set.title,
            s.problem.title,
            s.status,
            s.started_at,
            s.finished_at,
            f.solved if f else s.status == TutoringSession.Status.SOLVED,
            f.turns if f else None,
            f.student_turns if f else None,
            f.time_on_task_seconds if f else None,
            f.hints_used if f else s.hints_used,
            f.steps if f else None,
            f.steps_told if f else None,
            _ratio(f.telling_rate) if f else None,
            _ratio(f.talk_share) if f else None,
            _ratio(f.first_attempt_rate) if f else None,
            "; ".join(str(f.flags[c]["label"]) for c in FLAG_CODES if c in f.flags) if f else "",
        ]


TURN_HEADER = [
    "session_id",
    "student",
    "problem",
    "seq",
    "role",
    "created_at",
    "text",
    "move",
    "reason",
    "student_intent",
    "guard_source",
    "model_reply_replaced",
    "backend",
    "latency_ms",
]


def turn_count(*, classroom: Classroom) -> int:
    return Turn.objects.filter(session__assignment__classroom=classroom).count()


def turn_rows(*, classroom: Classroom) -> Iterator[list[Any]]:
    turns = (
        Turn.objects.filter(session__assignment__classroom=classroom)
        .select_related("session__student", "session__problem")
        .order_by("session_id", "seq")
    )
    for t in turns.iterator(chunk_size=2000):
        plan, verdict = t.plan or {}, t.guard_verdict or {}
        rejections = verdict.get("rejections") or []
        yield [
            t.session_id,
            t.session.student.display_name,
            t.session.problem.title,
            t.seq,
            t.role,
            t.created_at,
            t.text,
            t.move,
            plan.get("reason"),
            plan.get("intent"),
            verdict.get("source"),
            any(isinstance(r, dict) and r.get("source") == "model" for r in rejections) if verdict else None,
            t.backend,
            t.latency_ms,
        ]


MASTERY_HEADER = [
    "student",
    "username",
    "skill_code",
    "skill_name",
    "mastery",
    "attempts",
    "correct",
    "last_evidence_at",
]


def mastery_rows(*, classroom: Classroom) -> Iterator[list[Any]]:
    """Every student of the class against every skill its assignments practise; empty mastery: no evidence yet."""
    students: list[User] = list(selectors.students_by_name(classroom=classroom))
    skills = list(
        Skill.objects.filter(code__in=selectors.assigned_skill_codes(classroom_ids=[classroom.pk])).order_by("code")
    )
    states = {
        (st.learner_id, st.skill_id): st for st in SkillState.objects.filter(learner__in=students, skill__in=skills)
    }
    for student in students:
        for skill in skills:
            state = states.get((student.pk, skill.pk))
            yield [
                student.display_name,
                student.username,
                skill.code,
                skill.name,
                round(state.mastery, 3) if state else None,
                state.attempts if state else 0,
                state.correct if state else 0,
                state.last_evidence_at if state else None,
            ]
