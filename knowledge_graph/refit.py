"""Refitting each skill's BKT parameters from this app's own evidence log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .fitting import FitOptions, fit
from .models import Evidence, Skill, SkillParameters

#: A skill is refitted once its evidence holds at least this many first-attempt observations. Below it, EM on a
#: four-parameter model mostly fits noise and the literature defaults are the better guess.
MIN_OBSERVATIONS = 200


@dataclass(frozen=True)
class RefitOutcome:
    skill: str
    observations: int
    learners: int
    refitted: bool
    reason: str


def observation_sequences(skill: Skill) -> list[list[int]]:
    """Each learner's observations of ``skill`` in the order they happened (teacher overrides are not observations)."""
    by_learner: dict[int, list[int]] = defaultdict(list)
    rows = (
        Evidence.objects.filter(skill=skill, kind=Evidence.Kind.OBSERVATION, correct__isnull=False)
        .order_by("learner_id", "created_at", "id")
        .values_list("learner_id", "correct")
    )
    for learner_id, correct in rows:
        by_learner[learner_id].append(1 if correct else 0)
    return list(by_learner.values())


def parameters_refit(*, min_observations: int = MIN_OBSERVATIONS, codes: list[str] | None = None) -> list[RefitOutcome]:
    """Refit every skill with enough evidence; the others keep their parameters. Safe to run at any time."""
    skills = Skill.objects.all() if codes is None else Skill.objects.filter(code__in=codes)
    outcomes = []
    for skill in skills.order_by("code"):
        sequences = observation_sequences(skill)
        count = sum(len(s) for s in sequences)
        if count < min_observations:
            outcomes.append(
                RefitOutcome(skill.code, count, len(sequences), False, f"fewer than {min_observations} observations")
            )
            continue
        result = fit(sequences, FitOptions(seed=skill.pk))
        with transaction.atomic():
            SkillParameters.objects.update_or_create(
                skill=skill,
                defaults={
                    "prior": result.params.prior,
                    "learn": result.params.learn,
                    "slip": result.params.slip,
                    "guess": result.params.guess,
                    "forget": result.params.forget,
                    "fitted_at": timezone.now(),
                    "observations": count,
                },
            )
        outcomes.append(RefitOutcome(skill.code, count, len(sequences), True, "refitted"))
    return outcomes
