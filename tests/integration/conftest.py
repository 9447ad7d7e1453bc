"""Fixtures for tests that use the database: a small world of two classes with their teachers and students."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tutor import services, tutoring
from tutor.demo import demo_load
from tutor.models import Assignment, Classroom, Problem, ProblemSet, TutoringSession, User

PASSWORD = "a-long-test-password"


def make_user(username: str, role: str, **extra: object) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, **extra)
    return user


@dataclass
class World:
    student: User
    other_student: User
    teacher: User
    other_teacher: User
    admin: User
    classroom: Classroom
    other_classroom: Classroom
    assignment: Assignment
    problem_set: ProblemSet
    problem: Problem
    session: TutoringSession
    other_session: TutoringSession


@pytest.fixture
def demo(db: None) -> None:
    demo_load()


def build_world() -> World:
    """Class A (teacher, student) and class B (other teacher, other student), both assigned a demo set."""
    demo_load()
    teacher = make_user("t-alice", User.Role.TEACHER)
    other_teacher = make_user("t-bob", User.Role.TEACHER)
    student = make_user("s-carol", User.Role.STUDENT)
    other_student = make_user("s-dave", User.Role.STUDENT)
    admin = make_user("a-erin", User.Role.ADMIN, is_staff=True, is_superuser=True)
    classroom = services.class_create(teacher=teacher, name="Class A")
    other_classroom = services.class_create(teacher=other_teacher, name="Class B")
    services.class_join(student=student, join_code=classroom.join_code)
    services.class_join(student=other_student, join_code=other_classroom.join_code)
    problem_set = ProblemSet.objects.get(slug="everyday-numbers")
    assignment = services.assignment_create(
        classroom=classroom, problem_set=problem_set, hints_per_problem=3, tellings_per_problem=1
    )
    other_assignment = services.assignment_create(
        classroom=other_classroom, problem_set=problem_set, hints_per_problem=3, tellings_per_problem=1
    )
    problem = problem_set.problems.get(slug="muffin-trays", is_current=True)
    session, _ = tutoring.session_begin(student=student, problem=problem, assignment=assignment)
    other_session, _ = services.session_start(student=other_student, problem=problem, assignment=other_assignment)
    return World(
        student=student,
        other_student=other_student,
        teacher=teacher,
        other_teacher=other_teacher,
        admin=admin,
        classroom=classroom,
        other_classroom=other_classroom,
        assignment=assignment,
        problem_set=problem_set,
        problem=problem,
        session=session,
        other_session=other_session,
    )


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def world_tx(transactional_db: None) -> World:
    """The same world, committed, for tests whose code runs on other threads (websocket consumers)."""
    return build_world()
