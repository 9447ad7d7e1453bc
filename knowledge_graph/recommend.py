"""Choosing the next problem within an assignment, with one sentence the student sees saying why.

The order of preference:

1. Problems not seen recently come before ones that were (and among those, the one seen longest ago).
2. A problem that practises a skill on the learner's frontier (not mastered, every prerequisite mastered),
   then one whose skills still need prerequisites (the fewest missing first), then an untagged problem, then
   one whose skills are all mastered (review).
3. Lowest mastery of the skill the choice is about, then the assignment's own order.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .bkt import MASTERY_THRESHOLD
from .graph import SkillGraph


class Reason(enum.IntEnum):
    """Why a problem was chosen; lower values are preferred."""

    FRONTIER = 0
    NOT_READY = 1
    UNTAGGED = 2
    REVIEW = 3


@dataclass(frozen=True, slots=True)
class ProblemOption:
    """A problem of the assignment, with the codes of the skills its steps are tagged with."""

    problem_id: str
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Recommendation:
    problem_id: str
    reason: Reason
    skill: str | None  # the skill the choice is about, if any
    explanation: str  # one plain sentence for the student


@dataclass(frozen=True, slots=True)
class _Assessed:
    option: ProblemOption
    reason: Reason
    skill: str | None
    skill_mastery: float
    missing_prerequisites: int


def _assess(
    option: ProblemOption,
    *,
    graph: SkillGraph,
    frontier: frozenset[str],
    mastery: Mapping[str, float],
    threshold: float,
    default: float,
) -> _Assessed:
    def level(skill: str) -> float:
        return mastery.get(skill, default)

    def missing(skill: str) -> int:
        if skill not in graph:
            return 0
        return sum(1 for pre in graph.prerequisites(skill) if level(pre) < threshold)

    skills = sorted(set(option.skills))
    if not skills:
        return _Assessed(option, Reason.UNTAGGED, None, default, 0)
    ready = [s for s in skills if s in frontier]
    if ready:
        focus = min(ready, key=lambda s: (level(s), s))
        return _Assessed(option, Reason.FRONTIER, focus, level(focus), 0)
    unmastered = [s for s in skills if level(s) < threshold]
    if unmastered:
        focus = min(unmastered, key=lambda s: (missing(s), level(s), s))
        return _Assessed(option, Reason.NOT_READY, focus, level(focus), missing(focus))
    focus = min(skills, key=lambda s: (level(s), s))
    return _Assessed(option, Reason.REVIEW, focus, level(focus), 0)


def _explain(chosen: _Assessed, *, seen_recently: bool, name: str) -> str:
    if seen_recently:
        return "You have worked on every problem here recently, so this is the one you saw longest ago."
    if chosen.reason is Reason.FRONTIER:
        return f"This problem practises {name}, which you are ready for now and have not mastered yet."
    if chosen.reason is Reason.NOT_READY:
        return f"No problem left here is on a skill you are fully ready for, so this one on {name} is the closest fit."
    if chosen.reason is Reason.REVIEW:
        return f"You have mastered the skills these problems practise, so this one is a review of {name}."
    return "This is the next problem in the assignment that you have not worked on recently."


def recommend_next(
    problems: Sequence[ProblemOption],
    *,
    graph: SkillGraph,
    mastery: Mapping[str, float],
    recent: Sequence[str] = (),
    skill_names: Mapping[str, str] | None = None,
    threshold: float = MASTERY_THRESHOLD,
    default_mastery: float = 0.0,
) -> Recommendation | None:
    """Pick the next problem from ``problems`` (in assignment order), or None when there are none.

    ``mastery`` maps skill codes to the learner's mastery probability (missing skills count as
    ``default_mastery``); ``recent`` lists the problem ids the learner worked on recently, most recent first;
    ``skill_names`` gives the names used in the explanation (the code is used where a name is missing).
    Skills that are not in ``graph`` are treated as having no prerequisites.
    """
    if not problems:
        return None
    frontier = set(graph.frontier(mastery, threshold=threshold, default=default_mastery))
    for option in problems:
        for skill in option.skills:
            if skill not in graph and mastery.get(skill, default_mastery) < threshold:
                frontier.add(skill)
    frozen = frozenset(frontier)
    recency = {problem_id: i for i, problem_id in reversed(list(enumerate(recent)))}

    def key(item: tuple[int, _Assessed]) -> tuple[int, int, int, int, float, int]:
        index, assessed = item
        position = recency.get(assessed.option.problem_id)
        seen = position is not None
        # Among recently seen problems the one seen longest ago (largest position) comes first.
        staleness = -position if position is not None else 0
        return (
            int(seen),
            staleness,
            int(assessed.reason),
            assessed.missing_prerequisites,
            assessed.skill_mastery,
            index,
        )

    assessed = [
        (
            i,
            _assess(
                option,
                graph=graph,
                frontier=frozen,
                mastery=mastery,
                threshold=threshold,
                default=default_mastery,
            ),
        )
        for i, option in enumerate(problems)
    ]
    _, chosen = min(assessed, key=key)
    names = skill_names or {}
    name = names.get(chosen.skill, chosen.skill) if chosen.skill is not None else ""
    return Recommendation(
        problem_id=chosen.option.problem_id,
        reason=chosen.reason,
        skill=chosen.skill,
        explanation=_explain(chosen, seen_recently=chosen.option.problem_id in recency, name=name),
    )
