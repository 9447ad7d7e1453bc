"""The prerequisite graph stays acyclic and answers ancestry and frontier queries."""

from __future__ import annotations

import pytest

from knowledge_graph.graph import CycleError, SkillGraph, UnknownSkillError

# counting -> addition -> multiplication -> fractions; addition -> subtraction; fractions -> ratios
EDGES = [
    ("counting", "addition"),
    ("addition", "subtraction"),
    ("addition", "multiplication"),
    ("multiplication", "fractions"),
    ("fractions", "ratios"),
]


@pytest.fixture
def graph() -> SkillGraph:
    return SkillGraph(edges=EDGES)


def test_an_edge_that_closes_a_cycle_is_refused_with_the_cycle_named(graph: SkillGraph) -> None:
    with pytest.raises(CycleError) as caught:
        graph.add_edge("fractions", "addition")
    assert caught.value.cycle == ("fractions", "addition", "multiplication", "fractions")
    assert "fractions -> addition -> multiplication -> fractions" in str(caught.value)
    assert ("fractions", "addition") not in graph.edges


def test_a_skill_cannot_be_its_own_prerequisite(graph: SkillGraph) -> None:
    with pytest.raises(CycleError, match="addition -> addition"):
        graph.add_edge("addition", "addition")


def test_the_named_cycle_is_the_shortest_way_back() -> None:
    graph = SkillGraph(edges=[("a", "b"), ("b", "c"), ("c", "d"), ("b", "d")])
    assert graph.cycle_through("d", "a") == ("d", "a", "b", "d")
    assert graph.cycle_through("a", "d") is None


def test_edges_that_keep_the_graph_acyclic_are_accepted(graph: SkillGraph) -> None:
    graph.add_edge("counting", "fractions")
    graph.add_edge("subtraction", "ratios")
    assert {("counting", "fractions"), ("subtraction", "ratios")} <= graph.edges


def test_ancestors_and_descendants_follow_edges_transitively(graph: SkillGraph) -> None:
    assert graph.ancestors("fractions") == {"multiplication", "addition", "counting"}
    assert graph.descendants("addition") == {"subtraction", "multiplication", "fractions", "ratios"}
    assert graph.prerequisites("fractions") == {"multiplication"}
    assert graph.dependents("addition") == {"subtraction", "multiplication"}
    assert graph.ancestors("counting") == frozenset()


def test_topological_order_puts_prerequisites_first(graph: SkillGraph) -> None:
    graph.add_skill("geometry")
    order = graph.topological_order()
    assert sorted(order) == sorted(graph.skills)
    for pre, skill in graph.edges:
        assert order.index(pre) < order.index(skill)
    # Among skills that are ready at the same time, the lower code comes first, so the order is reproducible.
    assert order == [
        "counting",
        "addition",
        "geometry",
        "multiplication",
        "fractions",
        "ratios",
        "subtraction",
    ]


def test_the_frontier_is_unmastered_skills_whose_prerequisites_are_mastered(graph: SkillGraph) -> None:
    mastery = {"counting": 0.99, "addition": 0.97, "subtraction": 0.6, "multiplication": 0.3}
    # fractions is not ready (multiplication unmastered); missing skills count as 0
    assert graph.frontier(mastery) == ["multiplication", "subtraction"]
    assert graph.frontier({}) == ["counting"]
    assert graph.frontier(mastery, threshold=0.5) == ["multiplication"]


def test_a_query_about_an_unknown_skill_is_an_error(graph: SkillGraph) -> None:
    with pytest.raises(UnknownSkillError):
        graph.ancestors("calculus")
