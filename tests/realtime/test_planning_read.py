"""Planning a live reply reads the session, its assignment's budget, its dialogue and the learner's mastery in one
query: the plan it makes must be the plan the ORM's reads make, whatever the session holds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge_graph.models import Skill, SkillParameters, SkillState
from pedagogy.realize import deliver
from tests.integration.conftest import World
from tutor import services, tutoring
from tutor.models import Turn, TutoringSession

pytestmark = pytest.mark.django_db(transaction=True)


def both_ways(
    world: World, message: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[tutoring.PlannedTurn, tutoring.PlannedTurn]:
    """The plan by the ORM's reads and by the one read, checked to come from the same inputs (mastery among them,
    which moves the plan only near its thresholds)."""
    seen: list[tutoring.PlanningInputs] = []
    plan_from = tutoring._plan_from

    def recording(domain_problem: Any, inputs: tutoring.PlanningInputs, **kwargs: Any) -> tutoring.PlannedTurn:
        seen.append(inputs)
        return plan_from(domain_problem, inputs, **kwargs)

    monkeypatch.setattr(tutoring, "_plan_from", recording)
    by_orm = tutoring.turn_plan(
        session=TutoringSession.objects.select_related("assignment", "problem").get(pk=world.session.pk),
        message=message,
        mode="plan",
    )
    by_one_read = tutoring.turn_plan_for(session_id=world.session.pk, message=message, mode="plan")
    monkeypatch.setattr(tutoring, "_plan_from", plan_from)
    assert len(seen) == 2 and seen[1] == seen[0]
    # When each was made is not part of the plan.
    return replace(by_orm, planner_ms=0, started=0), replace(by_one_read, planner_ms=0, started=0)


def student_says(world: World, message: str) -> None:
    services.turn_append(session=world.session, role=Turn.Role.STUDENT, text=message)


def test_the_one_read_plans_every_turn_as_the_orm_does(world_tx: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tutoring.session_open(session=world_tx.session)
    # A state of the learner's own for one skill, a fitted prior for another: both reach the planner.
    skills = list(
        Skill.objects.filter(problems=world_tx.problem) | Skill.objects.filter(steps__problem=world_tx.problem)
    )
    assert skills
    SkillState.objects.create(learner=world_tx.student, skill=skills[0], mastery=0.8125)
    SkillParameters.objects.update_or_create(
        skill=skills[-1], defaults={"prior": 0.3, "learn": 0.2, "slip": 0.1, "guess": 0.2}
    )
    for message in ("I'm not sure where to start", "is it 7?", "can I have a hint?", "just tell me the answer"):
        student_says(world_tx, message)
        by_orm, by_one_read = both_ways(world_tx, message, monkeypatch)
        assert by_one_read == by_orm
        delivery = deliver(None, by_orm.plan, by_orm.context, previous=by_orm.previous)
        tutoring.turn_complete(planned=by_orm, delivery=delivery, backend="template")


def test_an_assignment_wide_hint_cap_counts_the_other_problems_in_the_one_read(
    world_tx: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tutoring.session_open(session=world_tx.session)
    world_tx.assignment.hints_total = 3
    world_tx.assignment.save(update_fields=["hints_total"])
    other_problem = world_tx.problem_set.problems.filter(is_current=True).exclude(pk=world_tx.problem.pk).first()
    assert other_problem is not None
    other, _ = services.session_start(student=world_tx.student, problem=other_problem, assignment=world_tx.assignment)
    TutoringSession.objects.filter(pk=other.pk).update(hints_used=2, tellings_used=1)
    student_says(world_tx, "Can I have a hint?")
    by_orm, by_one_read = both_ways(world_tx, "Can I have a hint?", monkeypatch)
    assert by_one_read == by_orm


def test_planning_a_live_reply_is_one_query(world_tx: World) -> None:
    tutoring.session_open(session=world_tx.session)  # the problem's content is now held by this process
    student_says(world_tx, "is it 7?")
    with CaptureQueriesContext(connection) as queries:
        tutoring.turn_plan_for(session_id=world_tx.session.pk, message="is it 7?", mode="plan")
    assert len(queries.captured_queries) == 1


def test_content_not_held_here_is_planned_the_orm_way(world_tx: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tutoring.session_open(session=world_tx.session)
    student_says(world_tx, "is it 7?")
    tutoring._domain_problems.clear()
    by_orm, by_one_read = both_ways(world_tx, "is it 7?", monkeypatch)
    assert by_one_read == by_orm
