from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from .. import permissions, ratelimit, selectors, services, tutoring
from ..forms import JoinClassForm
from ..models import Assignment, Problem, User
from ._access import student_required

JOIN_ATTEMPTS = 10
JOIN_WINDOW_SECONDS = 600


def _render_dashboard(request: HttpRequest, student: User, join_form: JoinClassForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "student/dashboard.html",
        {
            "assignments": selectors.student_assignments(student=student),
            "classes": student.classes_joined.select_related("teacher").order_by("name"),
            "join_form": join_form,
        },
        status=status,
    )


@require_GET
@student_required
def dashboard(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    return _render_dashboard(request, request.user, JoinClassForm())


@require_POST
@student_required
def join_class(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    form = JoinClassForm(request.POST)
    # Join codes are short enough to guess at scale; a student needs only a few tries.
    if not ratelimit.hit(f"join:{request.user.pk}", limit=JOIN_ATTEMPTS, window_seconds=JOIN_WINDOW_SECONDS):
        form.add_error(None, "Too many attempts. Wait a few minutes, then check the code with your teacher.")
    elif form.is_valid():
        try:
            classroom, created = services.class_join(student=request.user, join_code=form.cleaned_data["join_code"])
        except services.ServiceError as exc:
            form.add_error("join_code", str(exc))
        else:
            note = "You joined" if created else "You are already in"
            messages.success(request, f"{note} {classroom.name}.")
            if request.htmx:  # type: ignore[attr-defined]
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("student_dashboard")
                return response
            return redirect("student_dashboard")
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "student/_join_form.html", {"join_form": form}, status=400)
    return _render_dashboard(request, request.user, form, status=400)


@require_POST
@student_required
def session_start(request: HttpRequest, assignment_id: int, problem_id: int) -> HttpResponse:
    assert isinstance(request.user, User)
    assignment = get_object_or_404(Assignment, pk=assignment_id)
    problem = get_object_or_404(Problem, pk=problem_id)
    if not permissions.can_work_on(request.user, assignment, problem):
        raise Http404("No such problem in your assignments.")
    session, _ = tutoring.session_begin(student=request.user, problem=problem, assignment=assignment)
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = session.get_absolute_url()
        return response
    return redirect(session)


@require_GET
@student_required
def session_history(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    return render(request, "student/sessions.html", {"sessions": selectors.student_sessions(student=request.user)})
