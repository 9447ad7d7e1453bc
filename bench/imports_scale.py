"""Import scale benchmark: how reading grows with the size of a problem set, on generated minimal problems.

    .venv/bin/python -m bench.imports_scale [--sizes 15000,30000,60000,120000]

For each size N: write a native JSON file of N one-step problems, then time
1. validation alone (``ProblemSetDoc.model_validate``, where the cross-record checks such as repeated slugs run);
2. reading the whole file (``read_content``: parse, validate, normalize answers), as an import does;
3. reading it again with one repeated slug, the error path that also reports every issue at its line.

Reading should grow linearly: the last column is each read's time per 1,000 problems, which should stay flat as N
doubles. Nothing is written to a database. The last line printed is JSON.
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


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")
    os.environ.setdefault("DEBUG", "1")  # the development secret key; nothing is served
    import django

    django.setup()


def generated_set(count: int, *, repeat_slug: bool = False) -> dict[str, Any]:
    """A native document of ``count`` minimal problems; with ``repeat_slug`` the last repeats the first's slug."""
    problems = [
        {"slug": f"p{i}", "title": f"Problem {i}", "text": f"What is {i} + 1?", "answer": str(i + 1)}
        | {"steps": [{"prompt": f"What is {i} + 1?", "answer": str(i + 1)}]}
        for i in range(count)
    ]
    if repeat_slug and count > 1:
        problems[-1]["slug"] = problems[0]["slug"]
    return {"format": "tutor-native/1", "set": {"slug": "generated", "title": "Generated"}, "problems": problems}


def _timed_read(path: Path) -> tuple[float, int]:
    from tutor.content.importers import read_content

    started = time.perf_counter()
    result = read_content(path)
    return time.perf_counter() - started, result.report.error_count


def measure(count: int, folder: Path) -> dict[str, Any]:
    from pydantic import ValidationError

    from tutor.content.schema import ProblemSetDoc

    doc = generated_set(count)
    started = time.perf_counter()
    ProblemSetDoc.model_validate(doc)
    validate_s = time.perf_counter() - started
    good = folder / f"generated-{count}.json"
    good.write_text(json.dumps(doc), encoding="utf-8")
    read_s, good_errors = _timed_read(good)
    repeated = generated_set(count, repeat_slug=True)
    try:
        ProblemSetDoc.model_validate(repeated)
        raise SystemExit("a repeated slug was not found")
    except ValidationError:
        pass
    bad = folder / f"generated-{count}-repeated.json"
    bad.write_text(json.dumps(repeated), encoding="utf-8")
    error_read_s, bad_errors = _timed_read(bad)
    assert good_errors == 0 and bad_errors == 1, (good_errors, bad_errors)
    return {
        "problems": count,
        "validate_s": round(validate_s, 2),
        "read_s": round(read_s, 2),
        "read_with_error_s": round(error_read_s, 2),
        "read_ms_per_1000": round(1000 * read_s / count * 1000, 1),
        "read_with_error_ms_per_1000": round(1000 * error_read_s / count * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="15000,30000,60000,120000", help="Comma-separated set sizes.")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    _setup_django()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-imports-scale-") as tmp:
        for count in sizes:
            row = measure(count, Path(tmp))
            rows.append(row)
            print(
                f"{row['problems']:>7} problems  validate {row['validate_s']:>6.2f} s  read {row['read_s']:>6.2f} s  "
                f"read with a repeated slug {row['read_with_error_s']:>6.2f} s  per 1,000 problems: "
                f"{row['read_ms_per_1000']:>5.1f} ms, {row['read_with_error_ms_per_1000']:>5.1f} ms",
                flush=True,
            )
    print(json.dumps({"sizes": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
