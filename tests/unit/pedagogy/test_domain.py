from __future__ import annotations

import copy

import pytest

from pedagogy.domain import ContentError, Problem
from pedagogy.tree import FINAL_NODE_ID, build_tree
from tests.unit.pedagogy.conftest import BAKE_SALE


def test_a_problem_round_trips_through_the_native_format(bake_sale: Problem) -> None:
    assert Problem.from_dict(bake_sale.to_dict()) == bake_sale


@pytest.mark.parametrize(
    ("path", "value", "location"),
    [
        (("steps", 0, "hints", 1, "kind"), "clue", "steps[0].hints[1].kind"),
        (("steps", 0, "answer_type"), "essay", "steps[0].answer_type"),
        (("steps", 1, "prompt"), None, "steps[1].prompt"),
        (("steps", 0, "hints", 1, "answer"), None, "steps[0].hints[1].answer"),
    ],
)
def test_a_bad_record_names_the_field_at_fault(path: tuple[object, ...], value: object, location: str) -> None:
    data = copy.deepcopy(BAKE_SALE)
    target: object = data
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    if value is None:
        del target[path[-1]]  # type: ignore[attr-defined]
    else:
        target[path[-1]] = value  # type: ignore[index]
    with pytest.raises(ContentError) as err:
        Problem.from_dict(data)
    assert err.value.location == location


def test_the_tree_puts_scaffolds_under_their_step(bake_sale: Problem) -> None:
    tree = build_tree(bake_sale)
    assert tree.step_ids == ("cookies", "money")
    assert tree.node("cookies").children == ("cookies.2",)
    assert tree.node("cookies.2").parent == "cookies"
    assert tree.node("money").is_final and not tree.node("cookies").is_final


def test_the_tree_asks_for_the_final_answer_when_the_steps_stop_short() -> None:
    problem = Problem.from_dict({**BAKE_SALE, "steps": BAKE_SALE["steps"][:1]})  # type: ignore[index]
    tree = build_tree(problem)
    assert tree.step_ids == ("cookies", FINAL_NODE_ID)
    assert tree.node(FINAL_NODE_ID).prompt == "Now, back to the problem: How much money does she make?"


def test_a_problem_without_steps_is_a_single_question() -> None:
    problem = Problem(id="p", text="What is 6 times 7?", answer="42")
    plan_tree = build_tree(problem)
    assert plan_tree.step_ids == (FINAL_NODE_ID,)
