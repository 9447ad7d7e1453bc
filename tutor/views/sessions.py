from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from .. import permissions, selectors, tutoring
from ..models import TutoringSession


@require_GET
@login_required
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    """The session page: its student works here; the student's teachers and admins read it."""
    session = get_object_or_404(
        TutoringSession.objects.select_related("problem", "problem__problem_set", "student", "assignment"),
        pk=session_id,
    )
    if not permissions.can_view_session(request.user, session):
        # 404, not 403: a session id should not reveal that someone else's session exists.
        raise Http404("No such session.")
    return render(
        request,
        "sessions/detail.html",
        {
            "session": session,
            "problem": session.problem,
            "turns": selectors.session_turns(session=session).prefetch_related("corrections__author"),
            "can_write": permissions.can_work_in_session(request.user, session),
            "can_correct": permissions.can_correct_turns(request.user, session),
            "mastery": tutoring.mastery_rows(session),
            "hints_left": tutoring.hints_left(session),
            "next_problem": tutoring.next_problem_for(session) if session.status == "solved" else None,
            "moves": tutoring.session_skill_moves(session) if session.status == "solved" else [],
        },
    )
