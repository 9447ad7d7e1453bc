"""Reads for the pages: each returns plain data shaped for one screen, in a fixed, small number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from knowledge_graph.bkt import MASTERY_THRESHOLD
from knowledge_graph.models import Skill, SkillState
from knowledge_graph.selectors import parameters_for

from .models import Assignment, Classroom, Problem, Turn, TutoringSession, User

NOT_STARTED = "not_started"


@dataclass(frozen=True)
class ProblemRow:
    problem: Problem
    status: str  # NOT_STARTED or a TutoringSession.Status value
    session_id: int | None


@dataclass(frozen=True)
class AssignmentRow:
    assignment: Assignment
    problems: list[ProblemRow]

    @property
    def solved(self) -> int:
        return sum(1 for row in self.problems if row.status == TutoringSession.Status.SOLVED)


@dataclass(frozen=True)
class StudentProgress:
    student: User
    solved: int = 0
    active: int = 0
    flagged: int = 0


@dataclass(frozen=True)
class ClassOverview:
    classroom: Classroom
    students: list[StudentProgress] = field(default_factory=list)


def _status_by_problem(student: User, problem_ids: list[int]) -> dict[int, tuple[str, int]]:
    """For each problem the student touched: (status, session id), preferring solved, then active, then newest."""
    rank: dict[str, int] = {
        TutoringSession.Status.SOLVED: 0,
        TutoringSession.Status.ACTIVE: 1,
        TutoringSession.Status.ABANDONED: 2,
    }
    best: dict[int, tuple[str, int]] = {}
    sessions = TutoringSession.objects.filter(student=student, problem_id__in=problem_ids).order_by("-updated_at")
    for session_id, problem_id, status in sessions.values_list("id", "problem_id", "status"):
        current = best.get(problem_id)
        if current is None or rank[status] < rank[current[0]]:
            best[problem_id] = (status, session_id)
    return best


def student_assignments(*, student: User) -> list[AssignmentRow]:
    """The problem sets assigned to the student's classes, with each current problem's status."""
    assignments = list(
        Assignment.objects.filter(classroom__enrollment__student=student)
        .select_related("problem_set", "classroom")
        .prefetch_related(
            Prefetch(
                "problem_set__problems",
                queryset=Problem.objects.filter(is_current=True).order_by("position", "id"),
                to_attr="current_problems",
            )
        )
        .order_by("classroom__name", "problem_set__title")
        .distinct()
    )
    problem_ids = [p.id for a in assignments for p in a.problem_set.current_problems]  # type: ignore[attr-defined]
    status = _status_by_problem(student, problem_ids)
    rows = []
    for assignment in assignments:
        problems = [
            ProblemRow(
                problem=p,
                status=status.get(p.id, (NOT_STARTED, 0))[0],
                session_id=status.get(p.id, ("", None))[1],
            )
            for p in assignment.problem_set.current_problems  # type: ignore[attr-defined]
        ]
        rows.append(AssignmentRow(assignment=assignment, problems=problems))
    return rows


def teacher_classes(*, teacher: User) -> QuerySet[Classroom]:
    return (
        Classroom.objects.filter(teacher=teacher)
        .annotate(
            student_count=Count("enrollment", distinct=True),
            assignment_count=Count("assignments", distinct=True),
        )
        .order_by("name")
    )


def class_overview(*, classroom: Classroom) -> ClassOverview:
    """Each student of the class with their solved, unfinished and flagged sessions on this class's assignments."""
    students = list(User.objects.filter(enrollment__classroom=classroom).order_by("username"))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    sessions = TutoringSession.objects.filter(assignment__classroom=classroom, student__in=students)
    for student_id, status, flagged in sessions.values_list("student_id", "status", "needs_attention"):
        counts[student_id][status] += 1
        counts[student_id]["flagged"] += int(flagged)
    return ClassOverview(
        classroom=classroom,
        students=[
            StudentProgress(
                student=s,
                solved=counts[s.id][TutoringSession.Status.SOLVED],
                active=counts[s.id][TutoringSession.Status.ACTIVE],
                flagged=counts[s.id]["flagged"],
            )
            for s in students
        ],
    )


def student_sessions(*, student: User, classroom: Classroom | None = None) -> QuerySet[TutoringSession]:
    sessions = TutoringSession.objects.filter(student=student).select_related("problem", "problem__problem_set")
    if classroom is not None:
        sessions = sessions.filter(assignment__classroom=classroom)
    return sessions.order_by("-updated_at")


def session_turns(*, session: TutoringSession, after_seq: int = 0) -> QuerySet[Turn]:
    return Turn.objects.filter(session=session, seq__gt=after_seq).order_by("seq")


def assigned_skill_codes(*, classroom_ids: list[int]) -> set[str]:
    """The skills tagged on the current problems (and their steps) of the sets assigned to these classes."""
    problems = Problem.objects.filter(
        is_current=True, problem_set__assignments__classroom_id__in=classroom_ids
    ).values_list("pk", flat=True)
    codes = set(Skill.objects.filter(problems__in=problems).values_list("code", flat=True))
    codes |= set(Skill.objects.filter(steps__problem__in=problems).values_list("code", flat=True))
    return codes


def class_mastery(*, classroom: Classroom, codes: set[str]) -> tuple[dict[str, float | None], dict[str, str]]:
    """Mean mastery per skill over every student of the class, and a line per skill saying how many mastered it.

    A student with no evidence on a skill counts at the skill's prior, as the tutor itself assumes: averaging only
    the students with evidence would let one strong student colour the whole class green.
    """
    students = list(User.objects.filter(enrollment__classroom=classroom).values_list("pk", flat=True))
    values: dict[str, list[float]] = defaultdict(list)
    for code, value in SkillState.objects.filter(learner_id__in=students, skill__code__in=codes).values_list(
        "skill__code", "mastery"
    ):
        values[code].append(value)
    priors = parameters_for(codes)
    average: dict[str, float | None] = {}
    details: dict[str, str] = {}
    for code in codes:
        seen = values.get(code, [])
        if not students or not seen:
            average[code] = None
        else:
            average[code] = (sum(seen) + priors[code].prior * (len(students) - len(seen))) / len(students)
        mastered = sum(v >= MASTERY_THRESHOLD for v in seen)
        details[code] = f"{mastered} of {len(students)} students mastered; {len(seen)} with evidence"
    return average, details
