"""Object-level permission checks. Every view and websocket consumer asks one of these before touching an object.

They answer "may this user see / change this object", never "does it exist": callers turn a False into a 404 for
objects the user should not learn about, and into a 403 only where existence is no secret.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from .models import Assignment, Classroom, Enrollment, Problem, TutoringSession, User

AnyUser = User | AnonymousUser


def is_admin(user: AnyUser) -> bool:
    return bool(user.is_authenticated and isinstance(user, User) and user.is_admin)


def is_teacher(user: AnyUser) -> bool:
    return bool(user.is_authenticated and isinstance(user, User) and user.is_teacher and user.is_active)


def is_student(user: AnyUser) -> bool:
    return bool(user.is_authenticated and isinstance(user, User) and user.is_student and user.is_active)


def can_manage_class(user: AnyUser, classroom: Classroom) -> bool:
    return is_admin(user) or (is_teacher(user) and classroom.teacher_id == user.pk)


def teaches_student(user: AnyUser, student: User) -> bool:
    return is_teacher(user) and Enrollment.objects.filter(classroom__teacher_id=user.pk, student=student).exists()


def teaches_session(user: AnyUser, session: TutoringSession) -> bool:
    """The teacher of the class the session's assignment belongs to (a student's other teachers see only their own
    classes' work); for a session outside any assignment, any teacher of the student."""
    if not is_teacher(user):
        return False
    if session.assignment_id is not None:
        return Assignment.objects.filter(pk=session.assignment_id, classroom__teacher_id=user.pk).exists()
    return teaches_student(user, session.student)


def can_view_session(user: AnyUser, session: TutoringSession) -> bool:
    """The student who owns it, the teacher of its class, or an admin."""
    if not user.is_authenticated:
        return False
    if session.student_id == user.pk and is_student(user):
        return True
    return is_admin(user) or teaches_session(user, session)


def can_correct_turns(user: AnyUser, session: TutoringSession) -> bool:
    """The teacher of the session's class and admins rewrite tutor turns; students never do."""
    return is_admin(user) or teaches_session(user, session)


def can_work_in_session(user: AnyUser, session: TutoringSession) -> bool:
    """Only the owning student writes to a session; teachers and admins read."""
    return is_student(user) and session.student_id == user.pk


def can_work_on(user: AnyUser, assignment: Assignment, problem: Problem) -> bool:
    """A student may start a problem that is current in a set assigned to one of their classes."""
    return (
        is_student(user)
        and problem.is_current
        and problem.problem_set_id == assignment.problem_set_id
        and Enrollment.objects.filter(classroom_id=assignment.classroom_id, student_id=user.pk).exists()
    )
