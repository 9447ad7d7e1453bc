"""Writes. Every change the web app makes to its tables goes through a function here."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .models import (
    Assignment,
    Classroom,
    Enrollment,
    Problem,
    ProblemSet,
    Turn,
    TurnCorrection,
    TutoringSession,
    User,
    new_join_code,
)


class ServiceError(ValueError):
    """A request that cannot be carried out, with a message fit to show the user."""


@transaction.atomic
def student_signup(*, username: str, password: str, join_code: str = "") -> User:
    """Create a student account and, when a join code is given, enroll it; a bad code creates nothing."""
    classroom = classroom_for_code(join_code) if join_code else None
    user = User.objects.create_user(username=username, password=password, role=User.Role.STUDENT)
    if classroom is not None:
        Enrollment.objects.create(classroom=classroom, student=user)
    return user


def classroom_for_code(code: str) -> Classroom:
    normalized = code.strip().upper().replace(" ", "").replace("-", "")
    classroom = Classroom.objects.filter(join_code=normalized).first()
    if classroom is None:
        raise ServiceError("No class has that join code. Check it with your teacher.")
    if not classroom.is_open:
        raise ServiceError("That class is not taking new students. Ask your teacher to open it.")
    return classroom


@transaction.atomic
def class_join(*, student: User, join_code: str) -> tuple[Classroom, bool]:
    """Enroll a student with a join code. Returns the class and whether the student was newly added."""
    if not student.is_student:
        raise ServiceError("Only student accounts join classes.")
    classroom = classroom_for_code(join_code)
    _, created = Enrollment.objects.get_or_create(classroom=classroom, student=student)
    return classroom, created


def class_create(*, teacher: User, name: str) -> Classroom:
    if not teacher.is_teacher:
        raise ServiceError("Only teachers create classes.")
    # A fresh code collides with an existing one about once in 10^12 draws; retry rather than fail the request.
    for _ in range(5):
        try:
            with transaction.atomic():
                return Classroom.objects.create(teacher=teacher, name=name.strip(), join_code=new_join_code())
        except IntegrityError:
            continue
    raise ServiceError("Could not create a unique join code; please try again.")


def class_rotate_code(*, classroom: Classroom) -> Classroom:
    classroom.join_code = new_join_code()
    classroom.save(update_fields=["join_code"])
    return classroom


def class_set_open(*, classroom: Classroom, is_open: bool) -> Classroom:
    classroom.is_open = is_open
    classroom.save(update_fields=["is_open"])
    return classroom


@transaction.atomic
def class_remove_student(*, classroom: Classroom, student: User) -> None:
    Enrollment.objects.filter(classroom=classroom, student=student).delete()


@transaction.atomic
def assignment_create(
    *,
    classroom: Classroom,
    problem_set: ProblemSet,
    hints_per_problem: int,
    tellings_per_problem: int,
    hints_total: int | None = None,
) -> Assignment:
    if Assignment.objects.filter(classroom=classroom, problem_set=problem_set).exists():
        raise ServiceError(f"{problem_set.title} is already assigned to {classroom.name}.")
    return Assignment.objects.create(
        classroom=classroom,
        problem_set=problem_set,
        hints_per_problem=hints_per_problem,
        tellings_per_problem=tellings_per_problem,
        hints_total=hints_total,
    )


@transaction.atomic
def session_start(*, student: User, problem: Problem, assignment: Assignment | None) -> tuple[TutoringSession, bool]:
    """Resume the student's unfinished session on this problem, or start one. Returns (session, created)."""
    existing = (
        TutoringSession.objects.select_for_update()
        .filter(student=student, problem=problem, status=TutoringSession.Status.ACTIVE)
        .first()
    )
    if existing is not None:
        return existing, False
    try:
        # A double click runs this twice at once: the partial unique index lets one create win; the other resumes it.
        with transaction.atomic():
            session = TutoringSession.objects.create(student=student, problem=problem, assignment=assignment)
    except IntegrityError:
        return TutoringSession.objects.get(
            student=student, problem=problem, status=TutoringSession.Status.ACTIVE
        ), False
    return session, True


# A NULL client id matches no turn (``=`` is never true against NULL): a turn without one is never a resend.
_NEXT_SEQ_AND_RESEND_SQL = (
    'SELECT MAX("seq"), MAX(CASE WHEN "client_message_id" = %s THEN "id" END) FROM "{turn}" WHERE "session_id" = %s'
)


@transaction.atomic
def turn_append(
    *,
    session: TutoringSession,
    role: str,
    text: str,
    client_message_id: str | None = None,
    move: str = "",
    plan: dict[str, object] | None = None,
    guard_verdict: dict[str, object] | None = None,
    backend: str = "",
    latency_ms: int | None = None,
) -> tuple[Turn, bool]:
    """Append a turn to a session. A repeated ``client_message_id`` returns the stored turn instead of a copy.

    The session row is locked so two tabs sending at once get consecutive sequence numbers.
    """
    # The UPDATE that stamps the session's activity also holds its row lock until commit: one statement where a
    # SELECT ... FOR UPDATE and an UPDATE were two.
    if not TutoringSession.objects.filter(pk=session.pk).update(updated_at=timezone.now()):
        raise TutoringSession.DoesNotExist(f"no tutoring session {session.pk}")
    return turn_append_locked(
        session=session,
        role=role,
        text=text,
        client_message_id=client_message_id,
        move=move,
        plan=plan,
        guard_verdict=guard_verdict,
        backend=backend,
        latency_ms=latency_ms,
    )


def turn_append_locked(
    *,
    session: TutoringSession,
    role: str,
    text: str,
    client_message_id: str | None = None,
    move: str = "",
    plan: dict[str, object] | None = None,
    guard_verdict: dict[str, object] | None = None,
    backend: str = "",
    latency_ms: int | None = None,
) -> tuple[Turn, bool]:
    """:func:`turn_append` for a caller that already holds the session's row lock in its transaction and stamps
    the session's ``updated_at`` itself (the tutor's reply saves the session anyway)."""
    # The next number and a resend's stored turn, in one read. Written out: every message and every reply stores a
    # turn, and the ORM took longer to build and compile this aggregate than the database took to answer it.
    with connection.cursor() as cursor:
        cursor.execute(
            _NEXT_SEQ_AND_RESEND_SQL.format(turn=Turn._meta.db_table), [client_message_id or None, session.pk]
        )
        last, duplicate = cursor.fetchone()
    if duplicate is not None:
        return Turn.objects.get(pk=duplicate), False
    turn = Turn.objects.create(
        session=session,
        seq=(last or 0) + 1,
        role=role,
        text=text,
        client_message_id=client_message_id or None,
        move=move,
        plan=plan or {},
        guard_verdict=guard_verdict or {},
        backend=backend,
        latency_ms=latency_ms,
    )
    return turn, True


@transaction.atomic
def teacher_create(*, username: str, password: str, email: str = "", full_name: str = "") -> User:
    first, _, last = full_name.strip().partition(" ")
    return User.objects.create_user(
        username=username,
        password=password,
        email=email,
        role=User.Role.TEACHER,
        first_name=first,
        last_name=last,
    )


def teacher_set_active(*, teacher: User, is_active: bool) -> User:
    if not teacher.is_teacher:
        raise ServiceError("That account is not a teacher.")
    teacher.is_active = is_active
    teacher.save(update_fields=["is_active"])
    return teacher


MAX_CORRECTION_CHARS = 2000


def turn_correct(*, turn: Turn, author: User, text: str, note: str = "") -> TurnCorrection:
    """Record a teacher's better wording for a tutor turn."""
    text = text.strip()
    if turn.role != Turn.Role.TUTOR:
        raise ServiceError("Only the tutor's turns can be corrected.")
    if not text:
        raise ServiceError("Write the reply the tutor should have given.")
    if len(text) > MAX_CORRECTION_CHARS:
        raise ServiceError(f"Keep the rewrite under {MAX_CORRECTION_CHARS} characters.")
    if text == turn.text.strip():
        raise ServiceError("The rewrite is the same as what the tutor said.")
    return TurnCorrection.objects.create(turn=turn, author=author, text=text, note=note.strip()[:500])
