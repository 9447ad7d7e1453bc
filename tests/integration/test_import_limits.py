"""Inputs with a clear defect get a clear error in the import report, never "stopped unexpectedly", and write nothing:
YAML aliases that expand a small file into a huge one, NUL bytes, absurdly deep nesting, archives whose names clash,
and problem sets large enough that a slow duplicate check would run past the task's time limit."""

from __future__ import annotations

import json
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from knowledge_graph.models import Skill
from tutor.content import safety
from tutor.content.importers import read_content
from tutor.content.jobs import import_job_run, import_path
from tutor.content.schema import ProblemSetDoc
from tutor.models import Hint, ImportJob, Problem, ProblemSet, Step, User

pytestmark = pytest.mark.django_db

NATIVE = """format: tutor-native/1
set: {slug: tiny, title: Tiny}
problems:
  - slug: one
    title: One plus one
    text: What is 1 + 1?
    answer: "2"
    steps:
      - {prompt: "What is 1 + 1?", answer: "2"}
"""
GSM8K_LINE = {"question": "Ann has 3 apples and buys 4. How many now?", "answer": "3+4=<<3+4=7>>7\n#### 7"}
OATUTOR_LINE = {
    "id": "p1",
    "title": "Add",
    "body": "Add 1 and 1.",
    "steps": [{"id": "p1a", "stepTitle": "What is 1+1?", "stepAnswer": ["2"], "answerType": "arithmetic"}],
}
TINY_JSON = {
    "format": "tutor-native/1",
    "set": {"slug": "tiny", "title": "Tiny"},
    "problems": [{"slug": "a", "title": "A", "text": "T", "answer": "1", "steps": [{"prompt": "P", "answer": "1"}]}],
}
CSV_TEXT = "slug,title,text,answer,step_prompt,step_answer\na,A,What is 1+1?,2,What is 1+1?,2\n"


def nothing_written() -> bool:
    return not (
        ProblemSet.objects.exists()
        or Problem.objects.exists()
        or Step.objects.exists()
        or Hint.objects.exists()
        or Skill.objects.exists()
    )


def run_upload(filename: str, content: bytes, fmt: str = "") -> tuple[ImportJob, str]:
    """Import ``content`` as the upload page does; return the finished job and its errors as one text."""
    admin = User.objects.create_user(username="admin", password="a-long-test-password", role=User.Role.ADMIN)
    job = ImportJob.objects.create(created_by=admin, filename=filename, format=fmt, upload=content)
    finished = import_job_run(job_id=job.pk)
    assert finished is not None
    errors = "\n".join(
        ": ".join(part for part in (e["location"], e["field"], e["reason"]) if part) for e in finished.report["errors"]
    )
    return finished, errors


def assert_refused(filename: str, content: bytes, *fragments: str, fmt: str = "") -> str:
    job, errors = run_upload(filename, content, fmt)
    assert job.status == ImportJob.Status.FAILED, job.summary
    assert "unexpectedly" not in errors, errors
    for fragment in fragments:
        assert fragment in errors, errors
    assert nothing_written()
    return errors


# --- YAML aliases, measured by the text they expand to ------------------------------------------------------------


def alias_bomb(problems: int = 10) -> str:
    """A valid native file of a few kilobytes whose aliases repeat one 4,000-character hint 60 times in each of 50
    steps of every problem: 10 problems make 120 MB of hint text, yet fewer than 100,000 values."""
    long_hint = "Think about what the question asks, then try the first operation. " * 59
    hints = ", ".join([f'&h {{text: "{long_hint[:4000]}"}}', *["*h"] * 59])
    steps = ", ".join([f'&s {{prompt: "What is 1 + 1?", answer: "2", hints: [{hints}]}}', *["*s"] * 49])
    lines = [
        "format: tutor-native/1",
        "set: {slug: laughs, title: Laughs}",
        "problems:",
        f'  - {{slug: p0, title: P, text: "What?", answer: "2", steps: &steps [{steps}]}}',
        *[f'  - {{slug: p{i}, title: P, text: "What?", answer: "2", steps: *steps}}' for i in range(1, problems)],
    ]
    return "\n".join(lines) + "\n"


def test_yaml_aliases_that_expand_a_small_file_into_megabytes_of_hints_are_refused(tmp_path: Path) -> None:
    text = alias_bomb()
    assert len(text) < 5_500
    path = tmp_path / "laughs.yaml"
    path.write_text(text, encoding="utf-8")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = import_path(path=path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    errors = "\n".join(issue.text() for issue in outcome.report.errors)
    assert not outcome.ok and "aliases repeated too often" in errors and "bytes of text" in errors, errors
    assert nothing_written()
    # Refused from the parsed outline, before the 120 MB exist anywhere.
    assert peak < 30 * safety.MIB and time.perf_counter() - started < 30


def test_the_expanded_size_limit_names_the_file_in_the_upload_report() -> None:
    assert_refused("laughs.yaml", alias_bomb(problems=3).encode(), "laughs.yaml", "aliases repeated too often")


def test_a_set_that_reuses_a_step_through_an_alias_still_imports(tmp_path: Path) -> None:
    shared = (
        NATIVE.replace("      - {prompt", "      - &step {prompt")
        + '  - {slug: two, title: Two, text: "What is 1 + 1?", answer: "2", steps: [*step, *step]}\n'
    )
    path = tmp_path / "shared.yaml"
    path.write_text(shared, encoding="utf-8")
    outcome = import_path(path=path)
    assert outcome.ok, [i.text() for i in outcome.report.errors]
    assert Problem.objects.count() == 2 and Step.objects.count() == 3


# --- NUL bytes ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "fmt", "expected"),
    [
        ("set.yaml", NATIVE.replace("Tiny", "Ti\x00ny").encode(), "", "set.yaml: contains a NUL byte at line 2"),
        ("set.csv", CSV_TEXT.replace("A,", "A\x00,", 1).encode(), "", "set.csv: contains a NUL byte at line 2"),
        ("set.json", b'{"format": "tutor-native/1", "x": "\x00"}', "", "set.json: contains a NUL byte at line 1"),
        ("train.jsonl", json.dumps(GSM8K_LINE).encode() + b"\x00\n", "", "train.jsonl: contains a NUL byte at line 1"),
        ("pool.jsonl", json.dumps(OATUTOR_LINE).encode() + b"\n\x00\n", "oatutor", "contains a NUL byte at line 2"),
    ],
)
def test_a_file_with_nul_bytes_is_refused_as_not_text(filename: str, content: bytes, fmt: str, expected: str) -> None:
    errors = assert_refused(filename, content, expected, fmt=fmt)
    assert "UTF-16" in errors  # the usual cause, named so the admin knows how to fix it


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        # JSON's \u0000 escape and YAML's "\0" parse into a NUL character that PostgreSQL cannot store in text.
        (
            "set.json",
            json.dumps({**TINY_JSON, "set": {"slug": "tiny", "title": "Ti\x00ny"}}),
            "set.title: contains a NUL",
        ),
        ("set.yaml", NATIVE.replace("title: One plus one", 'title: "One\\0plus one"'), "problems.0.title"),
        ("train.jsonl", json.dumps({**GSM8K_LINE, "question": "Ann has 3 apples\x00 and buys 4."}), "NUL character"),
        ("pool.jsonl", json.dumps({**OATUTOR_LINE, "title": "A\x00dd"}), "pool.jsonl:1: title: contains a NUL"),
    ],
)
def test_an_escaped_nul_character_in_a_value_is_refused_where_it_is(filename: str, content: str, expected: str) -> None:
    assert_refused(filename, content.encode(), expected, fmt="oatutor" if filename == "pool.jsonl" else "")


def test_an_unpaired_surrogate_escape_in_json_is_refused_not_stored() -> None:
    doc = {**TINY_JSON, "set": {"slug": "tiny", "title": "Tiny \ud800"}}
    assert_refused("set.json", json.dumps(doc).encode(), "set.title", "not valid Unicode")


# --- values of the wrong shape, found by tests/integration/test_fuzz_importers.py -----------------------------------


def test_a_step_type_written_as_an_object_is_reported_where_it_is() -> None:
    step = {"id": "p1a", "stepTitle": "What is 1+1?", "stepAnswer": ["2"], "problemType": {"value": "TextBox"}}
    record = {**OATUTOR_LINE, "steps": [step]}
    assert_refused(
        "pool.jsonl",
        json.dumps(record).encode(),
        "pool.jsonl:1: steps[0].problemType: {'value': 'TextBox'} is not one of MultipleChoice, TextBox",
        fmt="oatutor",
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [("", "set.yaml: the file is empty"), ("- a\n- b\n", "set.yaml: the file is a list; a problem set is a mapping")],
)
def test_a_native_file_that_is_not_a_mapping_says_so(content: str, expected: str) -> None:
    assert_refused("set.yaml", content.encode(), expected)


# --- nesting -------------------------------------------------------------------------------------------------------


def nest(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("filename", "content", "fmt", "expected"),
    [
        ("deep.json", nest(900), "", "deep.json: nested more than 100 levels deep"),
        (
            "deep.json",
            json.dumps({"format": "tutor-native/1", "set": {"slug": "d", "title": "D"}, "x": "@"}).replace(
                '"@"', nest(900)
            ),
            "",
            "nested more than 100 levels deep",
        ),
        ("deep.yaml", f"format: tutor-native/1\nx: {nest(900)}\n", "", "deep.yaml: nested more than 100 levels deep"),
        ("deep.yaml", "x:\n" + "".join(f"{'  ' * i}- \n" for i in range(1, 200)), "", "nested more than 100 levels"),
        ("train.jsonl", json.dumps(GSM8K_LINE) + "\n" + nest(900) + "\n", "gsm8k", "train.jsonl:2: nested more"),
        ("pool.jsonl", json.dumps({**OATUTOR_LINE, "steps": "@"}).replace('"@"', nest(900)), "oatutor", "nested"),
    ],
)
def test_absurdly_deep_nesting_is_refused_with_the_limit(filename: str, content: str, fmt: str, expected: str) -> None:
    assert_refused(filename, content.encode(), expected, fmt=fmt)


def test_deep_nesting_in_an_oatutor_folder_file_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "pool.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pool/p1/p1.json", json.dumps({"id": "p1", "title": "T", "body": "B"}))
        zf.writestr("pool/p1/steps/p1a/p1a.json", nest(900))
    assert_refused("pool.zip", archive.read_bytes(), "p1a.json: nested more than 100 levels deep", fmt="oatutor")


# --- archives whose names clash -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        ("pool/a", "pool/a/a.json"),  # a file, then a folder of the same name
        ("pool/a/a.json", "pool/a"),  # the folder first
        ("pool/a/", "pool/a"),  # an explicit folder entry and a file
    ],
)
def test_an_archive_with_a_file_and_a_folder_of_the_same_name_is_refused(
    tmp_path: Path, names: tuple[str, str]
) -> None:
    archive = tmp_path / "clash.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in names:
            zf.writestr(name, "" if name.endswith("/") else json.dumps(OATUTOR_LINE))
    assert_refused("clash.zip", archive.read_bytes(), "pool/a: is both a file and a folder in the archive")


def test_an_archive_holding_the_same_name_twice_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "twice.zip"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("set.yaml", NATIVE)
        zf.writestr("set.yaml", NATIVE.replace("Tiny", "Other"))
    assert_refused("twice.zip", archive.read_bytes(), "set.yaml: appears twice in the archive")


# --- large sets: the duplicate-slug check is linear ------------------------------------------------------------------


def minimal_problems(count: int) -> list[dict[str, object]]:
    return [
        {"slug": f"p{i}", "title": "T", "text": "What?", "answer": "1", "steps": [{"prompt": "What?", "answer": "1"}]}
        for i in range(count)
    ]


def test_repeated_slugs_are_all_named_once_each(tmp_path: Path) -> None:
    problems = minimal_problems(6)
    problems[3]["slug"] = problems[5]["slug"] = "p0"
    problems[4]["slug"] = "p1"
    doc = {"format": "tutor-native/1", "set": {"slug": "s", "title": "S"}, "problems": problems}
    with pytest.raises(ValueError, match=r"problem slugs must be unique; repeated: p0, p1 \["):
        ProblemSetDoc.model_validate(doc)
    path = tmp_path / "set.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    errors = [i.text() for i in read_content(path).report.errors]
    assert errors == [
        "set.json:1: problems.3.slug: repeats the slug of problems.0",
        "set.json:1: problems.4.slug: repeats the slug of problems.1",
        "set.json:1: problems.5.slug: repeats the slug of problems.0",
    ]


def test_the_duplicate_check_of_120k_problems_finishes_well_inside_the_task_time_limit() -> None:
    """120,000 problems once took minutes in the slug check alone (each slug counted against the whole list);
    validating them all should take seconds. The bound is generous: bench/imports_scale.py measures the speed."""
    doc = {"format": "tutor-native/1", "set": {"slug": "s", "title": "S"}, "problems": minimal_problems(120_000)}
    doc["problems"][-1]["slug"] = "p7"  # type: ignore[index]
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"repeated: p7 \["):
        ProblemSetDoc.model_validate(doc)
    assert time.perf_counter() - started < 45
