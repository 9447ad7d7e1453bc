"""Reads of the knowledge graph."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import FilteredRelation, Q, QuerySet

from .bkt import DEFAULT_PARAMS, MASTERY_THRESHOLD, BKTParams
from .graph import SkillGraph
from .layout import layout
from .models import Evidence, PrerequisiteEdge, Skill, SkillParameters, SkillState


def skill_graph() -> SkillGraph:
    return SkillGraph(
        skills=Skill.objects.values_list("code", flat=True),
        edges=PrerequisiteEdge.objects.values_list("prerequisite__code", "skill__code"),
    )


def parameters_for(codes: Iterable[str]) -> dict[str, BKTParams]:
    """Fitted parameters where a skill has them, the defaults otherwise."""
    codes = list(codes)
    fitted = {
        p.skill.code: BKTParams(prior=p.prior, learn=p.learn, slip=p.slip, guess=p.guess, forget=p.forget)
        for p in SkillParameters.objects.filter(skill__code__in=codes).select_related("skill")
    }
    return {code: fitted.get(code, DEFAULT_PARAMS) for code in codes}


def params_of(skill: Skill) -> BKTParams:
    """A skill's fitted parameters, the defaults otherwise; select_related("parameters") spares the query."""
    fitted: SkillParameters | None = getattr(skill, "parameters", None)  # a missing row raises AttributeError
    if fitted is None:
        return DEFAULT_PARAMS
    return BKTParams(prior=fitted.prior, learn=fitted.learn, slip=fitted.slip, guess=fitted.guess, forget=fitted.forget)


@dataclass(frozen=True)
class SkillMastery:
    code: str
    name: str
    mastery: float


def skill_mastery(*, learner: Any, skills: QuerySet[Skill]) -> list[SkillMastery]:
    """The learner's mastery of each of ``skills`` (the prior where there is no evidence yet), with the skill's name.

    One query: the learner's state and the fitted prior are joined to the skill rows, where reading states and
    then priors took two (and a caller wanting names a third).
    """
    rows = skills.annotate(own=FilteredRelation("states", condition=Q(states__learner=learner))).values_list(
        "code", "name", "own__mastery", "parameters__prior"
    )
    default = DEFAULT_PARAMS.prior
    return [
        SkillMastery(code, name, mastery if mastery is not None else prior if prior is not None else default)
        for code, name, mastery, prior in rows
    ]


def mastery_for_learner(*, learner: Any, codes: Iterable[str] | None = None) -> dict[str, float]:
    """Mastery per skill code. A skill with no evidence yet reports its prior."""
    if codes is None:
        return dict(SkillState.objects.filter(learner=learner).values_list("skill__code", "mastery"))
    codes = list(codes)
    known = {m.code: m.mastery for m in skill_mastery(learner=learner, skills=Skill.objects.filter(code__in=codes))}
    # A code the graph does not know (content may tag one) reports the default prior, as parameters_for does.
    return {code: known.get(code, DEFAULT_PARAMS.prior) for code in codes}


def mastery_at(
    *, learner: Any, codes: Iterable[str], when: datetime, current: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Mastery per skill code as it stood at ``when``.

    Every change to a figure (an observation or a teacher's override) is logged with the value before it, so the
    figure at ``when`` is the ``before`` of the first change logged since; a skill with no change since reports its
    figure now. Measured against :func:`mastery_for_learner`, this gives the change since ``when`` exactly.
    ``current`` is the figures now, when the caller has just read them.
    """
    codes = list(codes)
    now = current if current is not None else mastery_for_learner(learner=learner, codes=codes)
    first_before: dict[str, float] = {}
    rows = Evidence.objects.filter(learner=learner, skill__code__in=codes, created_at__gte=when).order_by(
        "created_at", "id"
    )
    for code, before in rows.values_list("skill__code", "before"):
        first_before.setdefault(code, before)
    return {code: first_before.get(code, now[code]) for code in codes}


# -- skill maps ------------------------------------------------------------------------------------------------

NODE_WIDTH = 156
NODE_HEIGHT = 44
_RED, _AMBER, _GREEN, _GREY = (0xC8, 0x3C, 0x32), (0xE8, 0xA3, 0x17), (0x1D, 0x8A, 0x4E), (0x9A, 0xA3, 0xAE)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def mastery_colour(mastery: float | None) -> tuple[str, str]:
    """(stroke, fill) for a mastery figure: red through amber to green at the mastery threshold; grey for none."""
    if mastery is None:
        base = _GREY
    elif mastery < 0.5:
        base = _mix(_RED, _AMBER, mastery / 0.5)
    else:
        base = _mix(_AMBER, _GREEN, min(1.0, (mastery - 0.5) / (MASTERY_THRESHOLD - 0.5)))
    return _hex(base), _hex(_mix(base, (255, 255, 255), 0.78))


@dataclass(frozen=True)
class MapNode:
    code: str
    name: str
    short_name: str
    x: float
    y: float
    mastery: float | None
    stroke: str
    fill: str
    detail: str
    bar_width: float

    @property
    def percent(self) -> str:
        return "no evidence yet" if self.mastery is None else f"{round(self.mastery * 100)}%"


@dataclass(frozen=True)
class MapEdge:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class SkillMap:
    nodes: list[MapNode]
    edges: list[MapEdge]
    width: float
    height: float


def with_prerequisites(codes: Iterable[str], graph: SkillGraph | None = None) -> set[str]:
    graph = graph or skill_graph()
    wanted = {c for c in codes if c in graph}
    return wanted.union(*(graph.ancestors(c) for c in wanted)) if wanted else set()


def skill_map(
    *, codes: Iterable[str], mastery: Mapping[str, float | None], details: Mapping[str, str] | None = None
) -> SkillMap:
    """A drawable map of ``codes`` and the prerequisite edges among them, coloured by ``mastery``."""
    graph = skill_graph()
    placed = layout(graph, codes)
    names = dict(Skill.objects.filter(code__in=[p.code for p in placed.skills]).values_list("code", "name"))
    where = {p.code: p for p in placed.skills}
    nodes = []
    for p in placed.skills:
        value = mastery.get(p.code)
        stroke, fill = mastery_colour(value)
        name = names.get(p.code, p.code)
        nodes.append(
            MapNode(
                code=p.code,
                name=name,
                short_name=name if len(name) <= 21 else name[:20] + "…",
                x=p.x - NODE_WIDTH / 2,
                y=p.y - NODE_HEIGHT / 2,
                mastery=value,
                stroke=stroke,
                fill=fill,
                detail=(details or {}).get(p.code, ""),
                bar_width=0 if value is None else round((NODE_WIDTH - 16) * value, 1),
            )
        )
    edges = [
        MapEdge(where[a].x + NODE_WIDTH / 2, where[a].y, where[b].x - NODE_WIDTH / 2 - 4, where[b].y)
        for a, b in placed.edges
    ]
    return SkillMap(nodes, edges, placed.width, placed.height)


def evidence_counts(*, learner: Any) -> dict[str, int]:
    """How many observations back each of a learner's mastery figures."""
    states = SkillState.objects.filter(learner=learner).select_related("skill")
    return {s.skill.code: s.attempts for s in states}
