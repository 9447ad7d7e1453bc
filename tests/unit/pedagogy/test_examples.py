"""Worked examples of a similar case: same operation, other numbers, nothing the reply may not say."""

from __future__ import annotations

import re
from fractions import Fraction

from pedagogy.domain import Problem
from pedagogy.examples import operation_of, worked_example
from pedagogy.planner import plan_turn, read_and_align
from pedagogy.tree import build_tree


def test_it_works_a_similar_case_with_the_steps_operation_and_other_numbers(bake_sale: Problem) -> None:
    node = build_tree(bake_sale).node("cookies.2")  # "What is 4 groups of 6?"
    assert operation_of(node) == "*"
    example = worked_example(node, avoid=frozenset({Fraction(4), Fraction(6)}), leaks=lambda _: False)
    assert example is not None and "\u00d7" in example
    assert "4 " not in example and " 6 " not in example


def test_it_skips_a_case_that_would_state_a_forbidden_value(bake_sale: Problem) -> None:
    node = build_tree(bake_sale).node("cookies.2")
    first = worked_example(node, avoid=frozenset(), leaks=lambda _: False)
    second = worked_example(node, avoid=frozenset(), leaks=lambda text: text == first)
    assert first is not None and second is not None and second != first


def test_a_step_with_no_recognisable_operation_gets_no_example() -> None:
    problem = Problem.from_dict(
        {"slug": "days", "text": "Which day comes after Monday?", "answer": "Tuesday", "answer_type": "text"}
    )
    tree = build_tree(problem)
    assert worked_example(tree.node(tree.step_ids[0]), avoid=frozenset(), leaks=lambda _: False) is None


def test_a_student_working_the_shown_example_is_not_told_they_left_the_problems_path(bake_sale: Problem) -> None:
    plan, state = plan_turn(bake_sale, None, None)
    for _ in range(8):
        plan, state = plan_turn(bake_sale, state, "I don't know, can I have a hint?")
        if plan.sub_kind == "worked_example":
            break
    assert plan.sub_kind == "worked_example" and plan.example
    calculation = re.search(r"[\d.]+ \S [\d.]+ = [\d.]+", plan.example)
    assert calculation is not None
    message = f"So {calculation.group(0)}."
    assert read_and_align(bake_sale, None, message).first_wrong is not None  # without the example: off the path
    assert read_and_align(bake_sale, state, message).first_wrong is None
