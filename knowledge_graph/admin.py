from django.contrib import admin

from .models import PrerequisiteEdge, Skill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "source")
    search_fields = ("code", "name")


@admin.register(PrerequisiteEdge)
class PrerequisiteEdgeAdmin(admin.ModelAdmin):
    """Read-only here: edges are written through services, which refuse cycles."""

    list_display = ("prerequisite", "skill")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
