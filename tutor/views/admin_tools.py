"""Pages for admins beyond the Django admin: managing teacher accounts, and the tutor model's status."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..forms import TeacherForm
from ..llm import model_status
from ..model_health import RECENT_TURNS, model_status_report
from ..models import User
from ._access import admin_required


@require_http_methods(["GET", "POST"])
@admin_required
def teachers(request: HttpRequest) -> HttpResponse:
    form = TeacherForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        teacher = services.teacher_create(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
        )
        messages.success(request, f"Teacher account {teacher.display_name} ({teacher.username}) created.")
        return redirect("admin_teachers")
    teacher_list = User.objects.filter(role=User.Role.TEACHER).order_by("username")
    return render(
        request,
        "admin_tools/teachers.html",
        {"teachers": teacher_list, "form": form, "model_status": model_status()},
        status=400 if form.errors else 200,
    )


@require_POST
@admin_required
def teacher_active(request: HttpRequest, user_id: int) -> HttpResponse:
    teacher = get_object_or_404(User, pk=user_id, role=User.Role.TEACHER)
    is_active = request.POST.get("is_active") == "1"
    services.teacher_set_active(teacher=teacher, is_active=is_active)
    messages.success(request, f"{teacher.display_name} is now {'active' if is_active else 'deactivated'}.")
    return redirect("admin_teachers")


@require_GET
@admin_required
def model_status_page(request: HttpRequest) -> HttpResponse:
    """The backend and model in use, whether the model server answers, reply latency and the guard's replacements."""
    return render(
        request, "admin_tools/model_status.html", {"status": model_status_report(), "recent_turns": RECENT_TURNS}
    )
