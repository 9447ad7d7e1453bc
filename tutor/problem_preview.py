"""A problem as a student meets it: the tutor's opening, then for each step the hint ladder as a student receives
it by pressing "Hint" again and again, before the question then asked is answered and the next step begins.

The turns are planned and worded by the same planner and templates a real session uses (with the model left out,
as when no model server is configured), and nothing is stored: the preview is a dry run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pedagogy import domain
from pedagogy.guard import GuardContext
from pedagogy.plan import HintBudget, TurnPlan
from pedagogy.planner import plan_turn
from pedagogy.realize import deliver
from pedagogy.state import DialogueState
from pedagogy.tree import build_tree

from .content.schema import ProblemDoc
from .models import Hint

HELP_REQUEST = "Can I have a hint?"
# No cap on hints, so the whole ladder shows; no telling, so a step is never answered for the student mid-ladder.
PREVIEW_BUDGET = HintBudget(hints_per_problem=None, tells_per_problem=None)
MAX_TURNS = 120
# Help requests per step beyond the ladder's length before the preview answers the step: the planner's last rungs
# (a worked example, "no more hints") come after the authored ones.
EXTRA_REQUESTS = 2
_HELP_GIVEN = {"hint", "scaffold_question", "worked_example", "explain_concept", "misconception_feedback"}


@dataclass(frozen=True)
class PreviewTurn:
    """Shaped like a stored turn for the transcript template (``sessions/_turn.html``)."""

    seq: int
    role: str
    text: str
    move: str = ""
    plan: dict[str, Any] = field(default_factory=dict)
    step: int | None = None  # the step (from 1) the tutor is on
    client_message_id: None = None


def problem_from_doc(doc: ProblemDoc) -> domain.Problem:
    """A problem read from a file but not stored, as the planner would see it once stored (``Problem.to_domain``
    of the rows the import writes): a preview before an import shows what the import will give."""
    return domain.Problem(
        id=f"{doc.slug}@preview",
        title=doc.title,
        text=doc.text,
        answer=doc.answer,
        answer_type=doc.answer_type,
        unit=doc.unit or None,
        skills=tuple(dict.fromkeys(doc.skills)),
        steps=tuple(
            domain.Step(
                id=str(position),
                prompt=step.prompt,
                answer=step.answer,
                answer_type=step.answer_type,
                skills=tuple(dict.fromkeys(step.skills)),
                hints=tuple(
                    domain.Hint(kind=h.kind, text=h.text, answer=h.answer or None, answer_type=h.answer_type)
                    for h in step.hints
                ),
                misconceptions=tuple(
                    domain.Misconception(wrong=m.wrong, feedback=m.feedback, pattern=m.pattern)
                    for m in step.misconceptions
                ),
            )
            for position, step in enumerate(doc.steps, start=1)
        ),
    )


def ladder_rows(problem: domain.Problem) -> list[dict[str, Any]]:
    """Each step with its hint ladder as authored, for ``admin_tools/_problem_preview.html``: the same rows whether
    the problem is stored or only read from an upload."""
    kinds = dict(Hint.Kind.choices)
    return [
        {
            "prompt": step.prompt,
            "answer": step.answer,
            "hints": [{"kind": kinds.get(h.kind, h.kind), "text": h.text, "answer": h.answer} for h in step.hints],
        }
        for step in problem.steps
    ]


def preview_turns(problem: domain.Problem, *, max_turns: int = MAX_TURNS) -> list[PreviewTurn]:
    """The dry-run transcript of ``problem``: help asked for on every rung of every step, then the step answered."""
    tree = build_tree(problem)
    turns: list[PreviewTurn] = []
    state: DialogueState | None = None
    requests: dict[str, int] = {}

    def tutor_says(message: str | None) -> TurnPlan:
        nonlocal state
        if message is not None:
            turns.append(PreviewTurn(len(turns) + 1, "student", message))
        plan, state = plan_turn(problem, state, message, budget=PREVIEW_BUDGET, rng_seed=len(turns))
        context = GuardContext(problem_text=problem.text, dialogue=tuple(t.text for t in turns))
        previous = next((t.text for t in reversed(turns) if t.role == "tutor"), None)
        delivery = deliver(None, plan, context, previous=previous)
        node = tree.nodes.get(plan.target_node or "")
        turns.append(
            PreviewTurn(
                len(turns) + 1,
                "tutor",
                delivery.text,
                move=f"{plan.move}:{plan.sub_kind}",
                plan={"reason": plan.reason},
                step=node.step_index + 1 if node is not None else None,
            )
        )
        return plan

    plan = tutor_says(None)
    while len(turns) < max_turns and state is not None and not state.solved:
        node = tree.node(plan.target_node or state.current or tree.step_ids[0])
        step = tree.step_of(node.id)
        asked = requests.get(step.id, 0)
        # Press "Hint" while it brings something new; then answer what is asked (a smaller question or the step).
        if asked < len(step.ladder) + EXTRA_REQUESTS and (asked == 0 or plan.sub_kind in _HELP_GIVEN):
            requests[step.id] = asked + 1
            plan = tutor_says(HELP_REQUEST)
        else:
            plan = tutor_says(node.answer)
    return turns
