"""Skill maps: the prerequisite graph coloured by mastery, for a student, a class, and one student of a class."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from knowledge_graph import selectors as kg_selectors
from knowledge_graph import services as kg_services
from knowledge_graph.models import Evidence

from .. import selectors
from ..forms import MasteryOverrideForm
from ..models import User
from ._access import managed_class, student_required, teacher_or_admin_required


def _student_map(student: User, classes: list[int] | None = None) -> tuple[kg_selectors.SkillMap, set[str]]:
    """The student's map over the skills assigned in ``classes`` (default: every class the student is in)."""
    if classes is None:
        classes = list(student.classes_joined.values_list("pk", flat=True))
    codes = kg_selectors.with_prerequisites(selectors.assigned_skill_codes(classroom_ids=classes))
    mastery = kg_selectors.mastery_for_learner(learner=student, codes=codes)
    evidence = kg_selectors.evidence_counts(learner=student)
    shown: dict[str, float | None] = {c: (mastery[c] if c in evidence else None) for c in codes}
    details = {c: f"{evidence.get(c, 0)} observation{'s' if evidence.get(c, 0) != 1 else ''}" for c in codes}
    return kg_selectors.skill_map(codes=codes, mastery=shown, details=details), codes


@require_GET
@student_required
def student_skills(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    skill_map, _ = _student_map(request.user)
    return render(request, "skills/student.html", {"map": skill_map, "title": "My skills"})


@require_GET
@teacher_or_admin_required
def class_skills(request: HttpRequest, class_id: int) -> HttpResponse:
    classroom = managed_class(request, class_id)
    codes = kg_selectors.with_prerequisites(selectors.assigned_skill_codes(classroom_ids=[classroom.pk]))
    average, details = selectors.class_mastery(classroom=classroom, codes=codes)
    skill_map = kg_selectors.skill_map(codes=codes, mastery=average, details=details)
    return render(request, "skills/class.html", {"map": skill_map, "classroom": classroom})


@require_http_methods(["GET", "POST"])
@teacher_or_admin_required
def class_student_skills(request: HttpRequest, class_id: int, student_id: int) -> HttpResponse:
    """A student's map with the evidence behind each figure, and the teacher's override."""
    classroom = managed_class(request, class_id)
    student = get_object_or_404(User, pk=student_id, enrollment__classroom=classroom)
    # Only this class's skills: a teacher sees and corrects what their own class practises.
    skill_map, codes = _student_map(student, [classroom.pk])
    form = MasteryOverrideForm(request.POST or None, codes=codes)
    if request.method == "POST" and form.is_valid():
        change = kg_services.mastery_override(
            learner=student,
            skill=form.cleaned_data["skill"],
            mastery=form.cleaned_data["mastery"] / 100,
            author=request.user,
            note=form.cleaned_data["note"],
        )
        messages.success(
            request, f"{form.cleaned_data['skill'].name}: {round(change.before * 100)}% → {round(change.after * 100)}%."
        )
        return redirect("class_student_skills", class_id=classroom.pk, student_id=student.pk)
    evidence = (
        Evidence.objects.filter(learner=student, skill__code__in=codes)
        .select_related("skill", "author")
        .order_by("-created_at", "-id")[:200]
    )
    return render(
        request,
        "skills/class_student.html",
        {"map": skill_map, "classroom": classroom, "student": student, "form": form, "evidence": evidence},
        status=400 if form.errors else 200,
    )
