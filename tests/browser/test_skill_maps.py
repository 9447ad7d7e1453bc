"""The skill map is a picture: checked in a real browser, from a screenshot, for the demo student and class."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from knowledge_graph.selectors import mastery_colour
from tutor import tutoring
from tutor.demo import demo_load
from tutor.models import Assignment, Problem, User
from tutor.services import turn_append

from .conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def work(student: User, slug: str, answers: list[str]) -> None:
    problem = Problem.objects.get(slug=slug, is_current=True)
    session, _ = tutoring.session_begin(
        student=student, problem=problem, assignment=Assignment.objects.get(problem_set=problem.problem_set)
    )
    for answer in answers:
        planned = tutoring.turn_plan(session=session, message=answer)
        turn_append(session=session, role="student", text=answer)
        tutoring.turn_complete(planned=planned, delivery=tutoring.template_delivery(planned), backend="none")
        session.refresh_from_db()


@pytest.fixture
def demo_site(live_server: Any) -> str:
    demo_load()
    student = User.objects.get(username="demo-student")
    work(student, "muffin-trays", ["24", "12"])  # right first time: multiplication goes up
    work(student, "jacket-sale", ["25", "20", "60"])  # a misconception first: percent goes down
    return str(live_server.url)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def near(a: tuple[int, ...], b: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a[:3], b, strict=True))


def screenshot_colours(page: Any, name: str) -> set[tuple[int, ...]]:
    shot = page.locator("svg.skill-map").screenshot()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(shot)
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    return set(image.get_flattened_data())


def node_mastery(page: Any, code: str) -> float | None:
    value = page.locator(f'g.skill-node[data-skill="{code}"]').get_attribute("data-mastery")
    return float(value) if value else None


def test_the_demo_students_skill_map_shows_mastery_as_colour(page: Any, demo_site: str) -> None:
    log_in(page, demo_site, "demo-student")
    page.get_by_role("link", name="My skills").click()
    assert page.locator("g.skill-node").count() >= 10
    assert page.locator("svg.skill-map line").count() >= 10  # prerequisite arrows
    multiply, percent = node_mastery(page, "arith.multiply"), node_mastery(page, "percent.of-quantity")
    assert multiply is not None and percent is not None and multiply > 0.3 > percent
    assert node_mastery(page, "geometry.area") is None  # never practised: grey
    colours = screenshot_colours(page, "skill-map-student.png")
    for value in (multiply, percent, None):
        stroke, _ = mastery_colour(value)
        assert any(near(c, rgb(stroke)) for c in colours), f"no pixel of {stroke} for mastery {value}"


def test_the_demo_class_map_and_a_teacher_override(page: Any, demo_site: str) -> None:
    log_in(page, demo_site, "demo-teacher")
    page.get_by_role("link", name="Period 3 Math").click()
    page.get_by_role("link", name="Class skill map").click()
    assert page.locator("g.skill-node").count() >= 10
    title = page.locator('g.skill-node[data-skill="arith.multiply"] title').text_content()
    assert "of 2 students mastered" in title
    colours = screenshot_colours(page, "skill-map-class.png")
    assert any(near(c, rgb(mastery_colour(None)[0])) for c in colours)

    page.goto(page.url.replace("/skills/", "/"))
    page.get_by_role("link", name="Alex Rivera").click()
    page.get_by_role("link", name="Skill map and evidence").click()
    page.locator("select#id_skill").select_option(label="Percent of a quantity")
    page.get_by_label("Mastery (%)").fill("90")
    page.get_by_label("Why").fill("Explained percent discounts correctly in class today.")
    page.get_by_role("button", name="Save").click()
    assert node_mastery(page, "percent.of-quantity") == pytest.approx(0.9)
    assert page.get_by_text("Explained percent discounts correctly in class today.").is_visible()
