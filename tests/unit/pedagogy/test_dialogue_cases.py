"""The dialogue cases of ``bench.dialogue``: one script per way a tutor can misread a student."""

from __future__ import annotations

import pytest

from bench.dialogue_cases import CASES, Case, run_case
from pedagogy.domain import Problem
from pedagogy.planner import plan_turn


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_tutor_answers_what_the_student_wrote(case: Case) -> None:
    assert run_case(case) == []


def test_a_why_question_is_answered_only_when_it_names_an_operation() -> None:
    from pedagogy.concepts import explain_question

    assert explain_question("why do we subtract?") is not None
    assert explain_question("why do I sometimes get this wrong?") is None


def test_a_step_done_with_another_operation_gets_its_feedback_but_a_side_calculation_does_not(
    bake_sale: Problem,
) -> None:
    _, state = plan_turn(bake_sale, None, None)
    added, _ = plan_turn(bake_sale, state, "4 + 6 = 10")
    assert added.sub_kind == "misconception_feedback"  # the step's own numbers, added
    aside, _ = plan_turn(bake_sale, state, "I did 5 x 2 = 10")
    assert aside.sub_kind != "misconception_feedback"
