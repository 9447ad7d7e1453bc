from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from .models import (
    Assignment,
    Classroom,
    Enrollment,
    Hint,
    LtiPlatform,
    Misconception,
    Problem,
    ProblemSet,
    Step,
    Turn,
    TutoringSession,
    User,
)


@admin.register(User)
class TutorUserAdmin(UserAdmin[User]):
    list_display = ("username", "role", "email", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = (*UserAdmin.fieldsets, ("Role", {"fields": ("role",)}))  # type: ignore[misc]
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Role", {"fields": ("role",)}))


class EnrollmentInline(admin.TabularInline[Enrollment, Any]):
    model = Enrollment
    extra = 0
    raw_id_fields = ("student",)


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin[Classroom]):
    list_display = ("name", "teacher", "join_code", "is_open")
    search_fields = ("name", "join_code", "teacher__username")
    inlines = [EnrollmentInline]


class ProblemInline(admin.TabularInline[Problem, Any]):
    model = Problem
    extra = 0
    fields = ("position", "slug", "title", "version", "is_current")
    show_change_link = True


@admin.register(ProblemSet)
class ProblemSetAdmin(admin.ModelAdmin[ProblemSet]):
    list_display = ("title", "slug", "source")
    search_fields = ("title", "slug")
    inlines = [ProblemInline]


class StepInline(admin.StackedInline[Step, Any]):
    model = Step
    extra = 0
    show_change_link = True
    filter_horizontal = ("skills",)


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin[Problem]):
    list_display = ("title", "problem_set", "version", "is_current", "answer")
    list_filter = ("problem_set", "is_current")
    search_fields = ("title", "slug", "text")
    inlines = [StepInline]
    filter_horizontal = ("skills",)


class HintInline(admin.TabularInline[Hint, Any]):
    model = Hint
    extra = 0


class MisconceptionInline(admin.TabularInline[Misconception, Any]):
    model = Misconception
    extra = 0


@admin.register(Step)
class StepAdmin(admin.ModelAdmin[Step]):
    list_display = ("problem", "position", "prompt", "answer")
    inlines = [HintInline, MisconceptionInline]
    filter_horizontal = ("skills",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin[Assignment]):
    list_display = ("problem_set", "classroom", "hints_per_problem", "tellings_per_problem", "hints_total")


class TurnInline(admin.TabularInline[Turn, Any]):
    """Turns are a record: shown, never edited here."""

    model = Turn
    extra = 0
    fields = ("seq", "role", "text", "move", "backend", "latency_ms", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TutoringSession)
class TutoringSessionAdmin(admin.ModelAdmin[TutoringSession]):
    list_display = (
        "student",
        "problem",
        "status",
        "hints_used",
        "tellings_used",
        "needs_attention",
        "updated_at",
    )
    list_filter = ("status", "needs_attention")
    readonly_fields = ("dialogue_state",)
    inlines = [TurnInline]


@admin.register(LtiPlatform)
class LtiPlatformAdmin(admin.ModelAdmin[LtiPlatform]):
    """Platform registrations: what Canvas or Moodle shows when the tutor is added there (docs/operations.md)."""

    list_display = ("name", "issuer", "client_id", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "issuer", "client_id")
