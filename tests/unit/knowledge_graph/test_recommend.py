"""Choosing the next problem in an assignment from the learner's frontier, mastery and history."""

from __future__ import annotations

from knowledge_graph.graph import SkillGraph
from knowledge_graph.recommend import ProblemOption, Reason, recommend_next

GRAPH = SkillGraph(
    edges=[
        ("counting", "addition"),
        ("addition", "subtraction"),
        ("addition", "multiplication"),
        ("multiplication", "fractions"),
    ]
)
NAMES = {"subtraction": "Subtraction", "multiplication": "Multiplication", "fractions": "Fractions"}
MASTERY = {"counting": 0.99, "addition": 0.96, "subtraction": 0.5, "multiplication": 0.2, "fractions": 0.1}
PROBLEMS = [
    ProblemOption("p-count", ("counting",)),
    ProblemOption("p-frac", ("fractions",)),
    ProblemOption("p-sub", ("subtraction",)),
    ProblemOption("p-mul", ("multiplication", "addition")),
]


def test_it_prefers_the_frontier_skill_with_the_lowest_mastery() -> None:
    choice = recommend_next(PROBLEMS, graph=GRAPH, mastery=MASTERY, skill_names=NAMES)
    assert choice is not None
    assert (choice.problem_id, choice.reason, choice.skill) == ("p-mul", Reason.FRONTIER, "multiplication")
    assert "Multiplication" in choice.explanation
    assert choice.explanation.count(".") == 1 and choice.explanation.endswith(".")


def test_it_skips_problems_seen_recently() -> None:
    choice = recommend_next(PROBLEMS, graph=GRAPH, mastery=MASTERY, recent=["p-mul"], skill_names=NAMES)
    assert choice is not None
    assert choice.problem_id == "p-sub"
    assert "Subtraction" in choice.explanation


def test_a_problem_whose_prerequisites_are_unmastered_comes_after_the_frontier() -> None:
    choice = recommend_next(PROBLEMS, graph=GRAPH, mastery=MASTERY, recent=["p-mul", "p-sub"], skill_names=NAMES)
    assert choice is not None
    assert (choice.problem_id, choice.reason) == ("p-frac", Reason.NOT_READY)


def test_mastered_problems_are_offered_as_review_last() -> None:
    choice = recommend_next(PROBLEMS, graph=GRAPH, mastery=MASTERY, recent=["p-mul", "p-sub", "p-frac"])
    assert choice is not None
    assert (choice.problem_id, choice.reason) == ("p-count", Reason.REVIEW)
    assert "review" in choice.explanation


def test_when_everything_was_seen_recently_it_picks_the_one_seen_longest_ago() -> None:
    recent = ["p-sub", "p-count", "p-mul", "p-frac"]
    choice = recommend_next(PROBLEMS, graph=GRAPH, mastery=MASTERY, recent=recent)
    assert choice is not None
    assert choice.problem_id == "p-frac"
    assert "longest ago" in choice.explanation


def test_skills_outside_the_graph_count_as_ready_and_codes_stand_in_for_names() -> None:
    problems = [ProblemOption("p-geo", ("angles",)), ProblemOption("p-count", ("counting",))]
    choice = recommend_next(problems, graph=GRAPH, mastery=MASTERY)
    assert choice is not None
    assert (choice.problem_id, choice.reason) == ("p-geo", Reason.FRONTIER)
    assert "angles" in choice.explanation


def test_an_empty_assignment_has_no_recommendation() -> None:
    assert recommend_next([], graph=GRAPH, mastery=MASTERY) is None
