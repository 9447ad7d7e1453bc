"""Writes to the skill graph."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from .models import PrerequisiteEdge, Skill


class SkillGraphError(ValueError):
    """A write that would break the graph, such as an edge that closes a cycle."""


def _path(edges: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A path start -> ... -> goal along prerequisite -> skill edges, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in edges.get(node, ()))
    return None


@transaction.atomic
def skill_upsert(*, code: str, name: str = "", description: str = "", source: str = "") -> Skill:
    skill, created = Skill.objects.get_or_create(
        code=code, defaults={"name": name or code, "description": description, "source": source}
    )
    if not created and ((name and skill.name != name) or (description and skill.description != description)):
        skill.name = name or skill.name
        skill.description = description or skill.description
        skill.save(update_fields=["name", "description"])
    return skill


@transaction.atomic
def prerequisites_add(*, pairs: Iterable[tuple[str, str]]) -> int:
    """Add ``(prerequisite_code, skill_code)`` edges; refuse the whole batch if any edge would close a cycle.

    Returns the number of edges created (existing edges are left as they are).
    """
    pair_list = list(pairs)
    skills = {s.code: s for s in Skill.objects.filter(code__in={c for p in pair_list for c in p})}
    edges: dict[str, set[str]] = {}
    for pre, post in PrerequisiteEdge.objects.values_list("prerequisite__code", "skill__code"):
        edges.setdefault(pre, set()).add(post)
    created = 0
    for pre, post in pair_list:
        missing = [c for c in (pre, post) if c not in skills]
        if missing:
            raise SkillGraphError(f"unknown skill {missing[0]!r} in prerequisite edge {pre} -> {post}")
        if pre == post:
            raise SkillGraphError(f"a skill cannot be its own prerequisite: {pre}")
        back = _path(edges, post, pre)
        if back is not None:
            cycle = " -> ".join([*back, post])
            raise SkillGraphError(f"edge {pre} -> {post} would close the cycle {cycle}")
        edges.setdefault(pre, set()).add(post)
        _, was_created = PrerequisiteEdge.objects.get_or_create(prerequisite=skills[pre], skill=skills[post])
        created += int(was_created)
    return created
