from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors, services
from ..forms import AssignmentForm, ClassroomForm
from ..models import Classroom, User
from ._access import managed_class, teacher_or_admin_required, teacher_required


@require_GET
@teacher_required
def dashboard(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    return render(
        request,
        "teacher/dashboard.html",
        {"classes": selectors.teacher_classes(teacher=request.user), "form": ClassroomForm()},
    )


@require_POST
@teacher_required
def class_create(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    form = ClassroomForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "teacher/dashboard.html",
            {"classes": selectors.teacher_classes(teacher=request.user), "form": form},
            status=400,
        )
    classroom = services.class_create(teacher=request.user, name=form.cleaned_data["name"])
    messages.success(request, f"Class created. Students join with the code {classroom.join_code}.")
    return redirect(classroom)


def _render_class(request: HttpRequest, classroom: Classroom, form: AssignmentForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "teacher/class_detail.html",
        {
            "overview": selectors.class_overview(classroom=classroom),
            "assignments": classroom.assignments.select_related("problem_set"),
            "assignment_form": form,
        },
        status=status,
    )


@require_GET
@teacher_or_admin_required
def class_detail(request: HttpRequest, class_id: int) -> HttpResponse:
    classroom = managed_class(request, class_id)
    return _render_class(request, classroom, AssignmentForm())


@require_POST
@teacher_or_admin_required
def assignment_create(request: HttpRequest, class_id: int) -> HttpResponse:
    classroom = managed_class(request, class_id)
    form = AssignmentForm(request.POST)
    if form.is_valid():
        try:
            services.assignment_create(
                classroom=classroom,
                problem_set=form.cleaned_data["problem_set"],
                hints_per_problem=form.cleaned_data["hints_per_problem"],
                tellings_per_problem=form.cleaned_data["tellings_per_problem"],
                hints_total=form.cleaned_data["hints_total"],
            )
        except services.ServiceError as exc:
            form.add_error("problem_set", str(exc))
        else:
            messages.success(request, f"Assigned {form.cleaned_data['problem_set'].title}.")
            return redirect(classroom)
    return _render_class(request, classroom, form, status=400)


@require_POST
@teacher_or_admin_required
def class_settings(request: HttpRequest, class_id: int) -> HttpResponse:
    """Rotate the join code, or open / close the class to new students."""
    classroom = managed_class(request, class_id)
    action = request.POST.get("action")
    if action == "rotate_code":
        services.class_rotate_code(classroom=classroom)
        messages.success(request, f"New join code: {classroom.join_code}. The old code no longer works.")
    elif action in {"open", "close"}:
        services.class_set_open(classroom=classroom, is_open=action == "open")
        messages.success(request, "The class is open to new students." if action == "open" else "The class is closed.")
    else:
        return HttpResponse("Unknown action.", status=400, content_type="text/plain")
    return redirect(classroom)


@require_http_methods(["GET", "POST"])
@teacher_or_admin_required
def class_student(request: HttpRequest, class_id: int, student_id: int) -> HttpResponse:
    """A student's sessions within one class; POST removes the student from the class."""
    classroom = managed_class(request, class_id)
    student = get_object_or_404(User, pk=student_id, enrollment__classroom=classroom)
    if request.method == "POST":
        if request.POST.get("action") != "remove":
            return HttpResponse("Unknown action.", status=400, content_type="text/plain")
        services.class_remove_student(classroom=classroom, student=student)
        messages.success(request, f"{student.display_name} was removed from {classroom.name}.")
        return redirect(classroom)
    if not student.is_student:
        raise Http404
    return render(
        request,
        "teacher/class_student.html",
        {
            "classroom": classroom,
            "student": student,
            "sessions": selectors.student_sessions(student=student, classroom=classroom),
        },
    )
