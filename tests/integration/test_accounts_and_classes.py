from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tutor import ratelimit, services
from tutor.models import Classroom, Enrollment, User

from .conftest import PASSWORD, World, make_user

pytestmark = pytest.mark.django_db


def test_a_student_signs_up_with_a_join_code_and_lands_in_the_class(world: World) -> None:
    client = Client()
    response = client.post(
        reverse("signup"),
        {
            "username": "newkid",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "join_code": world.classroom.join_code,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newkid")
    assert user.role == User.Role.STUDENT
    assert Enrollment.objects.filter(student=user, classroom=world.classroom).exists()
    assert "Everyday numbers" in client.get(reverse("student_dashboard")).content.decode()


def test_a_wrong_join_code_creates_no_account(world: World) -> None:
    response = Client().post(
        reverse("signup"),
        {"username": "ghost", "password1": PASSWORD, "password2": PASSWORD, "join_code": "ZZZZ9999"},
    )
    assert response.status_code == 400
    assert "No class has that join code" in response.content.decode()
    assert not User.objects.filter(username="ghost").exists()


def test_join_codes_are_forgiving_about_case_and_spaces(world: World) -> None:
    newcomer = make_user("s-frank", User.Role.STUDENT)
    code = world.classroom.join_code
    classroom, created = services.class_join(student=newcomer, join_code=f" {code[:4].lower()} {code[4:]} ")
    assert (classroom, created) == (world.classroom, True)
    assert services.class_join(student=newcomer, join_code=code) == (world.classroom, False)


def test_a_closed_class_or_a_rotated_code_refuses_new_students(world: World) -> None:
    newcomer = make_user("s-gina", User.Role.STUDENT)
    old_code = world.classroom.join_code
    services.class_rotate_code(classroom=world.classroom)
    with pytest.raises(services.ServiceError, match="No class has that join code"):
        services.class_join(student=newcomer, join_code=old_code)
    services.class_set_open(classroom=world.classroom, is_open=False)
    with pytest.raises(services.ServiceError, match="not taking new students"):
        services.class_join(student=newcomer, join_code=world.classroom.join_code)
    assert not Enrollment.objects.filter(student=newcomer).exists()


def test_a_student_joins_a_class_from_the_dashboard_with_htmx(world: World) -> None:
    newcomer = make_user("s-hank", User.Role.STUDENT)
    client = Client()
    client.force_login(newcomer)
    response = client.post(reverse("join_class"), {"join_code": world.classroom.join_code}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("student_dashboard")
    bad = client.post(reverse("join_class"), {"join_code": "NOPE"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and 'id="join-form"' in bad.content.decode()


def test_a_teacher_creates_a_class_and_sees_its_join_code(world: World) -> None:
    client = Client()
    client.force_login(world.teacher)
    response = client.post(reverse("class_create"), {"name": "Period 5"}, follow=True)
    classroom = Classroom.objects.get(name="Period 5")
    assert classroom.teacher == world.teacher
    assert len(classroom.join_code) == 8
    assert classroom.join_code in response.content.decode()


def test_a_teacher_assigns_a_problem_set_once(world: World) -> None:
    client = Client()
    client.force_login(world.teacher)
    data = {"problem_set": world.problem_set.pk, "hints_per_problem": 2, "tellings_per_problem": 1}
    response = client.post(reverse("assignment_create", args=[world.classroom.pk]), data)
    assert response.status_code == 400  # the world already assigned this set
    assert "already assigned" in response.content.decode()
    fresh = services.class_create(teacher=world.teacher, name="Fresh")
    assert client.post(reverse("assignment_create", args=[fresh.pk]), data).status_code == 302
    assert fresh.assignments.get().hints_per_problem == 2


def test_an_admin_creates_and_deactivates_a_teacher(world: World) -> None:
    client = Client()
    client.force_login(world.admin)
    data = {"username": "t-new", "password1": PASSWORD, "password2": PASSWORD, "full_name": "Pat Kim"}
    assert client.post(reverse("admin_teachers"), data).status_code == 302
    teacher = User.objects.get(username="t-new")
    assert (teacher.role, teacher.first_name, teacher.last_name) == ("teacher", "Pat", "Kim")
    client.post(reverse("admin_teacher_active", args=[teacher.pk]), {"is_active": "0"})
    teacher.refresh_from_db()
    assert teacher.is_active is False
    # Only teachers can be switched on and off here: a student id is a 404.
    assert client.post(reverse("admin_teacher_active", args=[world.student.pk]), {"is_active": "0"}).status_code == 404


@override_settings(LOGIN_FAILURES_PER_USERNAME=3)
def test_repeated_failed_log_ins_are_rate_limited(world: World) -> None:
    client = Client()
    statuses = [
        client.post(reverse("login"), {"username": "s-carol", "password": "wrong"}).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    # The count lives in the cache, which outlasts this test's database; later tests log in as s-carol too.
    ratelimit.log_in_succeeded(username="s-carol")


def test_a_student_can_log_in_with_the_demo_password(demo: None) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": "demo-student", "password": "socratic-demo"})
    assert response.status_code == 302


def test_guessing_join_codes_is_rate_limited(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.views import student as student_views

    monkeypatch.setattr(student_views, "JOIN_ATTEMPTS", 2)
    newcomer = make_user("s-ivan", User.Role.STUDENT)
    client = Client()
    client.force_login(newcomer)
    for code in ("AAAA2222", "BBBB3333"):
        assert "No class has that join code" in client.post(reverse("join_class"), {"join_code": code}).content.decode()
    blocked = client.post(reverse("join_class"), {"join_code": world.classroom.join_code})
    assert blocked.status_code == 400 and "Too many attempts" in blocked.content.decode()
    assert not Enrollment.objects.filter(student=newcomer).exists()
    assert "My problems" in blocked.content.decode()  # without htmx the whole dashboard comes back, with the error
