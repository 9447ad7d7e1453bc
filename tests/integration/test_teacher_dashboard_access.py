"""The class dashboard: who may open it (every role), what it shows a teacher (only their own class), its filters
and flags, and the one name each person goes by on every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tutor import services
from tutor.models import SessionFigures, User
from tutor.views.dashboard import RECOMPUTES_PER_WINDOW

from .conftest import World
from .test_session_figures import STRUGGLE, say

ACTORS = ("anonymous", "student", "other_student", "teacher", "other_teacher", "admin")


def client_for(world: World, actor: str) -> Client:
    client = Client()
    if actor != "anonymous":
        client.force_login(getattr(world, actor))
    return client


def named(world: World) -> None:
    """Full names for the world's people, so a page that shows a username instead is caught."""
    for user, (first, last) in {
        world.student: ("Carol", "Sanchez"),
        world.other_student: ("Dave", "Okoro"),
        world.teacher: ("Alice", "Brown"),
    }.items():
        user.first_name, user.last_name = first, last
        user.save()


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("class_dashboard", "get"),
        ("class_figures_recompute", "post"),
        ("export_sessions", "get"),
        ("export_turns", "get"),
        ("export_mastery", "get"),
    ],
)
def test_only_the_classs_teacher_and_admins_get_the_dashboard_and_its_exports(
    world: World, name: str, method: str
) -> None:
    named(world)
    say(world.session, STRUGGLE[:5])
    url = reverse(name, args=[world.classroom.pk])
    outcomes: dict[str, Any] = {}
    for actor in ACTORS:
        response = getattr(client_for(world, actor), method)(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if actor not in {"teacher", "admin"}:
            # Refused before anything is read: no name, no message, no file.
            assert b"tell me the answer" not in body, actor
            assert actor == "student" or b"Carol" not in body, actor  # (Carol sees her own name in the header)
            assert "attachment" not in response.get("Content-Disposition", ""), actor
        location = response.get("Location", "")
        outcomes[actor] = "login" if location.startswith(reverse("login")) else response.status_code
    ok = 302 if method == "post" else 200
    assert outcomes == {
        "anonymous": "login",
        "student": 403,
        "other_student": 403,
        "teacher": ok,
        "other_teacher": 403,
        "admin": ok,
    }


def test_a_missing_class_is_404_and_a_deactivated_teacher_is_refused(world: World) -> None:
    client = client_for(world, "teacher")
    assert client.get(reverse("class_dashboard", args=[999999])).status_code == 404
    world.teacher.is_active = False
    world.teacher.save()
    assert client.get(reverse("class_dashboard", args=[world.classroom.pk])).status_code in {302, 403}


def test_a_teacher_sees_only_their_own_classs_students_and_sessions(world: World) -> None:
    named(world)
    # Dave (the other class) joins this class too, but his work in the other class stays out of this dashboard.
    say(world.other_session, ["just tell me the answer"])
    services.class_join(student=world.other_student, join_code=world.classroom.join_code)
    say(world.session, STRUGGLE[:5])

    page = client_for(world, "teacher").get(reverse("class_dashboard", args=[world.classroom.pk])).content.decode()

    assert "Carol Sanchez" in page and "Dave Okoro" in page  # both are students of the class now
    assert f'href="/sessions/{world.session.pk}/' in page
    assert f"/sessions/{world.other_session.pk}/" not in page
    other = client_for(world, "other_teacher").get(reverse("class_dashboard", args=[world.other_classroom.pk]))
    assert "Carol" not in other.content.decode()


def test_flags_link_to_the_turn_that_raised_them(world: World) -> None:
    named(world)
    say(world.session, STRUGGLE[:5])  # the third request for the answer is seq 10

    page = client_for(world, "teacher").get(reverse("class_dashboard", args=[world.classroom.pk])).content.decode()

    attention = page.split('id="attention-heading"', 1)[1].split("</section>", 1)[0]
    assert "Carol Sanchez" in attention
    link = f'href="/sessions/{world.session.pk}/#turn-10"'
    assert re.search(link + r"[^>]*>Asked for the answer 3 times</a>", attention)
    assert f'href="/sessions/{world.session.pk}/#turn-4"' in attention  # the rule change
    transcript = client_for(world, "teacher").get(f"/sessions/{world.session.pk}/").content.decode()
    assert re.search(
        r'<li id="turn-10"[^>]*>\s*<span class="speaker">Student</span>\s*<div class="text">give me', transcript
    )


def test_the_dashboard_computes_missing_figures_and_shows_the_heatmap_as_a_table(world: World) -> None:
    named(world)
    say(world.session, ["24", "12"])
    assert not SessionFigures.objects.exists()

    page = client_for(world, "teacher").get(reverse("class_dashboard", args=[world.classroom.pk])).content.decode()

    assert SessionFigures.objects.filter(session=world.session, solved=True).exists()
    heatmap = page.split('<table class="table heatmap">', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col" title="arith.multiply">' in heatmap
    cells = re.findall(r'<td class="heat heat-(\w+)" tabindex="0" data-skill="([\w.-]+)"[^>]*>(.*?)</td>', heatmap)
    multiply = [c for c in cells if c[1] == "arith.multiply"]
    assert len(multiply) == 1 and multiply[0][2].endswith("%") and multiply[0][0] != "none"
    assert any(c[0] == "none" and "no evidence" in c[2] for c in cells)  # a skill Carol has not practised


def test_the_session_filters_narrow_the_list_and_refuse_what_is_not_in_the_class(world: World) -> None:
    named(world)
    say(world.session, STRUGGLE[:5])
    quiet, _ = services.session_start(
        student=world.student,
        problem=world.problem_set.problems.get(slug="jacket-sale", is_current=True),
        assignment=world.assignment,
    )
    client = client_for(world, "teacher")
    url = reverse("class_dashboard", args=[world.classroom.pk])

    def listed(query: dict[str, Any]) -> set[int]:
        page = client.get(url, query).content.decode()
        table = page.split('id="sessions-heading"', 1)[1].split("</table>", 1)[0]
        return {int(n) for n in re.findall(r'href="/sessions/(\d+)/"', table)}

    assert listed({}) == {world.session.pk, quiet.pk}
    assert listed({"flag": "answer_requests"}) == {world.session.pk}
    assert listed({"flag": "off_task"}) == set()
    assert listed({"problem": str(quiet.problem_id)}) == {quiet.pk}
    assert listed({"status": "active", "student": str(world.student.pk)}) == {world.session.pk, quiet.pk}

    for bad in ({"student": str(world.other_student.pk)}, {"flag": "nonsense"}, {"page": "0"}, {"problem": "x"}):
        response = client.get(url, bad)
        assert response.status_code == 400, bad
        assert "Those filters do not fit this class" in response.content.decode()


def test_recomputing_is_rate_limited(world: World, eager: None) -> None:
    client = client_for(world, "teacher")
    url = reverse("class_figures_recompute", args=[world.classroom.pk])
    statuses = [client.post(url).status_code for _ in range(RECOMPUTES_PER_WINDOW + 1)]
    assert statuses == [302] * RECOMPUTES_PER_WINDOW + [429]
    assert SessionFigures.objects.filter(session=world.session).exists()


def test_a_student_goes_by_one_name_on_every_page(world: World) -> None:
    named(world)
    say(world.session, ["24"])
    teacher = client_for(world, "teacher")
    pages = {
        "class": reverse("class_detail", args=[world.classroom.pk]),
        "student": reverse("class_student", args=[world.classroom.pk, world.student.pk]),
        "skills": reverse("class_student_skills", args=[world.classroom.pk, world.student.pk]),
        "dashboard": reverse("class_dashboard", args=[world.classroom.pk]),
        "transcript": reverse("session_detail", args=[world.session.pk]),
    }
    for what, url in pages.items():
        page = teacher.get(url).content.decode()
        assert "Carol Sanchez" in page, what
        assert "s-carol" not in page, what  # the username never stands in for the name
    own = client_for(world, "student").get(reverse("student_dashboard")).content.decode()
    assert '<span class="who">Carol Sanchez' in own
    assert "Alice Brown" in own  # her teacher, by name
    removed = teacher.post(pages["student"], {"action": "remove"}, follow=True).content.decode()
    assert "Carol Sanchez was removed from Class A." in removed


def test_the_remove_button_names_the_student_as_every_other_page_does(world: World) -> None:
    named(world)
    page = client_for(world, "teacher").get(reverse("class_student", args=[world.classroom.pk, world.student.pk]))
    assert "Remove Carol Sanchez from Class A" in page.content.decode()


def test_a_user_without_a_full_name_goes_by_their_username(world: World) -> None:
    user = User.objects.get(pk=world.student.pk)
    assert user.display_name == "s-carol"


def test_the_dashboards_queries_do_not_grow_with_the_class(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .conftest import make_user

    client = client_for(world, "teacher")
    url = reverse("class_dashboard", args=[world.classroom.pk])
    say(world.session, STRUGGLE[:5])
    client.get(url)  # figures computed once; the counts below read them
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200

    for n in range(4):
        student = make_user(f"s-extra-{n}", User.Role.STUDENT)
        services.class_join(student=student, join_code=world.classroom.join_code)
        session, _ = services.session_start(student=student, problem=world.problem, assignment=world.assignment)
        say(session, ["just tell me the answer", "24"])
    client.get(url)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200

    assert len(large.captured_queries) == len(small.captured_queries)
