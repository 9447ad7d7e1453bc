"""Teachers rewrite tutor turns; the rewrite is kept beside the turn and becomes preference data."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tutor import services
from tutor.models import Turn, TurnCorrection

from .conftest import World

pytestmark = pytest.mark.django_db


def opening_turn(world: World) -> Turn:
    return world.session.turns.get(seq=1)


def test_a_teacher_rewrites_a_tutor_turn_and_sees_it_under_the_turn(world: World) -> None:
    client = Client()
    client.force_login(world.teacher)
    turn = opening_turn(world)
    response = client.post(
        reverse("turn_correction", args=[turn.pk]),
        {"text": "Look at one tray first. How many muffins are on it?", "note": "smaller first step"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Rewrite by t-alice" in response.content.decode() and "smaller first step" in response.content.decode()
    page = client.get(reverse("session_detail", args=[world.session.pk])).content.decode()
    assert "Look at one tray first." in page
    assert Turn.objects.get(pk=turn.pk).text == turn.text  # what the tutor said is never edited


def test_students_never_see_the_correction_tools(world: World) -> None:
    services.turn_correct(turn=opening_turn(world), author=world.teacher, text="A better question?")
    client = Client()
    client.force_login(world.student)
    page = client.get(reverse("session_detail", args=[world.session.pk])).content.decode()
    assert "Suggest a better reply" not in page and "A better question?" not in page


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Write the reply"), ("x" * 2001, "under 2000"), (None, "same as what the tutor said")],
)
def test_a_bad_rewrite_is_refused_and_stores_nothing(world: World, text: str | None, message: str) -> None:
    turn = opening_turn(world)
    with pytest.raises(services.ServiceError, match=message):
        services.turn_correct(turn=turn, author=world.teacher, text=turn.text if text is None else text)
    assert not TurnCorrection.objects.exists()


def test_only_tutor_turns_can_be_corrected(world: World) -> None:
    student_turn, _ = services.turn_append(session=world.session, role="student", text="10")
    with pytest.raises(services.ServiceError, match="Only the tutor"):
        services.turn_correct(turn=student_turn, author=world.teacher, text="something")


def test_corrections_export_as_preference_pairs(world: World, tmp_path: Path) -> None:
    turn = opening_turn(world)
    services.turn_correct(turn=turn, author=world.teacher, text="How many muffins sit on one tray?")
    out = tmp_path / "pairs.jsonl"
    stdout = StringIO()
    call_command("export_preferences", "--output", str(out), stdout=stdout)
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["chosen"] == "How many muffins sit on one tray?"
    assert record["rejected"] == turn.text
    assert record["prompt"][0]["role"] == "system" and "Maya bakes" in record["prompt"][0]["content"]
    assert record["prompt"][-1]["role"] == "user"
    assert "1 preference pair" in stdout.getvalue()
