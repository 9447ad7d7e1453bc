"""What a turn reads from the database to acknowledge a message and to deliver the finished reply: under load every
read is a wait, so the socket reads nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from knowledge_graph import selectors as kg_selectors
from knowledge_graph.bkt import DEFAULT_PARAMS
from knowledge_graph.models import Evidence, Skill, SkillParameters, SkillState
from pedagogy.realize import deliver
from tests.integration.conftest import World
from tutor import consumers, frames, tutoring
from tutor.models import Problem, Step, Turn, User

pytestmark = pytest.mark.django_db(transaction=True)


def consumer_for(user: User, world: World) -> consumers.SessionConsumer:
    """The session's socket as it stands after connecting (what ``connect`` sets), for its database calls alone."""
    socket = consumers.SessionConsumer()
    socket.scope = {"user": user}
    socket.session = world.session
    socket.can_write = user.pk == world.session.student_id
    socket.can_correct = not socket.can_write
    return socket


def reads_of(table: str, queries: CaptureQueriesContext) -> list[str]:
    """The reads of ``table``'s rows (a read that only looks into it, in a subquery or an aggregate, is not one)."""
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'SELECT "{table}".')]


def reply_to(world: World, message: str) -> Turn:
    planned = consumers.plan_reply.__wrapped__(world.session.pk, message)  # type: ignore[attr-defined]
    delivery = deliver(None, planned.plan, planned.context, previous=planned.previous)
    return tutoring.turn_complete(planned=planned, delivery=delivery, backend="template").turn


def message(text: str, client_id: str) -> frames.StudentMessage:
    frame = frames.parse_frame(f'{{"message": "{text}", "client_id": "{client_id}"}}', actions=tutoring.HELP_MESSAGES)
    assert isinstance(frame, frames.StudentMessage)
    return frame


def test_a_stored_message_is_acknowledged_without_reading_it_back(world_tx: World) -> None:
    tutoring.session_open(session=world_tx.session)
    socket = consumer_for(world_tx.student, world_tx)
    with CaptureQueriesContext(connection) as queries:
        turn, html = socket.admit_here("c-1", "is it 7?")
    assert turn is not None and f'data-seq="{turn.seq}"' in html and 'data-client-id="c-1"' in html and "You" in html
    assert reads_of("tutor_turn", queries) == []
    # A resend is looked for with the session's status and the student's recent messages, in one read.
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if s.startswith("SELECT") and "tutor_tutoringsession" in s]) == 1


def test_a_resend_is_acknowledged_with_the_turn_stored_first(world_tx: World) -> None:
    tutoring.session_open(session=world_tx.session)
    socket = consumer_for(world_tx.student, world_tx)
    first, _ = socket.admit_here("c-1", "is it 7?")
    again, html = socket.admit_here("c-1", "is it 7?")
    assert first is not None and again is None
    assert f'data-seq="{first.seq}"' in html
    assert Turn.objects.filter(session=world_tx.session, client_message_id="c-1").count() == 1


@pytest.mark.parametrize("watcher", ["student", "teacher"])
def test_a_finished_reply_is_checked_and_rendered_from_one_read_of_the_session(world_tx: World, watcher: str) -> None:
    tutoring.session_open(session=world_tx.session)
    user: Any = getattr(world_tx, watcher)
    socket = consumer_for(world_tx.student, world_tx)
    socket.admit_here("c-1", "is it 7?")
    reply = reply_to(world_tx, "is it 7?")
    socket = consumer_for(user, world_tx)
    with CaptureQueriesContext(connection) as queries:
        session = consumers._watched_now(user.pk, world_tx.session.pk)
        assert session is not None
        html = socket._render_final(session, reply.pk, "pending-2")
    assert f'id="turn-{reply.seq}"' in html and 'id="announcer"' in html
    assert len(reads_of("tutor_tutoringsession", queries)) == 1
    # The session's own student comes with the session; anyone else is read fresh, for their access now.
    assert len(reads_of("tutor_user", queries)) == (0 if watcher == "student" else 1)


def test_a_deactivated_student_may_no_longer_watch_their_session(world_tx: World) -> None:
    User.objects.filter(pk=world_tx.student.pk).update(is_active=False)
    assert consumers._watched_now(world_tx.student.pk, world_tx.session.pk) is None
    assert consumers._watched_now(world_tx.other_student.pk, world_tx.session.pk) is None
    assert consumers._watched_now(world_tx.teacher.pk, world_tx.session.pk) is not None


def test_the_panels_rows_are_the_knowledge_graphs_figures(world_tx: World) -> None:
    """The finished reply's panel reads its rows in one written-out query: the same skills, figures and order as the
    knowledge graph's own reading (the learner's state, else the fitted prior, else the default)."""
    tutoring.session_open(session=world_tx.session)
    socket = consumer_for(world_tx.student, world_tx)
    socket.admit_here("c-1", "is it 7?")
    reply = reply_to(world_tx, "is it 7?")
    # Beside the problem's own skills: one with a fitted prior only, one with neither (the default prior), named to
    # sort among them; and the learner's own state for one of the problem's.
    fitted = Skill.objects.create(code="zz-fitted", name="A fitted skill")
    SkillParameters.objects.create(skill=fitted, prior=0.625, learn=0.2, slip=0.1, guess=0.2)
    own = world_tx.problem.skills.first() or Skill.objects.filter(steps__problem=world_tx.problem).first()
    assert own is not None
    SkillState.objects.update_or_create(learner=world_tx.student, skill=own, defaults={"mastery": 0.8125})
    world_tx.problem.skills.add(fitted, Skill.objects.create(code="aa-new", name="A new skill"))
    problem_id = world_tx.problem.pk
    skills = Skill.objects.filter(
        Q(pk__in=Step.skills.through.objects.filter(step__problem_id=problem_id).values("skill_id"))
        | Q(pk__in=Problem.skills.through.objects.filter(problem_id=problem_id).values("skill_id"))
    )
    assert skills.count() >= 3
    before = {m.code: m.mastery - 0.25 for m in kg_selectors.skill_mastery(learner=world_tx.student, skills=skills)}
    expected = sorted(
        (
            tutoring.MasteryRow(m.code, m.name, m.mastery, before.get(m.code))
            for m in kg_selectors.skill_mastery(learner=world_tx.student, skills=skills)
        ),
        key=lambda r: r.name,
    )
    assert {r.mastery for r in expected} >= {0.625, 0.8125, DEFAULT_PARAMS.prior}
    assert tutoring.mastery_rows(world_tx.session, before) == expected
    by_orm: dict[str, float] = {}
    for code, value in (
        Evidence.objects.filter(turn_id=reply.pk, kind=Evidence.Kind.OBSERVATION)
        .order_by("id")
        .values_list("skill__code", "before")
    ):
        by_orm.setdefault(code, value)
    assert tutoring.mastery_before(reply) == (by_orm or None)
