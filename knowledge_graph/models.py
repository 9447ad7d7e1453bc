"""Skills and the prerequisite edges between them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Skill(models.Model):
    """A skill keyed by a stable code (never by position), so evidence and imports line up across versions."""

    code = models.SlugField(max_length=120, unique=True, allow_unicode=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=60, blank=True, help_text="Where the skill came from: native, oatutor, ...")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name or self.code


class PrerequisiteEdge(models.Model):
    """``prerequisite`` must be mastered before ``skill``. Written only through services, which refuse cycles."""

    prerequisite = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="unlocks")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="requires")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prerequisite", "skill"], name="kg_edge_unique"),
            models.CheckConstraint(condition=~models.Q(prerequisite=models.F("skill")), name="kg_edge_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.prerequisite.code} -> {self.skill.code}"


class SkillParameters(models.Model):
    """A skill's BKT parameters: the literature defaults until refitted from this app's own evidence."""

    skill = models.OneToOneField(Skill, on_delete=models.CASCADE, related_name="parameters")
    prior = models.FloatField()
    learn = models.FloatField()
    slip = models.FloatField()
    guess = models.FloatField()
    forget = models.FloatField(default=0.0)
    fitted_at = models.DateTimeField(null=True, blank=True)
    observations = models.PositiveIntegerField(default=0, help_text="Observations the last fit used.")

    class Meta:
        verbose_name_plural = "skill parameters"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slip__gte=0, guess__gte=0, prior__gte=0, learn__gte=0, forget__gte=0)
                & models.Q(slip__lte=1, guess__lte=1, prior__lte=1, learn__lte=1, forget__lte=1),
                name="kg_params_are_probabilities",
            )
        ]

    def __str__(self) -> str:
        return f"BKT {self.skill.code}"


class SkillState(models.Model):
    """One learner's current estimate for one skill."""

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_states")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="states")
    mastery = models.FloatField()
    attempts = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    last_evidence_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "skill"], name="kg_state_unique")]

    def __str__(self) -> str:
        return f"{self.learner} {self.skill.code} {self.mastery:.2f}"


class Evidence(models.Model):
    """Why a mastery figure is what it is: every observation and teacher override, with the value before and after.

    ``turn_id`` names the tutoring turn that produced the observation. It is a plain id, not a foreign key, because
    the knowledge graph depends on no other app of ours.
    """

    class Kind(models.TextChoices):
        OBSERVATION = "observation", "Observation"
        OVERRIDE = "override", "Teacher override"

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="evidence")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.OBSERVATION)
    turn_id = models.BigIntegerField(null=True, blank=True)
    correct = models.BooleanField(null=True, help_text="The observation; empty for an override.")
    before = models.FloatField()
    after = models.FloatField()
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["learner", "skill", "created_at"]), models.Index(fields=["skill", "kind"])]

    def __str__(self) -> str:
        return f"{self.learner} {self.skill.code}: {self.before:.2f} -> {self.after:.2f}"
