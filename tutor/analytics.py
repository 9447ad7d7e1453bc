"""Figures and flags of one tutoring session, computed from its stored turns.

Pure: it takes the turns as plain records and returns plain data, so the same rules serve the background job, the
dashboard and the exports, and can be tested without a database. Everything is derived from what each tutor turn
stored: the planner's plan (move, intent, flags, outcomes, hint spent) and the guard's verdict.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pedagogy.guard import says_too_little
from pedagogy.planner import DEFAULT_POLICY
from pedagogy.realize import COMPLETED

# A pause longer than this between two turns counts only this long: a tab left open over lunch is not work.
IDLE_CAP_SECONDS = 300
HINT_TEXT_CHARS = 200

# Help that the hint budget charges for, by the planner's sub-kind; each names what the student was shown.
_HELP_TEXT_FIELDS = {"hint": "hint", "scaffold_question": "question", "worked_example": "example"}


@dataclass(frozen=True)
class FlagKind:
    code: str
    title: str  # a short column heading / filter option
    describe: str  # the sentence shown beside a flagged session ("{times}" becomes "once", "twice", "3 times")


# In the order the dashboard lists them: the planner's own alarms first, then what the teacher may want to read.
FLAG_KINDS: tuple[FlagKind, ...] = (
    FlagKind("stuck", "Stuck", "Stuck on a step for many turns"),
    FlagKind("answer_requests", "Asked for the answer", "Asked for the answer {times}"),
    FlagKind("hint_budget", "Hints spent", "Used up the hint budget"),
    FlagKind("frustration", "Frustrated", "Sounded frustrated {times}"),
    FlagKind("off_task", "Off task", "Wrote off-task messages {times}"),
    FlagKind("injection", "Rule change", "Tried to change the tutor's rules {times}"),
    FlagKind("guessing", "Guessing", "Guessed numbers rapidly {times}"),
    FlagKind("guard_replaced", "Reply replaced", "The guard replaced a model reply {times}"),
)
FLAG_CODES = tuple(k.code for k in FLAG_KINDS)
FLAG_BY_CODE = {k.code: k for k in FLAG_KINDS}


@dataclass(frozen=True)
class TurnRecord:
    """What the figures need of a stored turn."""

    seq: int
    role: str  # "student", "tutor" or "system"
    text: str
    created_at: datetime
    plan: Mapping[str, Any] = field(default_factory=dict)
    guard_verdict: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Figures:
    solved: bool
    turns: int
    student_turns: int
    time_on_task_seconds: int
    hints_used: int
    steps: int
    steps_resolved: int
    steps_told: int
    steps_first_attempt_correct: int
    student_chars: int
    tutor_chars: int
    flags: dict[str, dict[str, Any]]
    hints: list[dict[str, str]]


def session_figures(turns: Sequence[TurnRecord], *, steps: int, solved: bool) -> Figures:
    """The figures of one session from its turns (in any order); ``steps`` is how many steps the problem has."""
    spoken = sorted((t for t in turns if t.role in ("student", "tutor")), key=lambda t: t.seq)
    student = [t for t in spoken if t.role == "student"]
    tutor = [t for t in spoken if t.role == "tutor"]
    outcomes = [o for t in tutor for o in _outcomes(t.plan)]
    hints = [h for t in tutor if (h := _hint_given(t.plan)) is not None]
    return Figures(
        solved=solved,
        turns=len(spoken),
        student_turns=len(student),
        time_on_task_seconds=_time_on_task(spoken),
        hints_used=len(hints),
        steps=steps,
        steps_resolved=len(outcomes),
        steps_told=sum(1 for o in outcomes if o.get("resolution") == "told"),
        steps_first_attempt_correct=sum(1 for o in outcomes if o.get("first_attempt_correct") is True),
        student_chars=sum(len(t.text) for t in student),
        tutor_chars=sum(len(t.text) for t in tutor),
        flags=session_flags(spoken),
        hints=hints,
    )


def _time_on_task(spoken: Sequence[TurnRecord]) -> int:
    total = 0.0
    for before, after in itertools.pairwise(spoken):
        gap = (after.created_at - before.created_at).total_seconds()
        total += min(max(gap, 0.0), IDLE_CAP_SECONDS)
    return round(total)


def _outcomes(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    outcomes = plan.get("outcomes")
    return [o for o in outcomes if isinstance(o, Mapping)] if isinstance(outcomes, list) else []


def _hint_given(plan: Mapping[str, Any]) -> dict[str, str] | None:
    """The hint a tutor turn charged to the budget, as (node, kind, text); None when it gave none."""
    if not plan.get("hint_spent"):
        return None
    kind = str(plan.get("sub_kind") or "hint")
    text = plan.get(_HELP_TEXT_FIELDS.get(kind, "hint")) or plan.get("hint") or plan.get("question") or ""
    return {"node": str(plan.get("target_node") or ""), "kind": kind, "text": str(text)[:HINT_TEXT_CHARS]}


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _spent_last_hint(plan: Mapping[str, Any]) -> bool:
    """This turn gave the last hint the assignment allows (the planner flags only a request past the budget)."""
    budget = plan.get("budget")
    return bool(plan.get("hint_spent")) and isinstance(budget, Mapping) and budget.get("hints") == 0


def _model_reply_replaced(verdict: Mapping[str, Any]) -> bool:
    """The guard rejected the model's reply for something it said, or replaced it with the template. A reply kept
    and completed because it only left out part of the plan (source ``model+plan``) is not worth the teacher's look."""
    rejections = verdict.get("rejections")
    if not isinstance(rejections, list):
        return False
    refused = [r for r in rejections if isinstance(r, Mapping) and r.get("source") == "model"]
    if verdict.get("source") == COMPLETED:
        return any(not says_too_little([str(reason) for reason in r.get("reasons") or ()]) for r in refused)
    return bool(refused)


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


class _FlagCollector:
    """Raises each kind of flag once, at the turn that crossed its threshold, and counts every occurrence."""

    def __init__(self) -> None:
        self.flags: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {}

    def count(self, code: str, seq: int, *, threshold: int = 1, label: str = "") -> None:
        self.counts[code] = self.counts.get(code, 0) + 1
        if code not in self.flags and self.counts[code] >= threshold:
            self.raise_at(code, seq, label=label)

    def raise_at(self, code: str, seq: int, *, label: str = "") -> None:
        if code not in self.flags:
            self.flags[code] = {"seq": seq, "label": label}

    def result(self) -> dict[str, dict[str, Any]]:
        out = {}
        for code in FLAG_CODES:  # a fixed order, so stored rows compare equal
            if code in self.flags:
                count = max(self.counts.get(code, 0), 1)
                label = self.flags[code]["label"] or FLAG_BY_CODE[code].describe.format(times=_times(count))
                out[code] = {"seq": self.flags[code]["seq"], "count": count, "label": label}
        return out


def session_flags(turns: Sequence[TurnRecord]) -> dict[str, dict[str, Any]]:
    """The reasons a teacher should look at a session, each with the turn to read (``seq``).

    A flag about what the student wrote points at the student's message that raised it (the turn just before the
    tutor's reply that recorded it); a replaced reply points at the tutor's turn. Thresholds for asking for the
    answer and for off-task messages are the planner's own, so the dashboard and the tutor agree on them.
    """
    found = _FlagCollector()
    last_student_seq: int | None = None
    for turn in sorted(turns, key=lambda t: t.seq):
        if turn.role == "student":
            last_student_seq = turn.seq
            continue
        if turn.role != "tutor":
            continue
        plan, raised_by = turn.plan, last_student_seq if last_student_seq is not None else turn.seq
        intent = plan.get("intent")
        planner_flags = _strings(plan.get("flags"))
        # Besides the planner's reading (intent), a turn's flags name attempts it could not read: an answer request
        # written backwards or in code, rules changed in another language, rapid guessing.
        attempts = [f for f in planner_flags if f != "asked for the answer repeatedly"]
        if intent == "answer_request" or any(f.startswith("asked for the answer") for f in attempts):
            found.count("answer_requests", raised_by, threshold=DEFAULT_POLICY.flag_after_answer_requests)
        if "asked for the answer repeatedly" in planner_flags:
            found.raise_at("answer_requests", raised_by)
        if intent == "off_task":
            found.count("off_task", raised_by, threshold=DEFAULT_POLICY.flag_after_off_task)
        if "repeatedly off task" in planner_flags:
            found.raise_at("off_task", raised_by)
        if intent == "frustration" or plan.get("acknowledge") == "frustration":
            found.count("frustration", raised_by)
        if intent == "rule_change" or any(f.startswith("tried to change the tutor's rules") for f in attempts):
            found.count("injection", raised_by)
        if any(f.startswith("guessed ") for f in attempts):
            found.count("guessing", raised_by)
        for reason in planner_flags:
            if reason.startswith("stuck on "):
                found.raise_at("stuck", raised_by, label=f"Stuck on {reason.removeprefix('stuck on ')}")
        if "hint budget spent" in planner_flags or _spent_last_hint(plan):
            found.raise_at("hint_budget", raised_by)
        if _model_reply_replaced(turn.guard_verdict):
            found.count("guard_replaced", turn.seq)
    return found.result()
