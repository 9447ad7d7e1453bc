"""Where to draw each skill of a prerequisite graph: layers left to right, prerequisites before what they unlock.

A skill's layer is the length of the longest prerequisite chain leading to it, so every edge points rightwards.
Within a layer, skills are ordered by the average position of their prerequisites (the barycentre heuristic), which
keeps most edges short and uncrossed without an optimiser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .graph import SkillGraph


@dataclass(frozen=True, slots=True)
class PlacedSkill:
    code: str
    layer: int
    row: int
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Layout:
    skills: tuple[PlacedSkill, ...]
    edges: tuple[tuple[str, str], ...]
    width: float
    height: float


def layout(
    graph: SkillGraph,
    codes: Iterable[str],
    *,
    column_width: float = 200.0,
    row_height: float = 64.0,
    margin: float = 90.0,
) -> Layout:
    """Place ``codes`` (a subset of the graph's skills) and the edges among them."""
    wanted = [c for c in graph.topological_order() if c in set(codes)]
    included = set(wanted)
    layer: dict[str, int] = {}
    for code in wanted:  # topological order: prerequisites are placed first
        pres = [p for p in graph.prerequisites(code) if p in included]
        layer[code] = 1 + max((layer[p] for p in pres), default=-1)
    columns: dict[int, list[str]] = {}
    for code in wanted:
        columns.setdefault(layer[code], []).append(code)
    row: dict[str, int] = {}
    for index in sorted(columns):
        members = columns[index]

        def barycentre(code: str) -> tuple[float, str]:
            pres = [row[p] for p in graph.prerequisites(code) if p in row]
            return (sum(pres) / len(pres) if pres else float("inf"), code)

        members.sort(key=barycentre)
        for position, code in enumerate(members):
            row[code] = position
    tallest = max((len(m) for m in columns.values()), default=0)
    placed = []
    for code in wanted:
        column = columns[layer[code]]
        # Centre short columns vertically against the tallest one.
        offset = (tallest - len(column)) * row_height / 2
        placed.append(
            PlacedSkill(
                code=code,
                layer=layer[code],
                row=row[code],
                x=margin + layer[code] * column_width,
                y=margin / 2 + offset + row[code] * row_height,
            )
        )
    edges = tuple(sorted((p, s) for s in wanted for p in graph.prerequisites(s) if p in included))
    width = margin * 2 + max((layer[c] for c in wanted), default=0) * column_width
    height = margin + max(tallest - 1, 0) * row_height
    return Layout(tuple(placed), edges, width, height)
