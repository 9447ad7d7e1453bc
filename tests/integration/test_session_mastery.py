"""Mastery over a whole session: one observation per step, and a wrap-up that shows the panel's own figures."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from knowledge_graph import selectors as kg_selectors
from knowledge_graph import services as kg_services
from knowledge_graph.bkt import DEFAULT_PARAMS, observe
from knowledge_graph.models import Evidence, Skill
from tests.integration.conftest import World
from tutor import tutoring
from tutor.models import Problem, TutoringSession
from tutor.services import turn_append

pytestmark = pytest.mark.django_db

PRIOR = round(DEFAULT_PARAMS.prior * 100)


def solve(world: World, slug: str, messages: list[str]) -> list[tutoring.CompletedTurn]:
    """Start a session on a demo problem and send each message, the way the consumer does; returns each reply."""
    problem = world.problem_set.problems.get(slug=slug, is_current=True)
    replies = []
    for text in messages:
        session, _ = tutoring.session_begin(student=world.student, problem=problem, assignment=world.assignment)
        planned = tutoring.turn_plan(session=session, message=text)
        turn_append(session=session, role="student", text=text)
        replies.append(
            tutoring.turn_complete(planned=planned, delivery=tutoring.template_delivery(planned), backend="none")
        )
    return replies


def observations(reply: tutoring.CompletedTurn) -> list[tuple[str, bool | None]]:
    rows = Evidence.objects.filter(turn_id=reply.turn.pk, kind=Evidence.Kind.OBSERVATION)
    return sorted(rows.values_list("skill__code", "correct"))


def panel_after(reply: tutoring.CompletedTurn) -> dict[str, tutoring.MasteryRow]:
    """The panel as it is pushed to the browser after this reply."""
    rows = tutoring.mastery_rows(reply.session, tutoring.mastery_before(reply.turn))
    return {r.code: r for r in rows}


def page(world: World, session: TutoringSession) -> str:
    client = Client()
    client.force_login(world.student)
    response = client.get(reverse("session_detail", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def panel_on_page(html: str) -> dict[str, tuple[int, int]]:
    """Each skill's (percent, change) as the mastery panel shows them."""
    found = re.findall(
        r'<span class="mastery-name">(.*?)</span>.*?<span class="mastery-value">(\d+)%'
        r'(?: <span class="moved (?:up|down)">\+?(-?\d+)</span>)?',
        html,
        re.S,
    )
    return {name: (int(percent), int(moved or 0)) for name, percent, moved in found}


def wrap_up_on_page(html: str) -> dict[str, tuple[int, int]]:
    """Each skill's (before, after) as the wrap-up shows them."""
    moves = re.search(r'<ul class="skill-moves">(.*?)</ul>', html, re.S)
    assert moves is not None, "the wrap-up lists no skills"
    return {name: (int(a), int(b)) for name, a, b in re.findall(r"<li>(.*?): (\d+)% → (\d+)%</li>", moves.group(1))}


def assert_wrap_up_agrees_with_panel(world: World, reply: tutoring.CompletedTurn) -> None:
    """In the fragment pushed after the solving reply and on the page loaded later: same figures, same changes."""
    panel = panel_after(reply)
    moves = tutoring.session_skill_moves(reply.session)
    assert moves
    for move in moves:
        assert (move.after, move.after - move.before) == (panel[move.code].percent, panel[move.code].moved)
    html = page(world, reply.session)
    on_panel = panel_on_page(html)
    for name, (before, after) in wrap_up_on_page(html).items():
        assert on_panel[name] == (after, after - before), name


def test_it_keeps_one_observation_per_step_and_a_wrap_up_equal_to_the_panel(world: World) -> None:
    # Bus ride: 15 (time.elapsed), then 80 (time.elapsed, arith.add), then 95 (arith.add). 25 is wrong on step 1.
    wrong, retried, second, final = solve(world, "bus-ride", ["25", "15", "80", "95"])
    assert final.session.status == TutoringSession.Status.SOLVED
    assert observations(wrong) == []
    assert observations(retried) == [("time.elapsed", False)]
    assert observations(second) == [("arith.add", True), ("time.elapsed", True)]
    assert observations(final) == [("arith.add", True)]
    assert_wrap_up_agrees_with_panel(world, final)


def test_it_shows_every_skill_rising_when_every_step_is_right_first_time(world: World) -> None:
    *_, final = solve(world, "bus-ride", ["15", "80", "95"])
    panel = panel_after(final)
    assert set(panel) == {"time.elapsed", "arith.add"}
    assert all(row.moved > 0 for row in panel.values()), panel
    moves = tutoring.session_skill_moves(final.session)
    assert {m.code for m in moves} == set(panel)
    assert all(m.before == PRIOR and m.after > m.before for m in moves), moves
    assert_wrap_up_agrees_with_panel(world, final)


def test_it_lowers_only_the_retried_steps_skills_and_only_once(world: World) -> None:
    """Saving up: 72 (arith.subtract), then 6 (arith.divide). Two wrong tries on the first step; on the second the
    student asks for a hint before answering, which is no evidence either way."""
    replies = solve(world, "saving-up", ["62", "70", "72", "Can I have a hint?", "6"])
    final = replies[-1]
    assert final.session.status == TutoringSession.Status.SOLVED
    logged = [obs for reply in replies for obs in observations(reply)]
    assert logged == [("arith.subtract", False)]
    moves = {m.code: (m.before, m.after) for m in tutoring.session_skill_moves(final.session)}
    assert moves == {"arith.subtract": (PRIOR, round(observe(DEFAULT_PARAMS.prior, False, DEFAULT_PARAMS).after * 100))}
    panel = panel_after(final)
    assert panel["arith.divide"].moved == 0 and panel["arith.divide"].percent == PRIOR
    assert_wrap_up_agrees_with_panel(world, final)


def test_it_measures_the_wrap_up_from_the_session_start_to_the_stored_mastery_now(world: World) -> None:
    multiply = Skill.objects.get(code="arith.multiply")
    kg_services.mastery_override(learner=world.student, skill=multiply, mastery=0.5, author=world.teacher, note="quiz")
    problem: Problem = world.problem  # muffin trays; its session began before the override
    *_, final = solve(world, problem.slug, ["24", "12"])
    kg_services.mastery_override(learner=world.student, skill=multiply, mastery=0.9, author=world.teacher, note="test")
    final.session.refresh_from_db()
    moves = {m.code: (m.before, m.after) for m in tutoring.session_skill_moves(final.session)}
    assert moves["arith.multiply"] == (PRIOR, 90)
    assert_wrap_up_agrees_with_panel(world, final)


def test_it_reports_mastery_at_a_moment_as_the_figure_before_the_first_change_since(world: World) -> None:
    add = Skill.objects.get(code="arith.add")
    figures = (0.4, 0.7, 0.8)
    for value in figures:
        kg_services.mastery_override(learner=world.student, skill=add, mastery=value, author=world.teacher, note="quiz")
    first, _, last = Evidence.objects.filter(learner=world.student, skill=add).order_by("created_at", "id")
    codes = ["arith.add", "arith.divide"]  # arith.divide has never changed: its prior, then and now

    def at(moment: datetime) -> dict[str, float]:
        return kg_selectors.mastery_at(learner=world.student, codes=codes, when=moment)

    assert at(first.created_at) == {"arith.add": DEFAULT_PARAMS.prior, "arith.divide": DEFAULT_PARAMS.prior}
    assert at(last.created_at)["arith.add"] == 0.7
    assert at(timezone.now()) == {"arith.add": 0.8, "arith.divide": DEFAULT_PARAMS.prior}
