"""Skills and the prerequisite edges between them."""

from __future__ import annotations

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
