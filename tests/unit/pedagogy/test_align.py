"""Aligning a reading with the question tree: a claim is judged by what it names, not by its value alone."""

from __future__ import annotations

import pytest

from pedagogy.domain import Problem
from pedagogy.gsm8k import problem_from_gsm8k
from pedagogy.planner import read_and_align


@pytest.fixture
def turtles() -> Problem:
    record = {
        "question": (
            "One tank holds 8 crabs and another holds 44 crabs. The difference between the numbers of crabs is twice "
            "the number of turtles in both tanks together. Both tanks hold the same number of turtles. How many "
            "turtles are in each tank?"
        ),
        "answer": (
            "The difference is 44 - 8 = <<44-8=36>>36 crabs.\n"
            "There are 36/2 = <<36/2=18>>18 turtles in both tanks.\n"
            "There are 18/2 = <<18/2=9>>9 turtles in each tank.\n#### 9"
        ),
    }
    problem = problem_from_gsm8k(record, problem_id="turtles")
    assert problem is not None
    return problem


def test_a_steps_value_named_as_each_when_the_step_counts_both_is_wrong(turtles: Problem) -> None:
    alignment = read_and_align(
        turtles, None, "If I divide 36 by 2, I get 18, which is the number of turtles in each tank."
    )
    assert alignment.first_wrong is not None
    assert alignment.first_wrong.claim.stated == 18


def test_the_same_value_named_as_both_is_right(turtles: Problem) -> None:
    alignment = read_and_align(
        turtles, None, "If I divide 36 by 2, I get 18, which is the number of turtles in both tanks."
    )
    assert alignment.first_wrong is None
    assert [a.verdict for a in alignment.claims] == ["correct"]
