"""What the planner decides for one tutor turn, and the hint budget it decides within.

Moves follow MathDial's teacher-move taxonomy: ``focus`` (steer to the next step: ask, confirm, hint, scaffold,
redirect), ``probing`` (make the student reason: ask how they got a value, targeted misconception feedback),
``telling`` (reveal a step) and ``generic`` (greet, encourage, wrap up).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

from pedagogy.state import Resolution

Move = Literal["focus", "probing", "telling", "generic"]
SubKind = Literal[
    "ask",
    "confirm",
    "hint",
    "scaffold_question",
    "explain_concept",
    "redirect",
    "probe",
    "misconception_feedback",
    "tell_step",
    "greet",
    "encourage",
    "wrap_up",
    "close",
    "point_at_mistake",
    "almost",
    "hints_used_up",
    "worked_example",
    "acknowledge_reflection",
]
MOVE_OF: dict[str, Move] = {
    "ask": "focus",
    "confirm": "focus",
    "hint": "focus",
    "scaffold_question": "focus",
    "explain_concept": "focus",
    "redirect": "focus",
    "probe": "probing",
    "misconception_feedback": "probing",
    "tell_step": "telling",
    "greet": "generic",
    "encourage": "generic",
    "wrap_up": "generic",
    "close": "generic",
    "point_at_mistake": "probing",
    "almost": "focus",
    "hints_used_up": "focus",
    "worked_example": "focus",
    "acknowledge_reflection": "generic",
}
SUB_KINDS: tuple[str, ...] = get_args(SubKind)
Acknowledge = Literal["frustration", "answer_request", "rule_change", "greeting", "thanks", "off_task", "explanation"]
# What is wrong with the claim a ``point_at_mistake`` or ``almost`` turn answers:
# arithmetic: the student's calculation does not give the value they wrote ("70 / 3 = 24");
# operation: the right numbers with the wrong operation; quantity: a number that is not the step's (a made-up or
# wrong earlier value); misread: a number close to, but not, one the problem gives; partial: an answer that stops
# short (one side of an equation, a value without the unit the question asks for).
# path: right arithmetic, but a value the solution never needs, on the way to a wrong answer (a step too many, or a
# step that is not the question's).
Mistake = Literal["arithmetic", "operation", "quantity", "misread", "partial", "path", "naming"]
MISTAKES: tuple[str, ...] = get_args(Mistake)


@dataclass(frozen=True)
class HintBudget:
    """Limits on what a student may be given, per problem and per assignment; ``None`` means no limit.

    ``assignment_*_used`` counts what the student already used on the assignment's *other* problems; the web app
    adds each plan's ``hint_spent``/``tell_spent`` to it.
    """

    hints_per_problem: int | None = 6
    tells_per_problem: int | None = 2
    hints_per_assignment: int | None = None
    tells_per_assignment: int | None = None
    assignment_hints_used: int = 0
    assignment_tells_used: int = 0

    def remaining(self, hints_used: int, tells_used: int) -> BudgetRemaining:
        return BudgetRemaining(
            hints=_left(
                self.hints_per_problem, hints_used, self.hints_per_assignment, self.assignment_hints_used + hints_used
            ),
            tells=_left(
                self.tells_per_problem, tells_used, self.tells_per_assignment, self.assignment_tells_used + tells_used
            ),
        )


def _left(per_problem: int | None, used: int, per_assignment: int | None, assignment_used: int) -> int | None:
    limits = [
        limit - spent for limit, spent in ((per_problem, used), (per_assignment, assignment_used)) if limit is not None
    ]
    return max(0, min(limits)) if limits else None


@dataclass(frozen=True)
class BudgetRemaining:
    hints: int | None
    tells: int | None

    def can_hint(self) -> bool:
        return self.hints is None or self.hints > 0

    def can_tell(self) -> bool:
        return self.tells is None or self.tells > 0


@dataclass(frozen=True)
class StepOutcome:
    """Evidence for the learner model: a step was resolved, and how."""

    step_id: str
    skills: tuple[str, ...]
    resolution: Resolution
    first_attempt_correct: bool  # right on the first try with no help seen on the step
    # The step's one knowledge-tracing observation (pedagogy.evidence.step_observation); None: no evidence either way.
    observation: bool | None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "skills": list(self.skills)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StepOutcome:
        first = bool(data["first_attempt_correct"])
        # Plans stored before ``observation`` existed were applied to mastery as ``first_attempt_correct``.
        observation = data.get("observation", first)
        return cls(
            data["step_id"],
            tuple(data["skills"]),
            data["resolution"],
            first,
            observation if isinstance(observation, bool) else None,
        )


@dataclass(frozen=True)
class TurnPlan:
    """One tutor turn, decided. A reply (template or model) phrases it; the guard checks the reply against it."""

    move: Move
    sub_kind: SubKind
    target_node: str | None
    reason: str  # one line a teacher can read
    budget: BudgetRemaining
    question: str | None = None  # the authored question the reply asks (or re-asks)
    asks_question: bool = True
    must_do: tuple[str, ...] = ()
    may_mention: tuple[str, ...] = ()
    # Canonical values the reply must not contain in any form; the final answer, while unsolved, comes first.
    must_not_reveal: tuple[str, ...] = ()
    intent: str = ""
    verdict: Literal["correct", "incorrect"] | None = None
    student_value: str | None = None
    hint: str | None = None
    feedback: str | None = None
    told: str | None = None
    concept: str | None = None
    acknowledge: Acknowledge | None = None
    # The student's own words for the claim this turn answers ("70 / 3 = 24"), what is wrong with it, and the number
    # in it to look at again ("70"); the claims from the same message that were right, in the student's words.
    claim: str | None = None
    mistake: Mistake | None = None
    operand: str | None = None
    credited: tuple[str, ...] = ()
    # A worked example of a similar case (other numbers, same operation) for a ``worked_example`` turn.
    example: str | None = None
    # Hints, smaller questions and worked examples the student has been given on the target's step.
    help_given: int = 0
    outcomes: tuple[StepOutcome, ...] = ()
    flags: tuple[str, ...] = ()  # new reasons to draw the teacher's attention, raised this turn
    hint_spent: bool = False
    tell_spent: bool = False
    solved: bool = False
    seed: int = 0
    max_chars: int = 700

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["outcomes"] = [o.to_json() for o in self.outcomes]
        for key in ("must_do", "may_mention", "must_not_reveal", "flags", "credited"):
            out[key] = list(out[key])
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TurnPlan:
        budget = data.get("budget") or {}
        return cls(
            move=cast(Move, data["move"]),
            sub_kind=cast(SubKind, data["sub_kind"]),
            target_node=data.get("target_node"),
            reason=str(data.get("reason", "")),
            budget=BudgetRemaining(hints=budget.get("hints"), tells=budget.get("tells")),
            question=data.get("question"),
            asks_question=bool(data.get("asks_question", True)),
            must_do=tuple(data.get("must_do", ())),
            may_mention=tuple(data.get("may_mention", ())),
            must_not_reveal=tuple(data.get("must_not_reveal", ())),
            intent=str(data.get("intent", "")),
            verdict=data.get("verdict"),
            student_value=data.get("student_value"),
            hint=data.get("hint"),
            feedback=data.get("feedback"),
            told=data.get("told"),
            concept=data.get("concept"),
            acknowledge=data.get("acknowledge"),
            claim=data.get("claim"),
            mistake=data.get("mistake") if data.get("mistake") in MISTAKES else None,
            operand=data.get("operand"),
            credited=tuple(data.get("credited", ())),
            example=data.get("example"),
            help_given=int(data.get("help_given", 0) or 0),
            outcomes=tuple(StepOutcome.from_json(o) for o in data.get("outcomes", ())),
            flags=tuple(data.get("flags", ())),
            hint_spent=bool(data.get("hint_spent", False)),
            tell_spent=bool(data.get("tell_spent", False)),
            solved=bool(data.get("solved", False)),
            seed=int(data.get("seed", 0)),
            max_chars=int(data.get("max_chars", 700)),
        )
