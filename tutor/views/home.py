from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .. import permissions


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """One address for everyone: each role lands on its own dashboard."""
    user = request.user
    if not user.is_authenticated:
        return render(request, "home_anonymous.html")
    if permissions.is_student(user):
        return redirect("student_dashboard")
    if permissions.is_teacher(user):
        return redirect("teacher_dashboard")
    if permissions.is_admin(user):
        return redirect("admin_teachers")
    return render(request, "home_inactive.html", status=403)


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
