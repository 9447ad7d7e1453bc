"""The class dashboard: who needs the teacher (flagged sessions, linked to the turn that raised each flag), the
students x skills mastery heatmap, each student's progress and the problems that stall the class."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from .. import ratelimit, selectors
from ..analytics import FLAG_CODES, FLAG_KINDS
from ..models import Classroom, TutoringSession, User
from ..session_figures import figures_queue, figures_refresh_stale, stale_sessions
from ._access import managed_class, teacher_or_admin_required

logger = logging.getLogger(__name__)

SESSIONS_PER_PAGE = 50
ATTENTION_LIMIT = 12
# Stale figures are computed while the page loads up to this many sessions (a class's recent work takes well under
# a second); an older backlog goes to the background worker.
INLINE_REFRESH_LIMIT = 200
BACKLOG_QUEUED_SECONDS = 300  # long enough for a worker to work through a large class's backlog
RECOMPUTES_PER_WINDOW, RECOMPUTE_WINDOW_SECONDS = 5, 300


class SessionFilterForm(forms.Form):
    """The session list's filters; every choice is limited to what this class has, so a bad value is a 400."""

    student = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Student")
    problem = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Problem")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *TutoringSession.Status.choices], label="Status"
    )
    flag = forms.ChoiceField(
        required=False, choices=[("", "Any or none"), *((k.code, k.title) for k in FLAG_KINDS)], label="Flag"
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, students: list[User], classroom: Classroom) -> None:
        super().__init__(data)
        student_field: Any = self.fields["student"]
        problem_field: Any = self.fields["problem"]
        student_field.choices = [("", "Every student"), *((s.pk, s.display_name) for s in students)]
        problem_field.choices = [
            ("", "Every problem"),
            *((p.pk, f"{p.title} ({p.problem_set.title})") for p in selectors.class_problems(classroom=classroom)),
        ]

    def filters(self) -> selectors.SessionFilters:
        data = self.cleaned_data
        return selectors.SessionFilters(
            student_id=data["student"], problem_id=data["problem"], status=data["status"], flag=data["flag"]
        )


def _refresh_figures(request: HttpRequest, classroom: Classroom) -> None:
    """Bring the class's figures up to date before showing them: a session still in progress changes every turn."""
    sessions = selectors.class_sessions(classroom=classroom)
    figures_refresh_stale(sessions=sessions, limit=INLINE_REFRESH_LIMIT)
    backlog = list(stale_sessions(sessions).values_list("pk", flat=True))
    if backlog:
        # Queued once per class while it is being worked through, not again on every view of the page.
        if cache.add(f"figures-queued:{classroom.pk}", True, timeout=BACKLOG_QUEUED_SECONDS):
            try:
                figures_queue(backlog)
            except Exception:  # a broker that is down: the next visit computes the next batch inline
                cache.delete(f"figures-queued:{classroom.pk}")
                logger.warning("could not queue the figures of %s sessions", len(backlog))
        messages.info(request, f"Figures for {len(backlog)} older sessions are still being computed.")


@require_GET
@teacher_or_admin_required
def class_dashboard(request: HttpRequest, class_id: int) -> HttpResponse:
    classroom = managed_class(request, class_id)
    students = list(selectors.students_by_name(classroom=classroom))
    form = SessionFilterForm(request.GET, students=students, classroom=classroom)
    if not form.is_valid():
        return render(
            request,
            "teacher/class_dashboard.html",
            {"classroom": classroom, "filter_form": form, "invalid": True},
            status=400,
        )
    _refresh_figures(request, classroom)
    filtered = selectors.class_session_list(classroom=classroom, filters=form.filters())
    page = Paginator(filtered, SESSIONS_PER_PAGE).get_page(form.cleaned_data["page"] or 1)
    flagged = selectors.class_session_list(classroom=classroom, filters=selectors.SessionFilters()).filter(
        figures__flags__has_any_keys=FLAG_CODES
    )
    return render(
        request,
        "teacher/class_dashboard.html",
        {
            "classroom": classroom,
            "filter_form": form,
            "flag_kinds": FLAG_KINDS,
            "attention": selectors.dashboard_session_rows(list(flagged[:ATTENTION_LIMIT])),
            "page": page,
            "session_rows": selectors.dashboard_session_rows(list(page.object_list)),
            "query_without_page": _query_without_page(request),
            "heatmap": selectors.class_heatmap(classroom=classroom, students=students),
            "progress": selectors.class_student_progress(classroom=classroom, students=students),
            "problems": selectors.class_problem_figures(classroom=classroom),
        },
    )


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_POST
@teacher_or_admin_required
def class_figures_recompute(request: HttpRequest, class_id: int) -> HttpResponse:
    """Recompute every session's figures of the class (after a change to how they are computed, say)."""
    classroom = managed_class(request, class_id)
    if not ratelimit.hit(
        f"figures:{request.user.pk}", limit=RECOMPUTES_PER_WINDOW, window_seconds=RECOMPUTE_WINDOW_SECONDS
    ):
        return render(request, "errors/429.html", status=429)
    ids = list(selectors.class_sessions(classroom=classroom).values_list("pk", flat=True))
    try:
        results = figures_queue(ids)
    except Exception:
        logger.exception("could not queue the figures of class %s", classroom.pk)
        messages.error(request, "The figures could not be recomputed now; please try again later.")
        return redirect("class_dashboard", class_id=classroom.pk)
    if all(result.ready() for result in results):
        messages.success(request, f"Figures recomputed for {len(ids)} session{'s' if len(ids) != 1 else ''}.")
    else:
        messages.info(request, f"Recomputing the figures of {len(ids)} sessions; reload the page in a moment.")
    return redirect("class_dashboard", class_id=classroom.pk)
