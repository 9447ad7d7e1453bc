"""Mastery from turns, teacher overrides, and refitting parameters from the app's own evidence."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from knowledge_graph import services as kg_services
from knowledge_graph.bkt import DEFAULT_PARAMS, BKTParams, observe
from knowledge_graph.fitting import simulate
from knowledge_graph.models import Evidence, Skill, SkillParameters, SkillState
from knowledge_graph.tasks import refit_parameters
from tests.integration.conftest import World, make_user
from tutor import tutoring
from tutor.models import Problem, Turn, User
from tutor.services import turn_append

pytestmark = pytest.mark.django_db


def answer(world: World, session_problem: Problem, text: str) -> tutoring.CompletedTurn:
    session, _ = tutoring.session_begin(student=world.student, problem=session_problem, assignment=world.assignment)
    planned = tutoring.turn_plan(session=session, message=text)
    turn_append(session=session, role="student", text=text)
    return tutoring.turn_complete(planned=planned, delivery=tutoring.template_delivery(planned), backend="none")


def test_a_step_answered_right_first_time_raises_every_skill_it_is_tagged_with(world: World) -> None:
    muffins = world.problem  # step 2 is tagged with two skills: money.decimals and arith.multiply
    answer(world, muffins, "24")
    before = {s.skill.code: s.mastery for s in SkillState.objects.filter(learner=world.student)}
    completed = answer(world, muffins, "12")
    after = {s.skill.code: s.mastery for s in SkillState.objects.filter(learner=world.student)}
    expected = observe(before["arith.multiply"], True, DEFAULT_PARAMS).after
    assert after["arith.multiply"] == pytest.approx(expected)
    assert after["money.decimals"] == pytest.approx(observe(DEFAULT_PARAMS.prior, True, DEFAULT_PARAMS).after)
    evidence = Evidence.objects.filter(turn_id=completed.turn.pk)
    assert sorted(evidence.values_list("skill__code", flat=True)) == ["arith.multiply", "money.decimals"]
    assert all(e.correct for e in evidence)
    panel = tutoring.mastery_rows(completed.session, tutoring.mastery_before(completed.turn))
    assert {r.code: r.moved > 0 for r in panel} == {"arith.multiply": True, "money.decimals": True}


def test_a_wrong_first_attempt_counts_against_the_skill_even_when_later_solved(world: World) -> None:
    answer(world, world.problem, "10")
    answer(world, world.problem, "24")
    state = SkillState.objects.get(learner=world.student, skill__code="arith.multiply")
    assert state.mastery == pytest.approx(observe(DEFAULT_PARAMS.prior, False, DEFAULT_PARAMS).after)
    assert (state.attempts, state.correct) == (1, 0)


def test_a_teacher_override_needs_a_note_and_is_logged_beside_the_evidence(world: World) -> None:
    skill = Skill.objects.get(code="arith.add")
    with pytest.raises(ValueError, match="note"):
        kg_services.mastery_override(learner=world.student, skill=skill, mastery=0.9, author=world.teacher, note=" ")
    change = kg_services.mastery_override(
        learner=world.student, skill=skill, mastery=0.9, author=world.teacher, note="Showed it on the board"
    )
    assert (change.before, change.after) == (DEFAULT_PARAMS.prior, 0.9)
    logged = Evidence.objects.get(learner=world.student, skill=skill)
    assert (logged.kind, logged.author, logged.note) == ("override", world.teacher, "Showed it on the board")
    assert SkillState.objects.get(learner=world.student, skill=skill).mastery == 0.9


@pytest.mark.parametrize("truth", [BKTParams(prior=0.2, learn=0.2, slip=0.1, guess=0.25)])
def test_a_refit_recovers_the_parameters_that_generated_the_evidence(db: None, truth: BKTParams) -> None:
    """Tolerance: 0.06 on each parameter, for 400 learners of 12 opportunities each (4,800 observations)."""
    skill = Skill.objects.create(code="sim.skill", name="Simulated")
    learners = [make_user(f"sim-{i}", User.Role.STUDENT) for i in range(400)]
    sequences = simulate(truth, n_sequences=len(learners), length=12, seed=3)
    Evidence.objects.bulk_create(
        Evidence(learner=learner, skill=skill, correct=bool(obs), before=0, after=0)
        for learner, seq in zip(learners, sequences, strict=True)
        for obs in seq
    )
    result = refit_parameters.apply().get()
    assert result["refitted"] == 1
    fitted = SkillParameters.objects.get(skill=skill)
    for name in ("prior", "learn", "slip", "guess"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), abs=0.06), name
    assert fitted.observations == 4800 and fitted.fitted_at is not None


def test_skills_with_too_little_evidence_keep_their_parameters(world: World) -> None:
    answer(world, world.problem, "24")
    out = StringIO()
    call_command("refit_mastery", stdout=out)
    assert "fewer than 200 observations" in out.getvalue()
    assert not SkillParameters.objects.exists()


def test_turn_and_evidence_are_stored_together(world: World) -> None:
    completed = answer(world, world.problem, "24")
    assert Turn.objects.filter(pk=completed.turn.pk).exists()
    assert Evidence.objects.filter(turn_id=completed.turn.pk).count() == 1


def test_a_reply_planned_from_a_stale_state_is_planned_again_before_it_is_kept(world: World) -> None:
    """Two tabs on two workers: both plan from the same state; the second to finish must not undo the first."""
    session, _ = tutoring.session_begin(student=world.student, problem=world.problem, assignment=world.assignment)
    first = tutoring.turn_plan(session=session, message="Can I have a hint?")
    second = tutoring.turn_plan(session=session, message="Can I have a hint?")
    turn_append(session=session, role="student", text="Can I have a hint?")
    tutoring.turn_complete(planned=first, delivery=tutoring.template_delivery(first), backend="none")
    turn_append(session=session, role="student", text="Can I have a hint?")
    completed = tutoring.turn_complete(planned=second, delivery=tutoring.template_delivery(second), backend="none")
    session.refresh_from_db()
    assert session.dialogue_state["turns"] == 3  # opening + two replies, each planned from its predecessor
    assert session.hints_used == session.dialogue_state["hints_used"] == 2
    assert completed.turn.plan["hint"] != first.plan.hint  # the second reply gave the next rung, not the same one
