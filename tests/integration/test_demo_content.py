"""The demo content, as the tutor delivers it: every authored question and hint can be said as written."""

from __future__ import annotations

import pytest

from pedagogy.domain import Problem
from pedagogy.guard import GuardContext
from pedagogy.plan import HintBudget
from pedagogy.planner import plan_turn
from pedagogy.realize import deliver
from tutor.content.native import load_native_file
from tutor.demo import demo_content_files

PROBLEMS = [
    Problem.from_dict(problem.model_dump())
    for path in demo_content_files()
    for problem in load_native_file(path).problems
]


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.id for p in PROBLEMS])
def test_every_question_and_hint_of_the_demo_passes_the_guard_as_written(problem: Problem) -> None:
    """Walk each step asking for every hint, then answer it; no template may fall back to the minimal reply
    (which happens when authored text states a value the tutor must not reveal)."""
    budget = HintBudget(hints_per_problem=50, tells_per_problem=0)
    context = GuardContext(problem.text)
    plan, state = plan_turn(problem, None, None, budget=budget)
    fallbacks = [] if deliver(None, plan, context).source == "template" else ["opening"]
    for step in problem.steps:
        for _ in range(len(step.hints) + 1):
            plan, state = plan_turn(problem, state, "Can I have a hint?", budget=budget)
            if deliver(None, plan, context).source != "template":
                fallbacks.append(f"step {step.id} {plan.sub_kind}: {plan.hint or plan.question}")
        for hint in step.hints:  # answer the scaffolds the tutor asked, then the step
            if hint.kind == "scaffold" and not state.is_resolved(step.id):
                plan, state = plan_turn(problem, state, hint.answer, budget=budget)
        plan, state = plan_turn(problem, state, step.answer, budget=budget)
        if deliver(None, plan, context).source != "template":
            fallbacks.append(f"step {step.id} answered: {plan.sub_kind}")
    assert fallbacks == []
    assert state.solved
