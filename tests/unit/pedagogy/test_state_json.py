"""Dialogue states stored by an earlier version of the planner still load and plan."""

from __future__ import annotations

from pedagogy.domain import Problem
from pedagogy.planner import plan_turn
from pedagogy.state import DialogueState


def test_a_session_closed_before_reflections_were_acknowledged_is_not_thanked_again(bake_sale: Problem) -> None:
    stored = {"problem_id": "bake-sale", "solved": True, "wrapped_up": True, "last_sub_kind": "close", "turns": 5}
    plan, _ = plan_turn(bake_sale, DialogueState.from_json(stored), "thanks")
    assert plan.sub_kind == "close"


def test_missing_or_empty_lists_in_a_stored_state_read_as_empty(bake_sale: Problem) -> None:
    stored = {"problem_id": "bake-sale", "current": "cookies", "student_values": None, "student_numbers": None}
    stored["nodes"] = {"cookies": {"attempts": 1, "pointed": None}}
    state = DialogueState.from_json(stored)
    assert state.student_values == [] and state.student_numbers == [] and state.nodes["cookies"].pointed == []
    plan, _ = plan_turn(bake_sale, state, "24")
    assert plan.sub_kind == "confirm"


def test_the_worked_examples_numbers_survive_a_round_trip() -> None:
    from pedagogy.state import DialogueState

    state = DialogueState(problem_id="p", example_numbers=["28", "4", "7"])
    assert DialogueState.from_json(state.to_json()).example_numbers == ["28", "4", "7"]
    assert (
        state.copy().example_numbers == ["28", "4", "7"] and state.copy().example_numbers is not state.example_numbers
    )
