"""The prerequisite graph over skills: a DAG, with the queries the tutor and the skill map need.

Skills are identified by their stable codes. An edge ``(prerequisite, skill)`` means the prerequisite should
be mastered before the skill. The graph refuses any edge that would close a cycle and names the cycle, so an
author can see which edge to drop.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping

from .bkt import MASTERY_THRESHOLD


class CycleError(ValueError):
    """An edge would close a cycle. ``cycle`` lists the skills around it, first and last the same."""

    def __init__(self, prerequisite: str, skill: str, cycle: tuple[str, ...]) -> None:
        self.prerequisite = prerequisite
        self.skill = skill
        self.cycle = cycle
        super().__init__(
            f"adding the prerequisite {prerequisite} -> {skill} would close the cycle {' -> '.join(cycle)}"
        )


class UnknownSkillError(KeyError):
    """A query named a skill that is not in the graph."""


class SkillGraph:
    """A directed acyclic graph of skill codes; edges point from a prerequisite to the skill that needs it."""

    def __init__(self, skills: Iterable[str] = (), edges: Iterable[tuple[str, str]] = ()) -> None:
        self._unlocks: dict[str, set[str]] = {}
        self._requires: dict[str, set[str]] = {}
        for skill in skills:
            self.add_skill(skill)
        for prerequisite, skill in edges:
            self.add_edge(prerequisite, skill)

    # Building

    def add_skill(self, skill: str) -> None:
        """Add a skill with no edges; adding one that is already there does nothing."""
        self._unlocks.setdefault(skill, set())
        self._requires.setdefault(skill, set())

    def add_edge(self, prerequisite: str, skill: str) -> None:
        """Record that ``prerequisite`` comes before ``skill``, adding either skill if new.

        Raises ``CycleError`` (leaving the graph unchanged) if the edge would close a cycle.
        """
        cycle = self.cycle_through(prerequisite, skill)
        if cycle is not None:
            raise CycleError(prerequisite, skill, cycle)
        self.add_skill(prerequisite)
        self.add_skill(skill)
        self._unlocks[prerequisite].add(skill)
        self._requires[skill].add(prerequisite)

    def cycle_through(self, prerequisite: str, skill: str) -> tuple[str, ...] | None:
        """The cycle the edge ``prerequisite -> skill`` would close, or None if it closes none.

        The cycle starts with the new edge and follows the shortest existing path back, e.g.
        ``("a", "b", "c", "a")`` when ``b -> c`` and ``c -> a`` exist and ``a -> b`` is proposed.
        """
        if prerequisite == skill:
            return (prerequisite, skill)
        back = self._shortest_path(skill, prerequisite)
        if back is None:
            return None
        return (prerequisite, *back)

    def _shortest_path(self, start: str, goal: str) -> list[str] | None:
        """Breadth-first search along edges; ties broken by skill code so the answer is reproducible."""
        if start not in self._unlocks or goal not in self._unlocks:
            return None
        parent: dict[str, str] = {}
        queue = deque([start])
        seen = {start}
        while queue:
            node = queue.popleft()
            if node == goal:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            for nxt in sorted(self._unlocks[node]):
                if nxt not in seen:
                    seen.add(nxt)
                    parent[nxt] = node
                    queue.append(nxt)
        return None

    # Queries

    @property
    def skills(self) -> frozenset[str]:
        return frozenset(self._unlocks)

    @property
    def edges(self) -> frozenset[tuple[str, str]]:
        return frozenset((pre, skill) for pre, unlocked in self._unlocks.items() for skill in unlocked)

    def __contains__(self, skill: object) -> bool:
        return skill in self._unlocks

    def _check(self, skill: str) -> None:
        if skill not in self._unlocks:
            raise UnknownSkillError(skill)

    def prerequisites(self, skill: str) -> frozenset[str]:
        """The skills directly required by ``skill``."""
        self._check(skill)
        return frozenset(self._requires[skill])

    def dependents(self, skill: str) -> frozenset[str]:
        """The skills that directly require ``skill``."""
        self._check(skill)
        return frozenset(self._unlocks[skill])

    def ancestors(self, skill: str) -> frozenset[str]:
        """Every skill ``skill`` builds on, directly or through others."""
        self._check(skill)
        return self._reach(skill, self._requires)

    def descendants(self, skill: str) -> frozenset[str]:
        """Every skill that builds on ``skill``, directly or through others."""
        self._check(skill)
        return self._reach(skill, self._unlocks)

    @staticmethod
    def _reach(start: str, neighbours: Mapping[str, set[str]]) -> frozenset[str]:
        found: set[str] = set()
        stack = [start]
        while stack:
            for nxt in neighbours[stack.pop()]:
                if nxt not in found:
                    found.add(nxt)
                    stack.append(nxt)
        return frozenset(found)

    def topological_order(self) -> list[str]:
        """All skills, every prerequisite before the skills that need it; ties in code order (Kahn's
        algorithm)."""
        waiting = {skill: len(pres) for skill, pres in self._requires.items()}
        ready = [skill for skill, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            skill = heapq.heappop(ready)
            order.append(skill)
            for nxt in self._unlocks[skill]:
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    heapq.heappush(ready, nxt)
        # add_edge keeps the graph acyclic, so every skill is placed.
        return order

    def frontier(
        self,
        mastery: Mapping[str, float],
        *,
        threshold: float = MASTERY_THRESHOLD,
        default: float = 0.0,
    ) -> list[str]:
        """Skills a learner is ready for: not mastered yet, but every direct prerequisite is.

        ``mastery`` maps skill codes to mastery probabilities; a skill missing from it counts as ``default``.
        A skill with no prerequisites is on the frontier until it is mastered. Returned in topological order.
        """

        def mastered(skill: str) -> bool:
            return mastery.get(skill, default) >= threshold

        return [
            skill
            for skill in self.topological_order()
            if not mastered(skill) and all(mastered(pre) for pre in self._requires[skill])
        ]
