"""Every page that shows what users typed or admins imported, visited in Chromium with hostile content in each field.

Each field gets a payload of its own: a marker (``<b>field</b>``, which must show as those characters), a script, an
image whose error handler runs script, ``javascript:`` links in HTML and Markdown, and TeX that asks for a link, a
class and a 2000-em box; free-text fields also get 100 KB of text without a space. Each page is opened as the role that
sees it, and must run nothing (no dialog, no script), add no element from the content, show every marker as text, and
keep every element within a viewport's width or so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.urls import reverse

from tutor import services, tutoring
from tutor.content.jobs import import_job_create, import_job_run, import_path
from tutor.demo import DEMO_PASSWORD
from tutor.models import Problem, Turn, TutoringSession, User

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HUGE = "W" * 100_000  # 100 KB without a place to break a line


def unbroken(limit: int) -> str:
    """As long as a field allows, with no place to break a line: names and titles must wrap anyway."""
    return "M" * limit


def payload(field: str) -> str:
    return (
        f"<b>{field}</b>"
        '<script>window.__xss = "script"; alert("script")</script>'
        "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">"
        '<a href="javascript:alert(\'link\')">link</a> [md](javascript:alert("md")) '
        r"$\href{javascript:alert('tex')}{tex}$ $\htmlClass{pwned}{x}$ $\rule{2000em}{2000em}$"
    )


def short(field: str, limit: int) -> str:
    """The payload cut to a field's length limit: the marker and the script come first, so they always survive."""
    return payload(field)[:limit]


@dataclass
class Hostile:
    student: User
    teacher: User
    admin: User
    classroom_id: int
    session: TutoringSession
    problem: Problem
    failed_job_id: int
    imported_job_id: int
    long_student: User
    long_session: TutoringSession
    long_problem: Problem


def hostile_set(tmp_path: Path) -> Path:
    doc = {
        "format": "tutor-native/1",
        "set": {"slug": "hostile", "title": short("set title", 200), "description": payload("set description")},
        "skills": [
            {"code": "hostile.skill", "name": short("skill name", 200), "description": payload("skill")},
            {"code": "hostile.long", "name": unbroken(200), "description": unbroken(2000)},
        ],
        "problems": [
            {
                "slug": "hostile-problem",
                "title": short("problem title", 200),
                "text": payload("problem text") + " " + "Y" * 19_000,
                "answer": "12",
                "skills": ["hostile.skill"],
                "steps": [
                    {
                        "prompt": payload("step prompt"),
                        "answer": "12",
                        "skills": ["hostile.skill"],
                        "hints": [
                            {"kind": "hint", "text": payload("hint")},
                            {"kind": "scaffold", "text": payload("scaffold"), "answer": "12"},
                            {"kind": "bottom_out", "text": payload("bottom out") + " 12"},
                        ],
                        "misconceptions": [{"wrong": "10", "feedback": payload("feedback")}],
                    }
                ],
            },
            {
                "slug": "long-problem",
                "title": unbroken(200),
                "text": unbroken(20_000),
                "answer": "12",
                "skills": ["hostile.long"],
                "steps": [
                    {
                        "prompt": unbroken(4000),
                        "answer": "12",
                        "skills": ["hostile.long"],
                        "hints": [{"kind": "hint", "text": unbroken(4000)}],
                    }
                ],
            },
        ],
    }
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    return path


def seed(tmp_path: Path) -> Hostile:
    teacher = User.objects.create_user(
        username="t-hostile", password=DEMO_PASSWORD, role=User.Role.TEACHER, first_name=short("teacher name", 150)
    )
    student = User.objects.create_user(
        username="s-hostile",
        password=DEMO_PASSWORD,
        role=User.Role.STUDENT,
        first_name=short("student name", 150),
        last_name=short("student surname", 150),
    )
    admin = User.objects.create_user(
        username="a-hostile",
        password=DEMO_PASSWORD,
        role=User.Role.ADMIN,
        is_staff=True,
        is_superuser=True,
        first_name=short("admin name", 150),
    )
    classroom = services.class_create(teacher=teacher, name=short("class name", 120))
    services.class_join(student=student, join_code=classroom.join_code)
    # A second student and class whose names leave no place to break a line.
    long_named = User.objects.create_user(
        username="s-long", password=DEMO_PASSWORD, first_name=unbroken(150), last_name=unbroken(150)
    )
    services.class_join(student=long_named, join_code=classroom.join_code)
    services.class_create(teacher=teacher, name=unbroken(120))

    imported = import_job_create(
        created_by=admin, filename="hostile.yaml", content=hostile_set(tmp_path).read_bytes(), set_name=""
    )
    import_job_run(job_id=imported.pk)
    outcome = import_path(path=hostile_set(tmp_path))  # the same set again: unchanged, and its summary to hand
    assert outcome.summary is not None, outcome.line()
    problem_set = outcome.summary.problem_set
    assignment = services.assignment_create(
        classroom=classroom, problem_set=problem_set, hints_per_problem=3, tellings_per_problem=1
    )
    problem = problem_set.problems.get(slug="hostile-problem", is_current=True)

    session, _ = tutoring.session_begin(student=student, problem=problem, assignment=assignment)
    services.turn_append(session=session, role=Turn.Role.STUDENT, text=payload("student message") + " " + HUGE)
    tutor_turn, _ = services.turn_append(
        session=session,
        role=Turn.Role.TUTOR,
        text=payload("tutor turn") + " " + HUGE,
        move="probing:" + short("move", 30),
        plan={"reason": payload("plan reason")},
        backend=short("backend", 40),
    )
    services.turn_correct(turn=tutor_turn, author=teacher, text=payload("correction"), note=payload("note"))
    long_problem = problem_set.problems.get(slug="long-problem", is_current=True)
    long_session, _ = tutoring.session_begin(student=long_named, problem=long_problem, assignment=assignment)
    services.turn_append(session=long_session, role=Turn.Role.STUDENT, text=unbroken(2000))

    # An upload that fails: its report quotes what it could not read.
    broken = yaml.safe_load(hostile_set(tmp_path).read_text())
    broken["problems"][0]["skills"] = [payload("unknown skill")]
    broken["problems"][0]["steps"][0]["answer_type"] = payload("answer type")
    failed = import_job_create(
        created_by=admin,
        filename=payload("filename") + ".yaml",
        content=yaml.safe_dump(broken).encode(),
        set_name=short("set name", 200),
    )
    import_job_run(job_id=failed.pk)
    return Hostile(
        student=student,
        teacher=teacher,
        admin=admin,
        classroom_id=classroom.pk,
        session=session,
        problem=problem,
        failed_job_id=failed.pk,
        imported_job_id=imported.pk,
        long_student=long_named,
        long_session=long_session,
        long_problem=long_problem,
    )


# Elements the payloads would add if any of them were taken for markup.
INJECTED = (
    "script:not([src]), img[src='x'], [onerror], a[href^='javascript:' i], [href^='javascript:' i], .pwned, "
    "iframe, object, embed"
)
# "Wider than the viewport by thousands of pixels": anything past the viewport's width by more than this.
SLACK_PX = 1000


def problems_on(page: Any, url: str, markers: list[str]) -> list[str]:
    """Everything wrong with one page: what ran, what was injected, what is too wide, which markers are not text."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # late work: KaTeX, htmx, the socket's first frames
    found = [f"{url}: status {response.status}"] if response is None or response.status != 200 else []
    found += [f"{url}: a dialog opened: {message}" for message in dialogs]
    if page.evaluate("() => window.__xss !== undefined"):
        found.append(f"{url}: content ran script ({page.evaluate('() => window.__xss')})")
    injected = page.eval_on_selector_all(INJECTED, "els => els.map(e => e.outerHTML.slice(0, 120))")
    found += [f"{url}: injected {html}" for html in injected]
    wide = page.evaluate(
        """slack => {
          const limit = window.innerWidth + slack;
          const out = [];
          if (document.documentElement.scrollWidth > limit) out.push(`page ${document.documentElement.scrollWidth}px`);
          for (const el of document.querySelectorAll("body *")) {
            const box = el.getBoundingClientRect();
            if (box.width > limit) out.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(box.width)}px`);
          }
          return out.slice(0, 5);
        }""",
        SLACK_PX,
    )
    found += [f"{url}: too wide: {what}" for what in wide]
    text = page.inner_text("body")
    found += [f"{url}: {marker!r} is not shown as text" for marker in markers if marker not in text]
    return found


def visit(page: Any, base: str, username: str, pages: dict[str, list[str]]) -> None:
    log_in(page, base, username)
    found: list[str] = []
    for path, fields in pages.items():
        found += problems_on(page, base + path, [f"<b>{field}</b>" for field in fields])
    assert not found, "\n".join(found)


@pytest.fixture
def hostile(tmp_path: Path, eager: None) -> Hostile:
    return seed(tmp_path)


@pytest.fixture
def site(hostile: Hostile, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("asgi_live_server"))


def test_a_student_sees_hostile_content_as_text(page: Any, site: str, hostile: Hostile) -> None:
    visit(
        page,
        site,
        "s-hostile",
        {
            reverse("student_dashboard"): ["student name", "class name", "set title", "problem title"],
            reverse("session_history"): ["problem title"],
            reverse("student_skills"): ["skill name"],
            reverse("session_detail", args=[hostile.session.pk]): [
                "student name",
                "set title",
                "problem title",
                "problem text",
                "student message",
                "tutor turn",
            ],
        },
    )


def test_a_teacher_sees_hostile_content_as_text(page: Any, site: str, hostile: Hostile) -> None:
    class_id, student_id = hostile.classroom_id, hostile.student.pk
    visit(
        page,
        site,
        "t-hostile",
        {
            reverse("teacher_dashboard"): ["teacher name", "class name"],
            reverse("class_detail", args=[class_id]): ["class name", "student name", "set title"],
            reverse("class_student", args=[class_id, student_id]): ["student name", "problem title"],
            reverse("session_detail", args=[hostile.session.pk]): [
                "student name",
                "problem title",
                "problem text",
                "student message",
                "tutor turn",
                "correction",
                "note",
                "plan reason",
            ],
            reverse("class_skills", args=[class_id]): ["class name", "skill name"],
            reverse("class_student_skills", args=[class_id, student_id]): ["student name", "skill name"],
            reverse("class_dashboard", args=[class_id]): ["class name", "student name"],
            reverse("class_student", args=[class_id, hostile.long_student.pk]): [],
            reverse("class_student_skills", args=[class_id, hostile.long_student.pk]): [],
            reverse("session_detail", args=[hostile.long_session.pk]): [],
        },
    )


def test_an_admin_sees_hostile_content_as_text(page: Any, site: str, hostile: Hostile) -> None:
    visit(
        page,
        site,
        "a-hostile",
        {
            reverse("admin_teachers"): ["teacher name"],
            reverse("admin_imports"): ["admin name"],
            reverse("admin_import_job", args=[hostile.failed_job_id]): ["unknown skill"],
            reverse("admin_import_job", args=[hostile.imported_job_id]): ["set title"],
            reverse("admin_problem_sets"): ["set title", "problem title"],
            reverse("admin_problem_preview", args=[hostile.problem.pk]): [
                "problem title",
                "problem text",
                "step prompt",
                "hint",
                "scaffold",
                "bottom out",
            ],
            reverse("admin_problem_preview", args=[hostile.long_problem.pk]): [],
        },
    )
