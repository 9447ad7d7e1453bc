"""How many SQL statements one tutoring turn costs in the service layer, pinned so that a new query shows up here.

A turn as the websocket runs it: store the student's message, plan the reply, store the reply with its evidence,
then read what the final render shows (the mastery panel and the hints left). The consumer's own loads of the
session and the turn are made outside the counted blocks: they are the consumer's, not the services'. Transaction
control (savepoints) is left out of the counts: it depends on whether the caller already holds a transaction.

If a count here goes up, find the new query (the failure lists every statement) and remove it, or, when it is
needed, raise the number and say why in the change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge_graph import services as kg_services
from knowledge_graph.models import Evidence, SkillState
from tests.integration.conftest import World
from tutor import services, tutoring
from tutor.models import Turn, TutoringSession

T = TypeVar("T")
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def _statements(work: Callable[[], T]) -> tuple[T, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = work()
    return result, [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]


def _turn(world: World, text: str) -> tuple[dict[str, list[str]], tutoring.CompletedTurn]:
    """One turn through the services, with the statements of each phase."""
    spent: dict[str, list[str]] = {}
    session = TutoringSession.objects.select_related("student", "problem").get(pk=world.session.pk)
    _, spent["store"] = _statements(
        lambda: services.turn_append(session=session, role=Turn.Role.STUDENT, text=text, client_message_id="c-1")
    )
    session = TutoringSession.objects.select_related("student", "assignment", "problem").get(pk=session.pk)
    planned, spent["plan"] = _statements(lambda: tutoring.turn_plan(session=session, message=text))
    completed, spent["complete"] = _statements(
        lambda: tutoring.turn_complete(planned=planned, delivery=tutoring.template_delivery(planned), backend="none")
    )
    session = TutoringSession.objects.select_related("problem", "student", "assignment").get(pk=session.pk)
    turn = Turn.objects.get(pk=completed.turn.pk)
    _, spent["final render"] = _statements(
        lambda: (tutoring.mastery_rows(session, tutoring.mastery_before(turn)), tutoring.hints_left(session))
    )
    return spent, completed


def _explain(spent: dict[str, list[str]]) -> str:
    return "\n".join(f"{phase}: {len(sql)}\n" + "\n".join(f"  {s[:160]}" for s in sql) for phase, sql in spent.items())


def test_answering_a_step_on_practised_skills_costs_fourteen_statements(world: World) -> None:
    """store 3 (stamp-and-lock the session, next number and resend check in one read, insert), plan 2 (mastery with
    priors in 1, the dialogue in 1; the problem's content was loaded when the session opened, and is kept), complete
    7 (lock the session, next number, insert the reply, save the session, lock the mastery rows with their skills and
    parameters, update them, insert the evidence), final render 2 (mastery before the turn; the panel's skills,
    names and mastery)."""
    kg_services.evidence_apply(learner=world.student, observations=[(("arith.multiply", "money.decimals"), False)])

    spent, completed = _turn(world, "24")

    assert Evidence.objects.filter(turn_id=completed.turn.pk).count() == 1  # one step resolved, one skill
    assert {phase: len(sql) for phase, sql in spent.items()} == {
        "store": 3,
        "plan": 2,
        "complete": 7,
        "final render": 2,
    }, _explain(spent)


def test_a_process_loads_a_problems_content_once_and_again_when_it_changes(world: World) -> None:
    # Five prefetches (steps with their skills, hints and misconceptions, and the problem's skills) on a cold start.
    tutoring._domain_problems.clear()
    spent, _ = _turn(world, "24")
    assert len(spent["plan"]) == 7, _explain(spent)
    spent, _ = _turn(world, "12")
    assert len(spent["plan"]) == 2, _explain(spent)
    # The kept copy is keyed by the content's hash: content stored under another hash is loaded afresh.
    world.problem.content_hash = "edited"
    world.problem.save(update_fields=["content_hash"])
    spent, _ = _turn(world, "6")
    assert len(spent["plan"]) == 7, _explain(spent)


def test_a_first_observation_of_a_skill_adds_only_creating_and_locking_its_row(world: World) -> None:
    """The learner's first evidence on a skill reads the skill with its parameters, creates the mastery row and
    locks it: three statements more than a practised skill, in that turn only."""
    assert not SkillState.objects.filter(learner=world.student).exists()

    spent, _ = _turn(world, "24")

    assert len(spent["complete"]) == 10, _explain(spent)
    assert SkillState.objects.filter(learner=world.student, skill__code="arith.multiply", attempts=1).exists()


def test_an_assignment_wide_hint_limit_counts_the_hints_used_on_its_other_problems(world: World) -> None:
    # Without such a limit the budget reads nothing from the other sessions; with one it must.
    world.assignment.hints_total = 5
    world.assignment.save(update_fields=["hints_total"])
    other_problem = world.problem_set.problems.exclude(pk=world.problem.pk).filter(is_current=True).first()
    assert other_problem is not None
    TutoringSession.objects.create(
        student=world.student, problem=other_problem, assignment=world.assignment, hints_used=4
    )
    session = TutoringSession.objects.select_related("assignment").get(pk=world.session.pk)

    assert tutoring.hints_left(session) == 1


@pytest.mark.parametrize("with_limit", [False, True])
def test_the_hints_left_match_the_assignment_per_problem_limit(world: World, with_limit: bool) -> None:
    if with_limit:
        world.assignment.hints_total = 50
        world.assignment.save(update_fields=["hints_total"])
    session = TutoringSession.objects.select_related("assignment").get(pk=world.session.pk)

    assert tutoring.hints_left(session) == world.assignment.hints_per_problem - session.hints_used
