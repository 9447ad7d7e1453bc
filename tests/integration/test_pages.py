from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tutor import services
from tutor.models import User
from tutor.templatetags.tutor_markdown import render_markdown

from .conftest import World

pytestmark = pytest.mark.django_db

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_demo_student_sees_the_demo_problems(demo: None) -> None:
    page = login(User.objects.get(username="demo-student")).get(reverse("student_dashboard")).content.decode()
    for title in ("Everyday numbers", "Muffin trays", "Rates, shapes and equations", "Think of a number"):
        assert title in page


def test_the_demo_teacher_sees_the_demo_class_and_its_students(demo: None) -> None:
    client = login(User.objects.get(username="demo-teacher"))
    dashboard = client.get(reverse("teacher_dashboard")).content.decode()
    assert "Period 3 Math" in dashboard and "MATH2345" in dashboard
    class_page = client.get(reverse("home"), follow=True)
    assert class_page.status_code == 200


def test_the_student_dashboard_runs_a_fixed_number_of_queries(world: World) -> None:
    client = login(world.student)
    client.get(reverse("student_dashboard"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("student_dashboard"))
    services.class_join(student=world.student, join_code=world.other_classroom.join_code)
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("student_dashboard"))
    # More classes and problems must not mean more queries.
    assert len(more.captured_queries) == len(few.captured_queries) <= 8


def test_a_started_session_shows_the_problem_and_its_status_on_the_dashboard(world: World) -> None:
    client = login(world.student)
    page = client.get(reverse("session_detail", args=[world.session.pk])).content.decode()
    assert "Muffin trays" in page and 'ws-connect="/ws/sessions/' in page
    assert "In progress" in client.get(reverse("student_dashboard")).content.decode()


def test_every_page_sends_a_strict_content_security_policy(world: World) -> None:
    response = login(world.student).get(reverse("session_detail", args=[world.session.pk]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in response.content.decode().replace("<script src=", "")


def test_messages_and_content_are_escaped_not_executed(world: World) -> None:
    services.turn_append(session=world.session, role="student", text=XSS)
    page = login(world.teacher).get(reverse("session_detail", args=[world.session.pk])).content.decode()
    assert XSS not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_markdown_drops_raw_html_and_keeps_math_for_katex() -> None:
    html = render_markdown("Cost is **$3 \\times 4$** and <b>bold</b> $a*b*c$ " + XSS)
    assert "<b>" not in html and "<script>" not in html and "<img" not in html
    assert "<strong>$3 \\times 4$</strong>" in html
    assert "$a*b*c$" in html  # not turned into emphasis


def test_the_read_only_view_marks_whose_session_it_is(world: World) -> None:
    page = login(world.teacher).get(reverse("session_detail", args=[world.session.pk])).content.decode()
    assert "read-only" in page and 'id="message-form"' not in page
