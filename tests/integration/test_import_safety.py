"""Bad input of every kind gets a clear error naming where it is, and an import with any error writes nothing."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest

from knowledge_graph import services as kg_services
from knowledge_graph.models import PrerequisiteEdge, Skill
from tutor.content import safety
from tutor.content.jobs import ImportOutcome, import_path
from tutor.models import Hint, Problem, ProblemSet, Step

pytestmark = pytest.mark.django_db

NATIVE = """format: tutor-native/1
set: {slug: tiny, title: Tiny}
skills: [{code: arith.add, name: Addition}]
problems:
  - slug: one
    title: One plus one
    text: What is 1 + 1?
    answer: "2"
    steps:
      - {prompt: "What is 1 + 1?", answer: "2", skills: [arith.add]}
"""
OATUTOR_LINE = {
    "id": "p1",
    "title": "Add",
    "body": "Add $$1+1$$.",
    "steps": [
        {
            "id": "p1a",
            "stepTitle": "What is $$1+1$$?",
            "stepBody": "",
            "stepAnswer": ["$$2$$"],
            "problemType": "TextBox",
            "answerType": "arithmetic",
            "knowledge_components": ["addition"],
            "tutoring_pathways": {
                "DefaultPathway": [{"id": "h1", "type": "hint", "dependencies": [], "text": "Count."}]
            },
        }
    ],
}


def nothing_written() -> bool:
    return not (
        ProblemSet.objects.exists()
        or Problem.objects.exists()
        or Step.objects.exists()
        or Hint.objects.exists()
        or Skill.objects.exists()
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def failed(outcome: ImportOutcome, *fragments: str) -> str:
    """The report's errors as text, after checking the import failed and mentions each fragment."""
    assert not outcome.ok
    text = "\n".join(issue.text() for issue in outcome.report.errors)
    for fragment in fragments:
        assert fragment in text, text
    assert nothing_written()
    return text


# --- malformed input ------------------------------------------------------------------------------------------------


def test_malformed_json_is_reported_with_its_position(tmp_path: Path) -> None:
    failed(import_path(path=write(tmp_path / "set.json", '{"format": "tutor-native/1", "set": ')), "not valid JSON")


def test_malformed_yaml_is_reported(tmp_path: Path) -> None:
    failed(import_path(path=write(tmp_path / "set.yaml", "format: [unclosed\n")), "not valid YAML")


def test_a_csv_row_with_extra_values_is_reported_by_line(tmp_path: Path) -> None:
    text = "slug,title,text,answer,step_prompt,step_answer\na,A,T,1,P,1\nb,B,T,2,P,2,surplus\n"
    failed(import_path(path=write(tmp_path / "set.csv", text)), "set.csv:3", "more values than columns")


def test_a_csv_without_a_required_column_is_refused(tmp_path: Path) -> None:
    failed(import_path(path=write(tmp_path / "set.csv", "slug,title,text\na,A,T\n")), "missing columns")


def test_a_broken_jsonl_line_among_good_ones_stops_the_whole_import(tmp_path: Path) -> None:
    good = json.dumps(OATUTOR_LINE)
    path = write(tmp_path / "pool.jsonl", f"{good}\n{{not json\n{good.replace('p1', 'p2')}\n")
    failed(import_path(path=path, fmt="oatutor"), "pool.jsonl:2", "not valid JSON")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_bytes(NATIVE.encode("utf-16"))
    failed(import_path(path=path), "not UTF-8")


# --- wrong types and missing fields -------------------------------------------------------------------------------


def test_wrong_types_in_a_native_file_name_the_field(tmp_path: Path) -> None:
    text = NATIVE.replace('answer: "2"\n    steps', "answer: [2]\n    steps")
    failed(import_path(path=write(tmp_path / "set.yaml", text)), "problems.0.answer")


def test_a_missing_field_in_a_native_file_names_the_field(tmp_path: Path) -> None:
    text = NATIVE.replace("    text: What is 1 + 1?\n", "")
    failed(import_path(path=write(tmp_path / "set.yaml", text)), "problems.0.text", "is required")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["steps"][0].pop("stepAnswer"), "steps[0].stepAnswer: must be a list holding the answer"),
        (lambda p: p["steps"][0].update(stepAnswer=[{"x": 1}]), "steps[0].stepAnswer[0]: must be text, not dict"),
        (lambda p: p["steps"][0].update(problemType="DragAndDrop"), "steps[0].problemType"),
        (lambda p: p.update(steps=[]), "steps: a problem needs a list of steps"),
        (lambda p: p.update(title=7), "title: must be text, not int"),
    ],
    ids=["missing answer", "answer of the wrong type", "unknown problem type", "no steps", "title not text"],
)
def test_bad_oatutor_records_are_reported_by_line_and_field(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    record = json.loads(json.dumps(OATUTOR_LINE))
    change(record)
    path = write(tmp_path / "pool.jsonl", json.dumps(OATUTOR_LINE).replace('"p1', '"p0') + "\n" + json.dumps(record))
    failed(import_path(path=path, fmt="oatutor"), f"pool.jsonl:2: {expected}")


def test_a_missing_file_in_an_oatutor_folder_is_reported(shared_data: Path, tmp_path: Path) -> None:
    import shutil

    pool = tmp_path / "pool"
    shutil.copytree(shared_data / "oatutor" / "content-pool-sample" / "a005bd5real1", pool / "a005bd5real1")
    (pool / "a005bd5real1" / "steps" / "a005bd5real1a" / "a005bd5real1a.json").unlink()
    failed(import_path(path=pool, fmt="oatutor"), "a005bd5real1a.json is missing")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"question": "How many?"}, "train.jsonl:1: answer: is missing"),
        ({"question": "How many?", "answer": "Two apples."}, "has no final answer after '####'"),
        ({"question": 3, "answer": "#### 3"}, "question: must be non-empty text"),
        ({"question": "How many?", "answer": "#### lots"}, "is not a number"),
    ],
    ids=["missing answer", "no final answer", "question not text", "final answer not a number"],
)
def test_bad_gsm8k_records_are_reported(tmp_path: Path, record: dict[str, object], expected: str) -> None:
    failed(import_path(path=write(tmp_path / "train.jsonl", json.dumps(record) + "\n"), fmt="gsm8k"), expected)


# --- sizes, archives, aliases, formats ------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_FILE_BYTES", 100)
    failed(import_path(path=write(tmp_path / "set.yaml", NATIVE)), "the limit is 100")


def test_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pool/p1/p1.json", b"0" * (8 * safety.MIB))
    failed(import_path(path=archive), "expands more than")
    assert not (tmp_path / "pool").exists()


def test_an_archive_expanding_beyond_the_total_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safety, "MAX_ARCHIVE_BYTES", 1000)
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3):
            zf.writestr(f"pool/p{i}/p{i}.json", json.dumps(OATUTOR_LINE) * 3)
    failed(import_path(path=archive), "the limit is 1,000")


def test_an_archive_with_too_many_files_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "MAX_ARCHIVE_MEMBERS", 5)
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(6):
            zf.writestr(f"p{i}/p{i}.json", "{}")
    failed(import_path(path=archive), "6 members; the limit is 5")


@pytest.mark.parametrize("name", ["../escape.json", "/tmp/absolute.json", "pool/../../escape.json", "C:/x.json"])
def test_paths_escaping_the_archive_are_refused(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "sneaky.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("p1/p1.json", json.dumps(OATUTOR_LINE))
        zf.writestr(name, "{}")
    failed(import_path(path=archive), "path leaves the archive's folder")
    assert not (tmp_path.parent / "escape.json").exists()


def test_symbolic_links_in_an_archive_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("p1/p1.json")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    failed(import_path(path=archive), "symbolic links")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pool.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    failed(import_path(path=path), "not a valid zip archive")


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    failed(import_path(path=write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")), "aliases repeated too often")


def test_yaml_tags_that_build_python_objects_are_refused(tmp_path: Path) -> None:
    text = NATIVE.replace("title: Tiny", "title: !!python/object/apply:os.system ['true']")
    failed(import_path(path=write(tmp_path / "set.yaml", text)), "not valid YAML")


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    failed(import_path(path=write(tmp_path / "set.yaml", NATIVE), fmt="moodle"), "unknown format 'moodle'")


def test_a_file_whose_format_cannot_be_told_is_refused(tmp_path: Path) -> None:
    failed(import_path(path=write(tmp_path / "notes.txt", "hello")), "cannot tell the format")


def test_choosing_the_wrong_format_says_what_the_file_looks_like(tmp_path: Path) -> None:
    path = write(tmp_path / "pool.jsonl", json.dumps(OATUTOR_LINE) + "\n")
    failed(import_path(path=path, fmt="gsm8k"), "looks like OATutor")


# --- all or nothing ------------------------------------------------------------------------------------------------


def test_an_edge_that_would_close_a_cycle_in_the_skill_graph_writes_nothing(tmp_path: Path) -> None:
    kg_services.skill_upsert(code="arith.add", name="Addition")
    kg_services.skill_upsert(code="arith.multiply", name="Multiplication")
    kg_services.prerequisites_add(pairs=[("arith.add", "arith.multiply")])
    text = NATIVE.replace(
        "skills: [{code: arith.add, name: Addition}]",
        "skills: [{code: arith.add, name: Addition, prerequisites: [arith.multiply]}, "
        "{code: arith.multiply, name: Multiplication}, {code: arith.new, name: New}]",
    )
    outcome = import_path(path=write(tmp_path / "set.yaml", text))
    assert not outcome.ok and "cycle" in outcome.report.errors[0].reason
    assert not ProblemSet.objects.exists() and not Problem.objects.exists()
    assert not Skill.objects.filter(code="arith.new").exists()
    assert PrerequisiteEdge.objects.count() == 1
