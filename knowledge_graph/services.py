"""Writes to the skill graph and to learners' mastery."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import bkt
from .graph import CycleError
from .models import Evidence, PrerequisiteEdge, Skill, SkillState
from .selectors import parameters_for, params_of, skill_graph


class SkillGraphError(ValueError):
    """A write that would break the graph, such as an edge that closes a cycle."""


@dataclass(frozen=True)
class MasteryChange:
    skill: str
    before: float
    after: float
    correct: bool | None


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
    graph = skill_graph()
    created = 0
    for pre, post in pair_list:
        missing = [c for c in (pre, post) if c not in skills]
        if missing:
            raise SkillGraphError(f"unknown skill {missing[0]!r} in prerequisite edge {pre} -> {post}")
        try:
            graph.add_edge(pre, post)
        except CycleError as exc:
            raise SkillGraphError(str(exc)) from exc
        _, was_created = PrerequisiteEdge.objects.get_or_create(prerequisite=skills[pre], skill=skills[post])
        created += int(was_created)
    return created


@transaction.atomic
def evidence_apply(
    *, learner: Any, observations: Sequence[tuple[Sequence[str], bool]], turn_id: int | None = None
) -> list[MasteryChange]:
    """Apply step outcomes to a learner's mastery: each observation updates EVERY skill it is tagged with.

    Runs inside the caller's transaction (the one that stores the turn), so a turn and its evidence land together.
    Unknown skill codes are ignored: content may tag skills the graph has not been told about.
    """
    codes = sorted({code for skills, _ in observations for code in skills})
    if not codes:
        return []
    # Lock the learner's rows for these skills, so two turns of one learner apply their evidence one after the
    # other. Usually every row exists and this one query is all the reading a turn does.
    states = _locked_states(learner, codes)
    missing = [code for code in codes if code not in states]
    if missing:
        # A first observation: create the rows at the prior (a concurrent first observation of the same skill must
        # not fail the turn, hence ignore_conflicts), then lock them too.
        created = SkillState.objects.bulk_create(
            [
                SkillState(learner=learner, skill=skill, mastery=params_of(skill).prior)
                for skill in Skill.objects.filter(code__in=missing).select_related("parameters")
            ],
            ignore_conflicts=True,
        )
        if created:
            states.update(_locked_states(learner, missing))
    now = timezone.now()
    changes: list[MasteryChange] = []
    evidence: list[Evidence] = []
    for skill_codes, correct in observations:
        for code in dict.fromkeys(skill_codes):
            state = states.get(code)
            if state is None:
                continue
            update = bkt.observe(state.mastery, correct, params_of(state.skill))
            evidence.append(
                Evidence(
                    learner=learner,
                    skill=state.skill,
                    turn_id=turn_id,
                    correct=correct,
                    before=update.before,
                    after=update.after,
                )
            )
            changes.append(MasteryChange(code, update.before, update.after, correct))
            state.mastery = update.after
            state.attempts += 1
            state.correct += int(correct)
            state.last_evidence_at = now
            # bulk_update skips auto_now, so the stamp is set here.
            state.updated_at = now
    SkillState.objects.bulk_update(
        list(states.values()), ["mastery", "attempts", "correct", "last_evidence_at", "updated_at"]
    )
    Evidence.objects.bulk_create(evidence)
    return changes


def _locked_states(learner: Any, codes: Sequence[str]) -> dict[str, SkillState]:
    """The learner's rows for ``codes``, locked until commit, with each skill and its fitted parameters."""
    rows = (
        SkillState.objects.select_for_update(of=("self",))
        .filter(learner=learner, skill__code__in=codes)
        .select_related("skill", "skill__parameters")
    )
    return {state.skill.code: state for state in rows}


@transaction.atomic
def mastery_override(*, learner: Any, skill: Skill, mastery: float, author: Any, note: str) -> MasteryChange:
    """A teacher's correction of a mastery figure, kept in the evidence log beside the observations."""
    if not 0.0 <= mastery <= 1.0:
        raise ValueError("mastery must be between 0 and 1")
    if not note.strip():
        raise ValueError("say why: an override needs a note")
    state, _ = SkillState.objects.select_for_update().get_or_create(
        learner=learner, skill=skill, defaults={"mastery": parameters_for([skill.code])[skill.code].prior}
    )
    before = state.mastery
    state.mastery = mastery
    state.save(update_fields=["mastery", "updated_at"])
    Evidence.objects.create(
        learner=learner,
        skill=skill,
        kind=Evidence.Kind.OVERRIDE,
        before=before,
        after=mastery,
        note=note.strip(),
        author=author,
    )
    return MasteryChange(skill.code, before, mastery, None)
