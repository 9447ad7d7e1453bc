"""The pages a new user meets first, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tutor import services
from tutor.demo import demo_load
from tutor.models import Problem, User

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_site(live_server: Any) -> str:
    demo_load()
    return str(live_server.url)


def test_the_demo_student_logs_in_and_opens_a_problem_with_rendered_math(page: Any, demo_site: str) -> None:
    log_in(page, demo_site, "demo-student")
    assert page.get_by_role("heading", name="My problems").is_visible()
    assert page.locator(".problem-title", has_text="Muffin trays").is_visible()
    page.get_by_role("button", name="Start Pizza left over").click()
    page.wait_for_selector(".problem-text .katex")  # KaTeX, vendored, ran under the Content-Security-Policy
    assert page.get_by_role("heading", name="Pizza left over").is_visible()
    assert page.get_by_label("Your answer or question").is_visible()
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []


def test_the_demo_teacher_sees_the_demo_class(page: Any, demo_site: str) -> None:
    log_in(page, demo_site, "demo-teacher")
    assert page.get_by_role("heading", name="My classes").is_visible()
    page.get_by_role("link", name="Period 3 Math").click()
    assert page.get_by_text("MATH2345").first.is_visible()
    assert page.get_by_role("link", name="Alex Rivera").is_visible()


def test_a_typed_script_shows_as_text_and_runs_nothing(page: Any, demo_site: str) -> None:
    student = User.objects.get(username="demo-student")
    problem = Problem.objects.get(slug="muffin-trays", is_current=True)
    session, _ = services.session_start(student=student, problem=problem, assignment=None)
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    services.turn_append(session=session, role="student", text=payload)
    log_in(page, demo_site, "demo-student")
    page.goto(f"{demo_site}/sessions/{session.pk}/")
    assert page.locator("#transcript").inner_text().count("window.__xss") == 2
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("#transcript img").count() == 0


def test_a_wrong_join_code_shows_its_error_in_place(page: Any, demo_site: str) -> None:
    log_in(page, demo_site, "demo-student")
    page.get_by_label("Class join code").fill("NOPE2345")
    page.get_by_role("button", name="Join").click()
    page.get_by_text("No class has that join code").wait_for()  # swapped in by htmx, not a page load
