from __future__ import annotations

import pytest

from knowledge_graph import services as kg_services
from knowledge_graph.models import PrerequisiteEdge, Skill
from tutor import services
from tutor.content.native import ContentError, parse_native
from tutor.content.store import problem_set_import
from tutor.demo import demo_content_files
from tutor.models import AppendOnlyError, Hint, Problem, ProblemSet, Step, Turn

from .conftest import World

pytestmark = pytest.mark.django_db


def test_the_demo_content_has_a_dozen_problems_each_with_steps_hints_and_misconceptions(demo: None) -> None:
    problems = Problem.objects.filter(is_current=True)
    assert 10 <= problems.count() <= 15
    for problem in problems:
        steps = list(problem.steps.all())
        assert steps, problem.slug
        assert problem.skills.exists(), problem.slug
        assert all(step.hints.exists() for step in steps), problem.slug
        assert any(step.misconceptions.exists() for step in steps), problem.slug
    assert Hint.objects.filter(kind=Hint.Kind.SCAFFOLD).exclude(answer="").exists()
    assert PrerequisiteEdge.objects.filter(prerequisite__code="arith.multiply", skill__code="arith.divide").exists()


def test_loading_the_demo_twice_duplicates_nothing(demo: None) -> None:
    counts = (Problem.objects.count(), Step.objects.count(), Hint.objects.count(), Skill.objects.count())
    from tutor.demo import demo_load

    demo_load()
    assert (
        Problem.objects.count(),
        Step.objects.count(),
        Hint.objects.count(),
        Skill.objects.count(),
    ) == counts


def test_a_changed_problem_in_use_is_versioned_not_edited(world: World) -> None:
    path = next(p for p in demo_content_files() if "everyday" in p.name)
    changed = path.read_text().replace("Maya bakes **4 trays**", "Maya bakes **four trays**")
    summary = problem_set_import(parse_native(changed, source=path.name))
    assert summary.problems_versioned == 1
    old = Problem.objects.get(pk=world.problem.pk)
    assert old.is_current is False and "**4 trays**" in old.text
    new = Problem.objects.get(problem_set=world.problem_set, slug="muffin-trays", is_current=True)
    assert new.version == 2 and "four trays" in new.text
    world.session.refresh_from_db()
    assert world.session.problem_id == old.pk


def test_a_bad_native_file_names_every_problem_and_writes_nothing(db: None) -> None:
    text = """
format: tutor-native/1
set: {slug: broken, title: Broken}
skills: [{code: a, name: A, prerequisites: [missing]}]
problems:
  - {slug: p1, title: P, text: T, answer: "1", steps: []}
"""
    with pytest.raises(ContentError) as excinfo:
        parse_native(text, source="broken.yaml")
    message = str(excinfo.value)
    assert "problems.0.steps" in message
    assert not ProblemSet.objects.exists()


def test_malformed_yaml_is_a_clear_error(db: None) -> None:
    with pytest.raises(ContentError, match="not valid YAML"):
        parse_native("format: [unclosed", source="x.yaml")


def test_an_edge_that_closes_a_cycle_is_refused_naming_the_cycle(demo: None) -> None:
    before = PrerequisiteEdge.objects.count()
    with pytest.raises(kg_services.SkillGraphError, match=r"arith\.divide -> .*arith\.add"):
        kg_services.prerequisites_add(pairs=[("arith.divide", "arith.add")])
    assert PrerequisiteEdge.objects.count() == before


def test_turns_are_numbered_in_order_and_a_resent_message_is_stored_once(world: World) -> None:
    first, created = services.turn_append(session=world.session, role="student", text="10", client_message_id="a")
    again, created_again = services.turn_append(session=world.session, role="student", text="10", client_message_id="a")
    second, _ = services.turn_append(session=world.session, role="tutor", text="How many trays are there?")
    assert (created, created_again, again.pk) == (True, False, first.pk)
    opening = 1  # the tutor's first question, asked when the session started
    assert [t.seq for t in Turn.objects.filter(session=world.session)] == [1, opening + 1, opening + 2]
    assert (first.seq, second.seq) == (opening + 1, opening + 2)


def test_turns_cannot_be_edited_or_deleted(world: World) -> None:
    turn, _ = services.turn_append(session=world.session, role="student", text="24")
    turn.text = "something else"
    with pytest.raises(AppendOnlyError):
        turn.save()
    with pytest.raises(AppendOnlyError):
        Turn.objects.filter(pk=turn.pk).update(text="x")
    with pytest.raises(AppendOnlyError):
        Turn.objects.filter(pk=turn.pk).delete()
    with pytest.raises(AppendOnlyError):
        turn.delete()
    assert Turn.objects.get(pk=turn.pk).text == "24"


def test_starting_a_problem_twice_resumes_the_same_session(world: World) -> None:
    again, created = services.session_start(student=world.student, problem=world.problem, assignment=world.assignment)
    assert (again.pk, created) == (world.session.pk, False)
