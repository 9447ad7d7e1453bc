"""The dialogue state of one tutoring session: where the student is in the question tree and what happened there.

The web app stores it in a JSON column, so it round-trips through ``to_json``/``from_json``; ``from_json`` accepts
older or partial documents (missing keys take their defaults) so that a stored session never becomes unreadable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, cast, get_args

Resolution = Literal["unaided", "after_help", "told", "implied"]
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
STATE_VERSION = 1
MAX_NUMBERS = 100  # the student's numbers (and right values) kept in the state: the most recent


@dataclass
class NodeProgress:
    """Attempts and evidence on one node of the question tree."""

    attempts: int = 0
    wrong_values: list[str] = field(default_factory=list)
    rung: int = 0  # the next rung of the node's hint ladder
    probed: bool = False
    help_requests: int = 0
    help_seen: int = 0  # hints, scaffolds, feedback and probes the student has had on this node
    misconceptions_addressed: list[str] = field(default_factory=list)
    resolved: Resolution | None = None
    first_attempt_correct: bool | None = None
    stuck_turns: int = 0
    pointed: list[str] = field(default_factory=list)  # the student's wrong claims already pointed at, as written
    example_given: bool = False  # a worked example of a similar case was shown
    hints_given: int = 0  # hints, smaller questions and worked examples given on this step (each one charged)

    def record_attempt(self, correct: bool) -> None:
        """Count an answer to this node; the first one is the knowledge-tracing observation (right with no help)."""
        self.attempts += 1
        if self.attempts == 1:
            self.first_attempt_correct = correct and self.help_seen == 0

    @property
    def failures(self) -> int:
        return len(self.wrong_values) + self.help_requests

    def copy(self) -> NodeProgress:
        return replace(
            self,
            wrong_values=list(self.wrong_values),
            misconceptions_addressed=list(self.misconceptions_addressed),
            pointed=list(self.pointed),
        )

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeProgress:
        resolved = data.get("resolved")
        first = data.get("first_attempt_correct")
        return cls(
            attempts=_int(data.get("attempts")),
            wrong_values=[str(v) for v in data.get("wrong_values", []) if isinstance(v, str | int | float)],
            rung=_int(data.get("rung")),
            probed=bool(data.get("probed", False)),
            help_requests=_int(data.get("help_requests")),
            help_seen=_int(data.get("help_seen")),
            misconceptions_addressed=[str(v) for v in data.get("misconceptions_addressed", [])],
            resolved=cast(Resolution, resolved) if resolved in RESOLUTIONS else None,
            first_attempt_correct=first if isinstance(first, bool) else None,
            stuck_turns=_int(data.get("stuck_turns")),
            pointed=[str(v) for v in data.get("pointed") or [] if isinstance(v, str)],
            example_given=bool(data.get("example_given", False)),
            hints_given=_int(data.get("hints_given")),
        )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


@dataclass
class DialogueState:
    """Everything the planner remembers between turns of one session.

    The planner never mutates a state it is given: ``plan_turn`` works on a ``copy()`` and returns it.
    """

    problem_id: str = ""
    current: str | None = None
    nodes: dict[str, NodeProgress] = field(default_factory=dict)
    started: bool = False
    solved: bool = False
    wrapped_up: bool = False
    turns: int = 0
    hints_used: int = 0
    tells_used: int = 0
    answer_requests: int = 0
    rule_change_attempts: int = 0
    off_task_streak: int = 0
    flags: list[str] = field(default_factory=list)
    last_move: str | None = None
    last_sub_kind: str | None = None
    reflected: bool = False  # the student answered the reflection question after solving
    # Values the student stated before any mistake in their message, in order: later claims may build on them, and
    # the tutor may quote them back (never the final answer before it is solved).
    student_values: list[str] = field(default_factory=list)
    # Every number the student has written, right or wrong: a later calculation that uses one is not made up.
    student_numbers: list[str] = field(default_factory=list)
    # The numbers of the worked examples of similar cases the tutor has shown: work with them is about that case.
    example_numbers: list[str] = field(default_factory=list)

    def progress(self, node_id: str) -> NodeProgress:
        if node_id not in self.nodes:
            self.nodes[node_id] = NodeProgress()
        return self.nodes[node_id]

    def is_resolved(self, node_id: str) -> bool:
        progress = self.nodes.get(node_id)
        return progress is not None and progress.resolved is not None

    def copy(self) -> DialogueState:
        return replace(
            self,
            nodes={k: v.copy() for k, v in self.nodes.items()},
            flags=list(self.flags),
            student_values=list(self.student_values),
            student_numbers=list(self.student_numbers),
            example_numbers=list(self.example_numbers),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": STATE_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = {k: v.to_json() for k, v in value.items()} if f.name == "nodes" else value
        out["flags"] = list(self.flags)
        out["student_values"] = list(self.student_values)
        out["student_numbers"] = list(self.student_numbers)
        out["example_numbers"] = list(self.example_numbers)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DialogueState:
        nodes = data.get("nodes", {})
        current = data.get("current")
        return cls(
            problem_id=str(data.get("problem_id", "")),
            current=current if isinstance(current, str) else None,
            nodes={str(k): NodeProgress.from_json(v) for k, v in nodes.items() if isinstance(v, dict)}
            if isinstance(nodes, dict)
            else {},
            started=bool(data.get("started", False)),
            solved=bool(data.get("solved", False)),
            wrapped_up=bool(data.get("wrapped_up", False)),
            turns=_int(data.get("turns")),
            hints_used=_int(data.get("hints_used")),
            tells_used=_int(data.get("tells_used")),
            answer_requests=_int(data.get("answer_requests")),
            rule_change_attempts=_int(data.get("rule_change_attempts")),
            off_task_streak=_int(data.get("off_task_streak")),
            flags=[str(f) for f in data.get("flags", []) if isinstance(f, str)],
            last_move=data.get("last_move") if isinstance(data.get("last_move"), str) else None,
            last_sub_kind=data.get("last_sub_kind") if isinstance(data.get("last_sub_kind"), str) else None,
            # A session stored before reflections were acknowledged, and already closed, has had its reflection.
            reflected=bool(data.get("reflected", data.get("last_sub_kind") == "close")),
            student_values=[str(v) for v in data.get("student_values") or [] if isinstance(v, str)][-MAX_NUMBERS:],
            student_numbers=[str(v) for v in data.get("student_numbers") or [] if isinstance(v, str)][-MAX_NUMBERS:],
            example_numbers=[str(v) for v in data.get("example_numbers") or [] if isinstance(v, str)][-MAX_NUMBERS:],
        )
