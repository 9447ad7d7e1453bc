"""Property-based fuzzing of every importer through the upload path (an ImportJob run as the Celery task runs it).

Whatever the input, an import either succeeds or fails with clear errors; it never stops on an unexpected
exception, its report can always be stored, and a failed import writes nothing. Inputs are real records from the
shared data sets (GSM8K, the OATutor sample and jsonl, and native and CSV sets made from them), mutated in their
structure (values replaced, removed, repeated, retyped) and in their bytes, plus arbitrary bytes under every name.

Each example runs in a savepoint that is rolled back, so examples do not see each other's problem sets.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from knowledge_graph.models import PrerequisiteEdge, Skill
from tests.conftest import SHARED_DATA
from tutor.content.importers import read_content
from tutor.content.jobs import import_job_run
from tutor.models import Hint, ImportJob, Misconception, Problem, ProblemSet, Step

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=100,
    deadline=None,  # a shared CI machine has slow moments; a hang still fails the run's own timeout
    database=None,  # no example database in the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
OATUTOR = SHARED_DATA / "oatutor"
GSM8K = SHARED_DATA / "gsm8k"

# --- seeds: real records, read by path -------------------------------------------------------------------------------


def _first_lines(path: Path, count: int) -> list[str]:
    lines: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                lines.append(line)
            if len(lines) >= count:
                break
    return lines


@functools.cache
def seeds() -> dict[str, Any]:
    """Small real records of every format, read once when a test first asks; the data sets are never copied into
    the repository."""
    gsm8k = [
        json.loads(line) for path in ("test.jsonl", "test_socratic.jsonl") for line in _first_lines(GSM8K / path, 8)
    ]
    oatutor = [json.loads(line) for line in _first_lines(OATUTOR / "oatutor_problems.jsonl", 40)]
    oatutor = [record for record in oatutor if len(json.dumps(record)) < 6_000][:12]
    pool = OATUTOR / "content-pool-sample"
    folders = sorted(p for p in pool.iterdir() if p.is_dir())[:12]
    skill_model = json.loads((OATUTOR / "skillModel.json").read_text(encoding="utf-8"))
    native = read_content(pool, fmt="oatutor", limit=3, boundary=OATUTOR).doc
    assert native is not None
    return {
        "gsm8k": gsm8k,
        "oatutor": oatutor,
        "folders": [
            {str(f.relative_to(folder.parent)): f.read_bytes() for f in sorted(folder.rglob("*.json")) if f.is_file()}
            for folder in folders
        ],
        "skill_model": skill_model,
        "native": native.model_dump(mode="json"),
    }


@pytest.fixture(autouse=True)
def _needs_the_shared_data(shared_data: Path) -> None:
    """Fails in CI (skips locally) when the real data sets are missing."""


# --- mutations -------------------------------------------------------------------------------------------------------

# Text that has tripped importers or the database: NUL, surrogates, markers the formats give meaning to, huge numbers.
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\u2028",
        "\r\n",
        "####",
        "#### 12",
        "<<2*3=6>>",
        "<<1/0=>>",
        "@{x}",
        "##figure1.gif##",
        "$$\\frac{1}{0}$$",
        "9**9**9**9",
        "10^10^10",
        "1e999999",
        "\\sqrt{-1}",
        "x = = 2",
        "=",
        "A",
        "π",
        "½",
        "—",
        "é" * 300,
        "7" * 600,
        "x" * 5000,
        "a;b;;c",
        '"',
        "&anchor",
        "*alias",
        "!!python/object/apply:os.system ['true']",
    ]
)
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=40))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
NASTY_BYTES = st.sampled_from(
    [
        *(b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xc3", b"\n", b"\r", b'"', b"'", b",", b"{", b"}", b"[", b"]", b":"),
        *(
            b"- ",
            b"&a ",
            b"*a",
            b"!!binary ",
            b"\t",
            b"\\",
            b"\\u0000",
            b"\\ud800",
            b"####",
            b"<<",
            b">>",
            b"PK\x03\x04",
        ),
    ]
)


# Names a zip can hold (no NUL, no surrogates); the archive checks decide which are acceptable.
MEMBER_NAMES = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=12
)


def _slots(value: Any, limit: int = 400) -> Iterator[tuple[Any, Any]]:
    """(container, key or index) of every value inside ``value``, breadth first, at most ``limit``."""
    queue = [value]
    count = 0
    while queue:
        container = queue.pop(0)
        keys: list[Any] = list(container) if isinstance(container, dict) else list(range(len(container)))
        for key in keys:
            yield container, key
            count += 1
            if count >= limit:
                return
            child = container[key]
            if isinstance(child, dict | list):
                queue.append(child)


def mutate_structure(data: st.DataObject, value: Any, *, max_rounds: int = 3) -> Any:
    """``value`` with a few values replaced (by arbitrary JSON or nasty text), removed, repeated or retyped."""
    value = copy.deepcopy(value)
    for _ in range(data.draw(st.integers(0, max_rounds), label="rounds")):
        slots = list(_slots(value))
        if not slots:
            break
        container, key = data.draw(st.sampled_from(slots), label="slot")
        operation = data.draw(st.sampled_from(["replace", "text", "remove", "repeat", "wrap", "add"]), label="op")
        child = container[key]
        if operation == "replace":
            container[key] = data.draw(JSON_VALUES, label="value")
        elif operation == "text":
            original = child if isinstance(child, str) else json.dumps(child)
            at = data.draw(st.integers(0, len(original)), label="at")
            container[key] = original[:at] + data.draw(TEXT, label="inserted") + original[at:]
        elif operation == "remove":
            del container[key]
        elif operation == "repeat" and isinstance(container, list):
            container.insert(key, copy.deepcopy(child))
        elif operation == "wrap":
            container[key] = [child] if data.draw(st.booleans(), label="as list") else {"value": child}
        elif isinstance(child, dict):
            child[data.draw(TEXT, label="new key")] = data.draw(JSON_VALUES, label="new value")
    return value


def mutate_bytes(data: st.DataObject, content: bytes, *, max_edits: int = 3) -> bytes:
    """``content`` with a few bytes inserted, removed or overwritten at arbitrary places."""
    buffer = bytearray(content)
    for _ in range(data.draw(st.integers(0, max_edits), label="edits")):
        at = data.draw(st.integers(0, len(buffer)), label="byte at")
        piece = data.draw(NASTY_BYTES | st.binary(min_size=1, max_size=4), label="bytes")
        operation = data.draw(st.sampled_from(["insert", "remove", "overwrite"]), label="byte op")
        if operation == "insert":
            buffer[at:at] = piece
        elif operation == "remove":
            del buffer[at : at + len(piece)]
        else:
            buffer[at : at + len(piece)] = piece
    return bytes(buffer)


def _dump_json(value: Any) -> bytes:
    """JSON as UTF-8; a value holding surrogates (which have no UTF-8 form) is written with ``\\u`` escapes."""
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")


def _dump_yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False).encode("utf-8", "surrogatepass")


# --- the property ----------------------------------------------------------------------------------------------------


def _rows() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (ProblemSet, Problem, Step, Hint, Misconception, Skill, PrerequisiteEdge)
    )


def assert_imports_or_fails_clearly(filename: str, content: bytes, fmt: str = "") -> None:
    """Run an upload job on ``content`` and check the outcome, then undo everything it wrote."""
    with transaction.atomic():
        before = _rows()
        job = ImportJob.objects.create(filename=filename, format=fmt, upload=content)
        finished = import_job_run(job_id=job.pk)
        assert finished is not None
        finished.refresh_from_db()  # what the admin's page reads: the report was stored
        report = finished.report
        # Shown by --hypothesis-show-statistics: how often mutated input still imports, and why the rest fail.
        event("imported" if finished.status == ImportJob.Status.DONE else "refused")
        if finished.status == ImportJob.Status.DONE:
            assert finished.problem_set is not None and report["error_count"] == 0
            assert Problem.objects.filter(problem_set=finished.problem_set).count() == finished.counts["problems"]
        else:
            assert finished.status == ImportJob.Status.FAILED, finished.status
            errors = report["errors"]
            assert errors and report["error_count"] >= len(errors)
            unexpected = [e for e in errors if e["code"] == "internal"]
            assert not unexpected, f"{filename} {content[:300]!r}: {unexpected}"
            assert all(e["reason"].strip() for e in errors), errors
            assert _rows() == before, "a failed import wrote rows"
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _show_internal_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """An unexpected exception is logged by the job with its traceback; pytest shows it beside the failure."""
    caplog.set_level(logging.ERROR, logger="tutor.content.jobs")
    yield


# --- one test per importer -------------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), as_yaml=st.booleans())
def test_mutated_native_sets_import_or_fail_clearly(data: st.DataObject, as_yaml: bool) -> None:
    doc = mutate_structure(data, seeds()["native"], max_rounds=4)
    try:
        content = _dump_yaml(doc) if as_yaml else _dump_json(doc)
    except yaml.YAMLError:
        content = _dump_json(doc)
        as_yaml = False
    content = mutate_bytes(data, content)
    assert_imports_or_fails_clearly("set.yaml" if as_yaml else "set.json", content)


@FUZZ
@given(data=st.data(), detect=st.booleans())
def test_mutated_oatutor_jsonl_imports_or_fails_clearly(data: st.DataObject, detect: bool) -> None:
    records = data.draw(st.lists(st.sampled_from(seeds()["oatutor"]), min_size=1, max_size=3), label="records")
    lines = [_dump_json(mutate_structure(data, record)) for record in records]
    content = mutate_bytes(data, b"\n".join(lines) + b"\n")
    assert_imports_or_fails_clearly("pool.jsonl", content, "" if detect else "oatutor")


@FUZZ
@given(data=st.data())
def test_mutated_oatutor_folders_in_a_zip_import_or_fail_clearly(data: st.DataObject) -> None:
    folders = data.draw(st.lists(st.sampled_from(seeds()["folders"]), min_size=1, max_size=3), label="folders")
    members: dict[str, bytes] = {}
    for folder in folders:
        members.update(folder)
    step_ids = {Path(name).stem for name in members if "/steps/" in name and "/tutoring/" not in name}
    skills = {step: kcs for step, kcs in seeds()["skill_model"].items() if step in step_ids}
    members["skillModel.json"] = _dump_json(mutate_structure(data, skills, max_rounds=1))
    names = sorted(members)
    for _ in range(data.draw(st.integers(0, 2), label="files changed")):
        name = data.draw(st.sampled_from(names), label="file")
        original = members[name]
        if data.draw(st.booleans(), label="structure"):
            try:
                members[name] = _dump_json(mutate_structure(data, json.loads(original)))
            except ValueError:
                members[name] = mutate_bytes(data, original)
        else:
            members[name] = mutate_bytes(data, original)
    extra = data.draw(st.sampled_from(["", "rename", "clash", "junk"]), label="archive change")
    if extra == "rename":
        old = data.draw(st.sampled_from(names), label="renamed")
        members[data.draw(MEMBER_NAMES, label="new name")] = members.pop(old)
    elif extra == "clash":
        members[data.draw(st.sampled_from(names), label="clash") + "/x.json"] = b"{}"
    elif extra == "junk":
        members["__MACOSX/._x.json"] = b"\x00\x05\x16\x07"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    assert_imports_or_fails_clearly("pool.zip", buffer.getvalue(), data.draw(st.sampled_from(["", "oatutor"])))


@FUZZ
@given(data=st.data())
def test_mutated_gsm8k_records_import_or_fail_clearly(data: st.DataObject) -> None:
    records = data.draw(st.lists(st.sampled_from(seeds()["gsm8k"]), min_size=1, max_size=3), label="records")
    lines = []
    for record in records:
        record = dict(record)
        answer_lines = record["answer"].split("\n")
        # Edit the worked solution line by line, where the calculator annotations and the final answer live.
        for _ in range(data.draw(st.integers(0, 2), label="line edits")):
            i = data.draw(st.integers(0, len(answer_lines) - 1), label="line")
            at = data.draw(st.integers(0, len(answer_lines[i])), label="at")
            answer_lines[i] = answer_lines[i][:at] + data.draw(TEXT, label="text") + answer_lines[i][at:]
        record["answer"] = "\n".join(answer_lines)
        lines.append(_dump_json(mutate_structure(data, record, max_rounds=1)))
    content = mutate_bytes(data, b"\n".join(lines) + b"\n")
    assert_imports_or_fails_clearly("train.jsonl", content, data.draw(st.sampled_from(["", "gsm8k"])))


CSV_COLUMNS = ["slug", "title", "text", "answer", "answer_type", "step_prompt", "step_answer", "step_answer_type"]
CSV_COLUMNS += ["skills", "hint", "scaffold", "scaffold_answer", "bottom_out", "misconception", "feedback"]


def _csv_rows(doc: dict[str, Any]) -> list[dict[str, str]]:
    """The native seed as CSV rows, one per step, as docs/formats.md lays them out."""
    rows = []
    for problem in doc["problems"]:
        for step in problem["steps"]:
            hints = {h["kind"]: h for h in step["hints"]}
            misconception = (step["misconceptions"] or [{}])[0]
            rows.append(
                {
                    "slug": problem["slug"],
                    "title": problem["title"],
                    "text": problem["text"],
                    "answer": problem["answer"],
                    "answer_type": problem["answer_type"],
                    "step_prompt": step["prompt"],
                    "step_answer": step["answer"],
                    "step_answer_type": step["answer_type"],
                    "skills": ";".join(step["skills"]),
                    "hint": hints.get("hint", {}).get("text", ""),
                    "scaffold": hints.get("scaffold", {}).get("text", ""),
                    "scaffold_answer": hints.get("scaffold", {}).get("answer") or "",
                    "bottom_out": hints.get("bottom_out", {}).get("text", ""),
                    "misconception": misconception.get("wrong", ""),
                    "feedback": misconception.get("feedback", ""),
                }
            )
    return rows


@FUZZ
@given(data=st.data())
def test_mutated_csv_sets_import_or_fail_clearly(data: st.DataObject) -> None:
    rows = [dict(row) for row in _csv_rows(seeds()["native"])]
    columns = list(CSV_COLUMNS)
    for _ in range(data.draw(st.integers(0, 4), label="cell edits")):
        row = data.draw(st.sampled_from(rows), label="row")
        column = data.draw(st.sampled_from(columns), label="column")
        row[column] = data.draw(TEXT, label="cell")
    change = data.draw(st.sampled_from(["", "drop column", "add column", "repeat row", "drop row"]), label="change")
    if change == "drop column":
        columns.remove(data.draw(st.sampled_from(columns), label="dropped"))
    elif change == "add column":
        columns.append(data.draw(TEXT, label="added"))
    elif change == "repeat row":
        rows.append(dict(data.draw(st.sampled_from(rows), label="repeated")))
    elif change == "drop row" and len(rows) > 1:
        rows.remove(data.draw(st.sampled_from(rows), label="dropped row"))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", restval="")
    writer.writeheader()
    writer.writerows(rows)
    content = mutate_bytes(data, out.getvalue().encode("utf-8", "surrogatepass"))
    assert_imports_or_fails_clearly("set.csv", content, data.draw(st.sampled_from(["", "csv"])))


@FUZZ
@given(
    content=st.binary(max_size=600) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    filename=st.sampled_from(["set.yaml", "set.yml", "set.json", "set.csv", "train.jsonl", "pool.zip", "notes.txt"]),
    fmt=st.sampled_from(["", "native", "csv", "oatutor", "gsm8k"]),
)
def test_arbitrary_bytes_under_any_name_and_format_fail_clearly(content: bytes, filename: str, fmt: str) -> None:
    assert_imports_or_fails_clearly(filename, content, fmt)
