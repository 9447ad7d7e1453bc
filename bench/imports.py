"""Import benchmark: whole data sets through the same code path as ``import_problems``, timed, into a fresh database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tutor .venv/bin/python -m bench.imports

1. Create a throw-away database beside the configured one (``<name>_bench_imports``; dropped at the end) and migrate
   it.
2. For each input (the full OATutor jsonl, GSM8K train by default): import it, timing reading (parse, normalize
   answers, validate) and storing separately, and counting the queries the store ran; then import it again, which
   must find every problem unchanged and write nothing new.
3. Print one line per import, the answer checkability of each input, and, with ``--unparseable FILE``, write every
   answer that was kept as text (location, field, reason) to FILE.

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("TUTOR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
    os.environ.setdefault("DEBUG", "1")  # the development secret key; nothing is served
    import django

    django.setup()


def _one(path: Path, fmt: str, limit: int | None) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from knowledge_graph.models import Skill
    from tutor.content.importers import read_content
    from tutor.content.store import problem_set_import
    from tutor.models import Hint, Problem, Step

    t0 = time.perf_counter()
    result = read_content(path, fmt=fmt, limit=limit)
    t_read = time.perf_counter() - t0
    report = result.report
    if result.doc is None:
        raise SystemExit(f"{path}: {report.error_count} errors, first: {report.errors[:3]}")
    with CaptureQueriesContext(connection) as queries:
        t1 = time.perf_counter()
        summary = problem_set_import(result.doc)
        t_store = time.perf_counter() - t1
    return {
        "input": path.name,
        "problems": summary.problems,
        "created": summary.problems_created,
        "unchanged": summary.problems_unchanged,
        "steps": summary.steps,
        "hints": summary.hints,
        "scaffolds": summary.scaffolds,
        "skills": summary.skills,
        "warnings": report.warning_count,
        "read_s": round(t_read, 2),
        "store_s": round(t_store, 2),
        "total_s": round(t_read + t_store, 2),
        "store_queries": len(queries.captured_queries),
        "rows": {
            "problems": Problem.objects.count(),
            "steps": Step.objects.count(),
            "hints": Hint.objects.count(),
            "skills": Skill.objects.count(),
        },
        "math_step_answers": report.math_answers["step"],
        "math_step_checkable": report.math_checkable["step"],
        "math_scaffold_answers": report.math_answers["scaffold"],
        "math_scaffold_checkable": report.math_checkable["scaffold"],
        "kept_as_text": [w.as_dict() for w in report.warnings if w.code == "answer-kept-as-text"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="The shared data folder.")
    parser.add_argument("--limit", type=int, help="Only the first N problems of each input (a quick run).")
    parser.add_argument("--unparseable", type=Path, help="Write the answers kept as text to this JSON file.")
    args = parser.parse_args(argv)
    inputs = [
        (args.data / "oatutor" / "oatutor_problems.jsonl", "oatutor"),
        (args.data / "gsm8k" / "train.jsonl", "gsm8k"),
    ]
    _setup_django()
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})["NAME"] = (
        str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
        if connection.vendor == "sqlite"
        else f"{db['NAME']}_bench_imports"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    rows: list[dict[str, Any]] = []
    try:
        for path, fmt in inputs:
            first = _one(path, fmt, args.limit)
            again = _one(path, fmt, args.limit)
            for label, row in (("first", first), ("again", again)):
                print(
                    f"{row['input']:<24} {label:<5} {row['problems']:>6} problems ({row['created']} new, "
                    f"{row['unchanged']} unchanged) {row['steps']:>6} steps {row['hints']:>6} hints "
                    f"{row['skills']:>5} skills  read {row['read_s']:>6.2f} s  store {row['store_s']:>6.2f} s  "
                    f"total {row['total_s']:>6.2f} s  {row['store_queries']} queries",
                    flush=True,
                )
            assert again["created"] == 0 and again["rows"] == first["rows"], "a re-import wrote new rows"
            share = first["math_step_checkable"] / max(first["math_step_answers"], 1)
            print(
                f"{first['input']:<24} math step answers checkable: {first['math_step_checkable']:,} of "
                f"{first['math_step_answers']:,} ({100 * share:.1f}%); scaffolds {first['math_scaffold_checkable']:,}"
                f" of {first['math_scaffold_answers']:,}",
                flush=True,
            )
            rows.append({"first": first, "again": again})
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    if args.unparseable is not None:
        kept = {r["first"]["input"]: r["first"]["kept_as_text"] for r in rows}
        args.unparseable.write_text(json.dumps(kept, indent=2, ensure_ascii=False) + "\n")
    for r in rows:
        for key in ("first", "again"):
            r[key].pop("kept_as_text")
    print(json.dumps({"vendor": connection.vendor, "imports": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
