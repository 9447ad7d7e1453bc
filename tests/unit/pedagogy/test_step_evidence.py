"""The learner model's evidence from a step: one observation per step, from the student's first answer."""

from __future__ import annotations

import pytest

from pedagogy.domain import Problem
from pedagogy.evidence import step_observation
from pedagogy.plan import HintBudget, StepOutcome, TurnPlan
from pedagogy.planner import plan_turn
from pedagogy.state import Resolution
from tests.unit.pedagogy.conftest import BAKE_SALE

HINT = "Can I have a hint?"
LOW = {"arith.multiply": 0.1, "arith.subtract": 0.1, "arith.divide": 0.1, "money.decimals": 0.1}


def outcomes(problem: Problem, messages: list[str], mastery: dict[str, float] | None = None) -> list[StepOutcome]:
    """Every step outcome the planner reports while the student sends ``messages``, in order."""
    plan, state = plan_turn(problem, None, None, mastery=mastery)
    found = list(plan.outcomes)
    for message in messages:
        plan, state = plan_turn(problem, state, message, mastery=mastery, budget=HintBudget(hints_per_problem=None))
        found += plan.outcomes
    return found


def observed(problem: Problem, messages: list[str], mastery: dict[str, float] | None = None) -> dict[str, bool | None]:
    found = outcomes(problem, messages, mastery)
    assert len({o.step_id for o in found}) == len(found), "a step was reported twice"
    return {o.step_id: o.observation for o in found}


@pytest.mark.parametrize(
    ("resolution", "wrong_answers", "help_seen", "expected"),
    [
        ("unaided", 0, 0, True),
        ("implied", 0, 0, True),
        ("after_help", 1, 1, False),
        ("after_help", 5, 4, False),
        ("implied", 1, 1, False),
        ("told", 2, 3, False),
        ("after_help", 0, 1, None),
        ("implied", 0, 2, None),
    ],
)
def test_it_reads_one_observation_from_how_a_step_went(
    resolution: Resolution, wrong_answers: int, help_seen: int, expected: bool | None
) -> None:
    assert step_observation(resolution, wrong_answers=wrong_answers, help_seen=help_seen) is expected


def test_it_records_one_incorrect_observation_however_many_retries_and_hints_follow(bake_sale: Problem) -> None:
    assert observed(bake_sale, ["10", "11", HINT, "13", "24", "12"]) == {"cookies": False, "money": True}


def test_it_records_no_observation_for_a_step_solved_after_asking_for_help_before_any_answer(
    bake_sale: Problem,
) -> None:
    assert observed(bake_sale, [HINT, "24", "12"]) == {"cookies": None, "money": True}


def test_it_records_no_observation_when_a_scaffold_with_the_steps_answer_is_solved_after_help(
    bake_sale: Problem,
) -> None:
    # The second hint request opens "What is 4 groups of 6?", whose answer is the step's.
    assert observed(bake_sale, [HINT, HINT, "24"]) == {"cookies": None}


def test_it_counts_a_wrong_answer_to_a_scaffold_sub_question_as_a_wrong_answer_on_its_step(
    bake_sale: Problem,
) -> None:
    assert observed(bake_sale, [HINT, HINT, "25", "24"]) == {"cookies": False}


def test_it_counts_a_wrong_first_answer_even_when_a_later_value_implies_the_step(bake_sale: Problem) -> None:
    assert observed(bake_sale, ["20", "12"]) == {"cookies": False, "money": True}


def test_it_credits_a_step_implied_by_a_correct_later_value(pencils: Problem) -> None:
    assert observed(pencils, ["20"]) == {"bought": True, "kept": True}


def test_it_counts_a_told_step_as_incorrect(pencils: Problem) -> None:
    found = outcomes(pencils, ["11", "13", "15", "17", "19", "21"], mastery=LOW)
    assert [(o.step_id, o.resolution, o.observation) for o in found][:1] == [("bought", "told", False)]


def test_it_gives_each_step_that_shares_a_skill_its_own_observation() -> None:
    shared = {**BAKE_SALE, "steps": [BAKE_SALE["steps"][0], {**BAKE_SALE["steps"][1], "skills": ["arith.multiply"]}]}
    found = outcomes(Problem.from_dict(shared), ["24", "12"])
    assert [(o.step_id, o.skills, o.observation) for o in found] == [
        ("cookies", ("arith.multiply",), True),
        ("money", ("arith.multiply",), True),
    ]


def test_it_reads_a_stored_plan_from_before_observations_as_the_evidence_it_applied(bake_sale: Problem) -> None:
    plan, state = plan_turn(bake_sale, None, None)
    plan, _ = plan_turn(bake_sale, state, HINT)
    stored = plan.to_json()
    old = {
        "step_id": "cookies",
        "skills": ["arith.multiply"],
        "resolution": "after_help",
        "first_attempt_correct": False,
    }
    stored["outcomes"] = [old, {**old, "observation": None}]
    restored = TurnPlan.from_json(stored).outcomes
    assert [o.observation for o in restored] == [False, None]
    assert TurnPlan.from_json(TurnPlan.from_json(stored).to_json()) == TurnPlan.from_json(stored)
