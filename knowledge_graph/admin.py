from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import PrerequisiteEdge, Skill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin[Skill]):
    list_display = ("code", "name", "source")
    search_fields = ("code", "name")


@admin.register(PrerequisiteEdge)
class PrerequisiteEdgeAdmin(admin.ModelAdmin[PrerequisiteEdge]):
    """Read-only here: edges are written through services, which refuse cycles."""

    list_display = ("prerequisite", "skill")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
