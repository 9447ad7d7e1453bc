"""Reads for the pages: each returns plain data shaped for one screen, in a fixed, small number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from knowledge_graph.bkt import MASTERY_THRESHOLD
from knowledge_graph.models import Skill, SkillState
from knowledge_graph.selectors import parameters_for

from .analytics import FLAG_CODES
from .models import Assignment, Classroom, Problem, SessionFigures, Turn, TutoringSession, User

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


# --- the class dashboard --------------------------------------------------------------------------------------

# Mastery bands for the heatmap's colours (CSS classes ``heat-<band>``), matching the skill map's scale: red below
# half, amber in the middle, green at the mastery threshold.
HEAT_BANDS = ((0.2, "1"), (0.4, "2"), (0.6, "3"), (0.8, "4"), (MASTERY_THRESHOLD, "5"))


def students_by_name(*, classroom: Classroom) -> QuerySet[User]:
    """The class's students in the order people read names: last name, first name, then username."""
    return User.objects.filter(enrollment__classroom=classroom).order_by("last_name", "first_name", "username")


@dataclass(frozen=True)
class HeatCell:
    skill: Skill
    mastery: float | None  # None: no evidence on this skill yet

    @property
    def percent(self) -> str:
        return "no evidence" if self.mastery is None else f"{round(self.mastery * 100)}%"

    @property
    def band(self) -> str:
        if self.mastery is None:
            return "none"
        return next((band for upper, band in HEAT_BANDS if self.mastery < upper), "6")


@dataclass(frozen=True)
class HeatRow:
    student: User
    cells: list[HeatCell]


@dataclass(frozen=True)
class MasteryHeatmap:
    skills: list[Skill]
    rows: list[HeatRow]


def class_heatmap(*, classroom: Classroom, students: list[User]) -> MasteryHeatmap:
    """Each student's mastery of each skill the class's assignments practise: two queries."""
    codes = assigned_skill_codes(classroom_ids=[classroom.pk])
    skills = list(Skill.objects.filter(code__in=codes).order_by("name", "code"))
    known = {
        (learner, skill): mastery
        for learner, skill, mastery in SkillState.objects.filter(learner__in=students, skill__in=skills).values_list(
            "learner_id", "skill_id", "mastery"
        )
    }
    rows = [HeatRow(s, [HeatCell(k, known.get((s.pk, k.pk))) for k in skills]) for s in students]
    return MasteryHeatmap(skills=skills, rows=rows)


@dataclass(frozen=True)
class FlagLink:
    code: str
    label: str
    seq: int
    session_id: int


def flag_links(session_id: int, flags: dict[str, dict[str, object]]) -> list[FlagLink]:
    return [
        FlagLink(code, str(flags[code].get("label", code)), int(str(flags[code].get("seq", 0))), session_id)
        for code in FLAG_CODES
        if code in flags
    ]


@dataclass(frozen=True)
class DashboardStudent:
    student: User
    sessions: int = 0
    problems_solved: int = 0
    time_on_task_seconds: int = 0
    hints_used: int = 0
    flagged_sessions: int = 0


HELP_KIND_NAMES = {"hint": "hint", "scaffold_question": "smaller question", "worked_example": "worked example"}


@dataclass(frozen=True)
class HintUse:
    node: str  # the question-tree node: "2" is step 2, "2.1" a smaller question under it
    kind: str
    text: str
    count: int

    @property
    def step(self) -> str:
        return self.node.split(".", 1)[0]

    @property
    def kind_name(self) -> str:
        return HELP_KIND_NAMES.get(self.kind, self.kind.replace("_", " "))


@dataclass(frozen=True)
class DashboardProblem:
    problem: Problem
    sessions: int
    solved: int
    stuck: int  # sessions in which the tutor flagged the student as stuck
    median_turns: float
    hints_per_session: float
    telling_rate: float | None
    first_attempt_rate: float | None
    top_hints: list[HintUse]

    @property
    def solved_rate(self) -> float:
        return self.solved / self.sessions if self.sessions else 0.0


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def class_sessions(*, classroom: Classroom) -> QuerySet[TutoringSession]:
    """The sessions on the class's assignments: what its teacher may read (``permissions.teaches_session``)."""
    return TutoringSession.objects.filter(assignment__classroom=classroom)


def class_student_progress(*, classroom: Classroom, students: list[User]) -> list[DashboardStudent]:
    """Per student: sessions, problems solved, time on task, hints and flagged sessions, from the stored figures."""
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    solved: dict[int, set[int]] = defaultdict(set)
    rows = class_sessions(classroom=classroom).values_list(
        "student_id", "problem_id", "status", "figures__time_on_task_seconds", "figures__hints_used", "figures__flags"
    )
    for student_id, problem_id, status, seconds, hints, flags in rows:
        totals[student_id]["sessions"] += 1
        totals[student_id]["time"] += seconds or 0
        totals[student_id]["hints"] += hints or 0
        totals[student_id]["flagged"] += int(bool(flags))
        if status == TutoringSession.Status.SOLVED:
            solved[student_id].add(problem_id)
    return [
        DashboardStudent(
            student=s,
            sessions=totals[s.pk]["sessions"],
            problems_solved=len(solved[s.pk]),
            time_on_task_seconds=totals[s.pk]["time"],
            hints_used=totals[s.pk]["hints"],
            flagged_sessions=totals[s.pk]["flagged"],
        )
        for s in students
    ]


def class_problem_figures(*, classroom: Classroom, top_hints: int = 3) -> list[DashboardProblem]:
    """Per problem the class worked on: how often it was solved, how often students got stuck, and the hints they
    needed most. The problems that stall students most come first."""
    sessions = (
        class_sessions(classroom=classroom)
        .filter(figures__isnull=False)
        .select_related("problem", "problem__problem_set", "figures")
    )
    grouped: dict[int, list[TutoringSession]] = defaultdict(list)
    for session in sessions:
        grouped[session.problem_id].append(session)
    rows = []
    for group in grouped.values():
        figures = [s.figures for s in group]
        steps = sum(f.steps for f in figures)
        resolved = sum(f.steps_resolved for f in figures)
        hints: dict[tuple[str, str, str], int] = defaultdict(int)
        for f in figures:
            for hint in f.hints:
                hints[(str(hint.get("node", "")), str(hint.get("kind", "")), str(hint.get("text", "")))] += 1
        ranked = sorted(hints.items(), key=lambda item: (-item[1], item[0]))[:top_hints]
        rows.append(
            DashboardProblem(
                problem=group[0].problem,
                sessions=len(group),
                solved=sum(f.solved for f in figures),
                stuck=sum("stuck" in f.flags for f in figures),
                median_turns=_median([f.student_turns for f in figures]),
                hints_per_session=sum(f.hints_used for f in figures) / len(figures),
                telling_rate=sum(f.steps_told for f in figures) / steps if steps else None,
                first_attempt_rate=sum(f.steps_first_attempt_correct for f in figures) / resolved if resolved else None,
                top_hints=[HintUse(node, kind, text, count) for (node, kind, text), count in ranked],
            )
        )
    return sorted(rows, key=lambda r: (-(r.stuck / r.sessions), r.solved_rate, r.problem.title))


@dataclass(frozen=True)
class SessionFilters:
    student_id: int | None = None
    problem_id: int | None = None
    status: str = ""
    flag: str = ""


@dataclass(frozen=True)
class DashboardSession:
    session: TutoringSession
    figures: SessionFigures | None
    flags: list[FlagLink]


def class_session_list(*, classroom: Classroom, filters: SessionFilters) -> QuerySet[TutoringSession]:
    """The class's sessions, newest first, narrowed by the dashboard's filters; figures joined in."""
    sessions = class_sessions(classroom=classroom).select_related("student", "problem", "figures")
    if filters.student_id is not None:
        sessions = sessions.filter(student_id=filters.student_id)
    if filters.problem_id is not None:
        sessions = sessions.filter(problem_id=filters.problem_id)
    if filters.status:
        sessions = sessions.filter(status=filters.status)
    if filters.flag:
        sessions = sessions.filter(figures__flags__has_key=filters.flag)
    return sessions.order_by("-updated_at", "-id")


def dashboard_session_rows(sessions: list[TutoringSession]) -> list[DashboardSession]:
    rows = []
    for session in sessions:
        figures: SessionFigures | None = getattr(session, "figures", None)
        flags = flag_links(session.pk, figures.flags) if figures is not None else []
        rows.append(DashboardSession(session=session, figures=figures, flags=flags))
    return rows


def class_problems(*, classroom: Classroom) -> QuerySet[Problem]:
    """The problems the class has sessions on, for the dashboard's filter."""
    return (
        Problem.objects.filter(sessions__assignment__classroom=classroom)
        .select_related("problem_set")
        .distinct()
        .order_by("problem_set__title", "position", "id")
    )
