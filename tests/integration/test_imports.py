"""Importers on the real data sets (read from ../shared/data by path), the import command, and the store's guarantees:
all or nothing, no duplicates on re-import, versions for problems that sessions use."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from knowledge_graph.models import PrerequisiteEdge, Skill
from tutor.content.jobs import import_path
from tutor.content.schema import json_schema_text
from tutor.demo import demo_content_files
from tutor.models import Hint, Problem, ProblemSet, Step, TutoringSession, User

pytestmark = pytest.mark.django_db

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sample(shared_data: Path) -> Path:
    return shared_data / "oatutor" / "content-pool-sample"


def sample_zip(sample: Path, skill_model: Path, target: Path) -> Path:
    """The sample in OATutor's repository layout: ``content-pool/<id>/...`` with ``skillModel.json`` beside it."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(sample.rglob("*")):
            if path.is_file():
                zf.write(path, f"content-pool/{path.relative_to(sample)}")
        zf.write(skill_model, "skillModel.json")
    return target


def rows() -> tuple[int, ...]:
    return (ProblemSet.objects.count(), Problem.objects.count(), Step.objects.count(), Hint.objects.count())


# --- OATutor -------------------------------------------------------------------------------------------------------


def test_the_oatutor_sample_folder_imports_every_problem_with_steps_hints_scaffolds_and_skills(sample: Path) -> None:
    outcome = import_path(path=sample, fmt="oatutor")
    assert outcome.ok, outcome.report.errors[:5]
    problem_set = ProblemSet.objects.get(slug="oatutor-content-pool-sample")
    problem_dirs = [d for d in sample.iterdir() if (d / f"{d.name}.json").is_file()]
    problems = Problem.objects.filter(problem_set=problem_set)
    assert problems.count() == len(problem_dirs) == outcome.summary.problems_created  # type: ignore[union-attr]
    step_files = list(sample.glob("*/steps/*/*.json"))
    assert Step.objects.filter(problem__problem_set=problem_set).count() == len(step_files)
    assert all(p.steps.exists() for p in problems)
    scaffolds = Hint.objects.filter(step__problem__problem_set=problem_set, kind=Hint.Kind.SCAFFOLD)
    assert scaffolds.exists() and not scaffolds.filter(answer="").exists()
    assert Skill.objects.filter(source="oatutor", steps__problem__problem_set=problem_set).exists()
    assert not Step.objects.filter(problem__problem_set=problem_set, skills=None).exists()

    # A multiple-choice step: the checker's letter for the authored answer, the choices as written.
    step_json = json.loads((sample / "a005bd5real1/steps/a005bd5real1a/a005bd5real1a.json").read_text())
    step = Step.objects.get(problem__slug="a005bd5real1")
    assert step.answer_type == "multiple_choice"
    assert step.choices[ord(step.answer) - ord("A")] == step_json["stepAnswer"][0]
    # OATutor's $$...$$ math is kept.
    assert Problem.objects.filter(problem_set=problem_set, text__contains="$$").exists()


def test_hints_follow_the_pathway_dependency_order_and_a_repeated_hint_is_reported(sample: Path) -> None:
    outcome = import_path(path=sample, fmt="oatutor")
    pathway = json.loads(
        (sample / "a005bd5real10/steps/a005bd5real10a/tutoring/a005bd5real10aDefaultPathway.json").read_text()
    )
    distinct = list({item["id"]: item for item in pathway}.values())
    stored = list(Hint.objects.filter(step__problem__slug="a005bd5real10").order_by("position"))
    assert [h.text for h in stored] == [item["text"] for item in distinct]
    duplicates = [w for w in outcome.report.warnings if w.code == "duplicate"]
    assert any("a005bd5real10aDefaultPathway.json" in w.location for w in duplicates)


def test_the_sample_as_a_zip_imports_the_same_problems(sample: Path, shared_data: Path, tmp_path: Path) -> None:
    archive = sample_zip(sample, shared_data / "oatutor" / "skillModel.json", tmp_path / "content-pool-sample.zip")
    outcome = import_path(path=archive, fmt="oatutor", source=archive.name)
    assert outcome.ok, outcome.report.errors[:5]
    assert outcome.summary is not None and outcome.summary.problems_created == 60
    assert Skill.objects.filter(steps__problem__problem_set=outcome.summary.problem_set).exists()
    assert not any(tmp_path.glob("content-pool"))  # extracted into a temporary folder, removed afterwards


def test_importing_the_same_set_again_duplicates_nothing(sample: Path) -> None:
    import_path(path=sample, fmt="oatutor")
    before = (*rows(), Skill.objects.count(), PrerequisiteEdge.objects.count())
    again = import_path(path=sample, fmt="oatutor")
    assert again.summary is not None and again.summary.problems_unchanged == again.summary.problems
    assert (*rows(), Skill.objects.count(), PrerequisiteEdge.objects.count()) == before


def test_a_changed_problem_that_a_session_uses_is_versioned(sample: Path, tmp_path: Path) -> None:
    pool = tmp_path / "content-pool-sample"
    shutil.copytree(sample, pool)
    import_path(path=pool, fmt="oatutor", set_name="Algebra sample")
    used = Problem.objects.get(slug="a012999exa1", is_current=True)
    unused = Problem.objects.get(slug="a012999exa2", is_current=True)
    student = User.objects.create_user(username="s-import", password="x-long-password-1", role=User.Role.STUDENT)
    session = TutoringSession.objects.create(student=student, problem=used)
    for pid in ("a012999exa1", "a012999exa2"):
        problem_file = pool / pid / f"{pid}.json"
        data = json.loads(problem_file.read_text())
        data["title"] += " (revised)"
        problem_file.write_text(json.dumps(data))

    summary = import_path(path=pool, fmt="oatutor", set_name="Algebra sample").summary
    assert summary is not None
    assert (summary.problems_versioned, summary.problems_updated) == (1, 1)
    used.refresh_from_db()
    assert used.is_current is False and "(revised)" not in used.title
    new = Problem.objects.get(slug="a012999exa1", is_current=True)
    assert new.version == used.version + 1 and new.title.endswith("(revised)")
    assert Problem.objects.filter(slug="a012999exa2").count() == 1
    assert Problem.objects.get(slug="a012999exa2").pk != unused.pk
    session.refresh_from_db()
    assert session.problem_id == used.pk


def test_a_slice_of_the_oatutor_jsonl_imports_with_checkable_answers(shared_data: Path) -> None:
    path = shared_data / "oatutor" / "oatutor_problems.jsonl"
    outcome = import_path(path=path, limit=400, source=path.name)
    assert outcome.ok and outcome.report.format == "oatutor"
    assert Problem.objects.count() == 400
    report = outcome.report
    share = report.checkable_share("step")
    assert share is not None and share >= 0.95
    kept = [w for w in report.warnings if w.code == "answer-kept-as-text"]
    assert len([w for w in kept if w.field.endswith("stepAnswer")]) == (
        report.math_answers["step"] - report.math_checkable["step"]
    )
    with path.open(encoding="utf-8") as fh:
        lines = list(itertools.islice(fh, 400))
    for issue in kept:
        line = int(issue.location.rsplit(":", 1)[1])
        record = json.loads(lines[line - 1])
        assert issue.field.startswith("steps[")
        text_answers = Step.objects.filter(problem__slug=record["id"].lower(), answer_type="text")
        assert text_answers.exists() or "hintAnswer" in issue.field


# --- GSM8K ---------------------------------------------------------------------------------------------------------


def test_gsm8k_train_steps_come_from_the_calculator_annotations(shared_data: Path) -> None:
    path = shared_data / "gsm8k" / "train.jsonl"
    outcome = import_path(path=path, limit=200)
    assert outcome.ok, outcome.report.errors[:5]
    assert outcome.report.format == "gsm8k" and Problem.objects.count() == 200
    first = json.loads(path.read_text().splitlines()[0])
    problem = Problem.objects.get(slug="train-1")
    assert problem.answer == first["answer"].rsplit("####", 1)[1].strip()
    annotated = re.findall(r"<<[^<>=]*=([^<>]*)>>", first["answer"])
    assert annotated and [s.answer for s in problem.steps.order_by("position")] == annotated
    assert outcome.report.checkable_share("step") == 1.0


def test_the_gsm8k_socratic_variant_asks_its_sub_questions(shared_data: Path) -> None:
    path = shared_data / "gsm8k" / "test_socratic.jsonl"
    outcome = import_path(path=path, fmt="gsm8k", limit=50)
    assert outcome.ok
    first = json.loads(path.read_text().splitlines()[0])
    questions = [line.split(" ** ")[0] for line in first["answer"].splitlines() if " ** " in line]
    prompts = [s.prompt for s in Problem.objects.get(slug="test_socratic-1").steps.order_by("position")]
    assert prompts and set(prompts) <= set(questions)


def test_a_wrong_gsm8k_calculation_is_left_out_and_reported_on_its_line(tmp_path: Path) -> None:
    good = {
        "question": "Natalia sold clips to 48 friends in April and half as many in May. How many in all?",
        "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nShe sold 48+24 = <<48+24=72>>72 clips.\n#### 72",
    }
    wrong = {
        "question": "Matthew cooks 4 hot dogs for his sisters, 4 for himself and 6 for his friend. How many in all?",
        "answer": "Matthew cooks 4 + 4 = <<4+4=8>>8 hot dogs for the family.\n"
        "He needs to cook 4+4+6 = <<4+4+6=18>>18 hot dogs\n#### 18",
    }
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (good, wrong)))
    outcome = import_path(path=path, fmt="gsm8k")
    assert outcome.ok, outcome.report.errors[:5]
    [issue] = [i for i in outcome.report.warnings if i.code == "wrong-calculation"]
    assert issue.location == "train.jsonl:2" and issue.field == "answer"
    assert "4 + 4 + 6 = 14, not 18" in issue.reason
    steps = Problem.objects.get(slug="train-2").steps.order_by("position")
    assert [s.answer for s in steps] == ["8"]
    assert [s.prompt for s in steps] == ["How many hot dogs does Matthew cook for the family?"]


# --- native and CSV ------------------------------------------------------------------------------------------------


def test_the_native_format_imports_from_yaml_and_from_json(tmp_path: Path) -> None:
    import yaml

    source = next(p for p in demo_content_files() if "everyday" in p.name)
    as_json = tmp_path / "everyday.json"
    as_json.write_text(json.dumps(yaml.safe_load(source.read_text())))
    from_yaml = import_path(path=source)
    assert from_yaml.ok and from_yaml.report.format == "native"
    again = import_path(path=as_json)
    assert again.summary is not None and again.summary.problems_unchanged == from_yaml.summary.problems_created  # type: ignore[union-attr]


def test_a_flat_csv_becomes_problems_with_steps_hints_and_misconceptions(tmp_path: Path) -> None:
    path = tmp_path / "fractions.csv"
    path.write_text(
        "slug,title,text,answer,answer_type,step_prompt,step_answer,step_answer_type,skills,hint,scaffold,"
        "scaffold_answer,bottom_out,misconception,feedback\n"
        "half-of-8,Half of eight,What is half of $8$?,4,number,What is 8 divided by 2?,4,number,arith.divide,"
        "Halving splits into two equal parts.,What is 2 times 4?,8,8 / 2 = 4,16,That doubles it.\n"
        "pizza,Pizza,Add $\\frac{1}{4}$ and $\\frac{1}{4}$.,1/2,expression,How many quarters in all?,2,number,"
        "frac.add,,,,Two quarters.,,\n"
        "pizza,,,,,Write it as a fraction in lowest terms.,\\frac{1}{2},expression,frac.add,,,,It is 1/2.,,\n"
    )
    outcome = import_path(path=path)
    assert outcome.ok, outcome.report.errors
    pizza = Problem.objects.get(slug="pizza")
    assert [s.answer_type for s in pizza.steps.order_by("position")] == ["number", "expression"]
    half = Step.objects.get(problem__slug="half-of-8")
    assert [h.kind for h in half.hints.order_by("position")] == ["hint", "scaffold", "bottom_out"]
    assert half.misconceptions.get().wrong == "16"
    assert Skill.objects.filter(code="frac.add").exists()


def test_the_committed_json_schema_is_up_to_date() -> None:
    committed = (REPO_ROOT / "docs" / "native-format.schema.json").read_text()
    assert committed == json_schema_text(), "run: python -m tutor.content.schema > docs/native-format.schema.json"


# --- the command ---------------------------------------------------------------------------------------------------


def test_the_command_prints_a_summary_line(sample: Path) -> None:
    out = StringIO()
    call_command("import_problems", str(sample), "--format", "oatutor", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    problems = Problem.objects.count()
    assert f"{problems} new" in last
    for word in ("steps", "hints", "scaffolds", "skills", "warnings"):
        assert word in last
    assert f"{Step.objects.count()} steps" in last


def test_the_command_exits_non_zero_on_errors_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command line closes every connection when it ends; the test database must stay open for the checks below.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "What is 2+2?", "answer": "2+2=<<2+2=4>>4\\n#### 4"}\n{"question": "broken\n')
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "import_problems", str(bad), "--format", "gsm8k"])
    assert exit_info.value.code == 1
    assert "bad.jsonl:2" in capsys.readouterr().err
    assert rows() == (0, 0, 0, 0)


def test_the_command_refuses_an_unknown_format(sample: Path) -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("import_problems", str(sample), "--format", "moodle")
    assert rows() == (0, 0, 0, 0)


@pytest.mark.parametrize("language", ["yaml", "csv"])
def test_the_examples_in_the_format_guide_import_without_warnings(tmp_path: Path, language: str) -> None:
    guide = (REPO_ROOT / "docs" / "formats.md").read_text()
    example = re.search(rf"```{language}\n(.*?)```", guide, re.S)
    assert example is not None
    outcome = import_path(path=write_example(tmp_path / f"example.{language}", example.group(1)))
    assert outcome.ok, outcome.report.errors
    assert outcome.report.warning_count == 0, outcome.report.warnings


def write_example(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
