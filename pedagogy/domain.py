"""Problem content as the planner sees it: problems, steps, hint ladders and known misconceptions.

These mirror the product's native content format (YAML/JSON, one problem per list item). They are frozen so that a
problem can be shared between requests, cached, and used as a dictionary key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

AnswerType = Literal["number", "expression", "equation", "multiple_choice", "text"]
HintKind = Literal["hint", "scaffold", "bottom_out"]
ANSWER_TYPES: tuple[str, ...] = get_args(AnswerType)
HINT_KINDS: tuple[str, ...] = get_args(HintKind)


@dataclass(frozen=True)
class Hint:
    """One rung of a step's hint ladder.

    A ``scaffold`` is a smaller sub-question with its own ``answer``; a ``bottom_out`` hint tells the step.
    """

    kind: HintKind
    text: str
    answer: str | None = None
    answer_type: AnswerType = "number"


@dataclass(frozen=True)
class Misconception:
    """A known wrong answer and the targeted feedback for it; ``wrong`` is a regular expression when ``pattern``."""

    wrong: str
    feedback: str
    pattern: bool = False


@dataclass(frozen=True)
class Step:
    id: str
    prompt: str
    answer: str
    answer_type: AnswerType = "number"
    skills: tuple[str, ...] = ()
    hints: tuple[Hint, ...] = ()
    misconceptions: tuple[Misconception, ...] = ()
    unit: str | None = None


@dataclass(frozen=True)
class Problem:
    id: str
    text: str
    answer: str
    answer_type: AnswerType = "number"
    steps: tuple[Step, ...] = ()
    skills: tuple[str, ...] = ()
    title: str = ""
    unit: str | None = None
    # Optional prerequisite edges between skills, (prerequisite, skill); the knowledge graph owns their meaning.
    prerequisites: tuple[tuple[str, str], ...] = field(default=())

    def all_skills(self) -> tuple[str, ...]:
        """The problem's skills followed by any step skill not already listed, in order."""
        seen = dict.fromkeys(self.skills)
        for step in self.steps:
            seen.update(dict.fromkeys(step.skills))
        return tuple(seen)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        """Build a problem from one record of the native format. Raises ContentError naming the bad field."""
        return _problem_from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The native-format record for this problem (the inverse of ``from_dict``)."""
        out: dict[str, Any] = {
            "slug": self.id,
            "title": self.title,
            "text": self.text,
            "answer": self.answer,
            "answer_type": self.answer_type,
            "skills": list(self.skills),
            "steps": [_step_to_dict(s) for s in self.steps],
        }
        if self.unit:
            out["unit"] = self.unit
        if self.prerequisites:
            out["prerequisites"] = [list(edge) for edge in self.prerequisites]
        return out


class ContentError(ValueError):
    """A problem record that cannot be used; ``location`` says where (``steps[1].hints[0].kind``)."""

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"{location}: {reason}")
        self.location = location
        self.reason = reason


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None:
        if required:
            raise ContentError(f"{where}{key}", "is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ContentError(f"{where}{key}", "must be text")
    return str(value).strip()


def _answer_type(data: Mapping[str, Any], where: str, default: str = "number") -> AnswerType:
    value = data.get("answer_type", default)
    if value not in ANSWER_TYPES:
        raise ContentError(f"{where}answer_type", f"must be one of {', '.join(ANSWER_TYPES)}")
    return cast(AnswerType, value)


def _skills(data: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = data.get("skills", ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ContentError(f"{where}skills", "must be a list of skill ids")
    return tuple(s.strip() for s in value)


def _problem_from_dict(data: Mapping[str, Any]) -> Problem:
    pid = _text(data, "slug", "", required=False) or _text(data, "id", "")
    raw_steps = data.get("steps", [])
    if not isinstance(raw_steps, list):
        raise ContentError("steps", "must be a list")
    steps = tuple(_step_from_dict(s, i) for i, s in enumerate(raw_steps))
    if len({s.id for s in steps}) != len(steps):
        raise ContentError("steps", "step ids must be unique")
    prereqs = data.get("prerequisites", [])
    if not isinstance(prereqs, list) or not all(
        isinstance(e, list | tuple) and len(e) == 2 and all(isinstance(x, str) for x in e) for e in prereqs
    ):
        raise ContentError("prerequisites", "must be a list of [prerequisite, skill] pairs")
    return Problem(
        id=pid,
        title=_text(data, "title", "", required=False),
        text=_text(data, "text", ""),
        answer=_text(data, "answer", ""),
        answer_type=_answer_type(data, ""),
        unit=_text(data, "unit", "", required=False) or None,
        skills=_skills(data, ""),
        steps=steps,
        prerequisites=tuple((str(a), str(b)) for a, b in prereqs),
    )


def _step_from_dict(data: Any, index: int) -> Step:
    where = f"steps[{index}]."
    if not isinstance(data, Mapping):
        raise ContentError(f"steps[{index}]", "must be a mapping")
    answer_type = _answer_type(data, where)
    raw_hints = data.get("hints", [])
    raw_mis = data.get("misconceptions", [])
    if not isinstance(raw_hints, list):
        raise ContentError(f"{where}hints", "must be a list")
    if not isinstance(raw_mis, list):
        raise ContentError(f"{where}misconceptions", "must be a list")
    hints = []
    for j, h in enumerate(raw_hints):
        hw = f"{where}hints[{j}]."
        if not isinstance(h, Mapping):
            raise ContentError(f"{where}hints[{j}]", "must be a mapping")
        kind = h.get("kind", "hint")
        if kind not in HINT_KINDS:
            raise ContentError(f"{hw}kind", f"must be one of {', '.join(HINT_KINDS)}")
        answer = _text(h, "answer", hw, required=kind == "scaffold") or None
        hints.append(
            Hint(
                kind=cast(HintKind, kind),
                text=_text(h, "text", hw),
                answer=answer,
                answer_type=_answer_type(h, hw, answer_type),
            )
        )
    misconceptions = []
    for j, m in enumerate(raw_mis):
        mw = f"{where}misconceptions[{j}]."
        if not isinstance(m, Mapping):
            raise ContentError(f"{where}misconceptions[{j}]", "must be a mapping")
        misconceptions.append(
            Misconception(
                wrong=_text(m, "wrong", mw), feedback=_text(m, "feedback", mw), pattern=bool(m.get("pattern"))
            )
        )
    return Step(
        id=_text(data, "id", where, required=False) or f"step-{index + 1}",
        prompt=_text(data, "prompt", where),
        answer=_text(data, "answer", where),
        answer_type=answer_type,
        skills=_skills(data, where),
        hints=tuple(hints),
        misconceptions=tuple(misconceptions),
        unit=_text(data, "unit", where, required=False) or None,
    )


def _step_to_dict(step: Step) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": step.id,
        "prompt": step.prompt,
        "answer": step.answer,
        "answer_type": step.answer_type,
        "skills": list(step.skills),
        "hints": [
            {"kind": h.kind, "text": h.text}
            | ({"answer": h.answer, "answer_type": h.answer_type} if h.answer is not None else {})
            for h in step.hints
        ],
        "misconceptions": [
            {"wrong": m.wrong, "feedback": m.feedback} | ({"pattern": True} if m.pattern else {})
            for m in step.misconceptions
        ],
    }
    if step.unit:
        out["unit"] = step.unit
    return out
