"""Admins browse the problem sets and preview a problem as a student meets it: the statement, each step's hint
ladder as authored, and a dry run of the tutor pressing through that ladder (nothing is stored)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ..models import Problem, ProblemSet
from ..problem_preview import ladder_rows, preview_turns
from ..tutoring import PROBLEM_PREFETCH
from ._access import admin_required


@require_GET
@admin_required
def problem_sets(request: HttpRequest) -> HttpResponse:
    sets = ProblemSet.objects.annotate(
        problem_count=Count("problems", filter=Q(problems__is_current=True))
    ).prefetch_related(
        Prefetch(
            "problems",
            queryset=Problem.objects.filter(is_current=True).order_by("position", "id"),
            to_attr="current_problems",
        )
    )
    return render(request, "admin_tools/problem_sets.html", {"problem_sets": sets})


@require_GET
@admin_required
def problem_preview(request: HttpRequest, problem_id: int) -> HttpResponse:
    problem = get_object_or_404(
        Problem.objects.select_related("problem_set").prefetch_related(*PROBLEM_PREFETCH), pk=problem_id
    )
    as_planned = problem.to_domain()
    return render(
        request,
        "admin_tools/problem_preview.html",
        {"problem": problem, "steps": ladder_rows(as_planned), "turns": preview_turns(as_planned)},
    )
