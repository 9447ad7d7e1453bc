from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tutor.content.importers import FORMAT_NAMES
from tutor.content.jobs import import_path

# Issues printed in full; the rest are counted (``--report`` writes every kept issue).
SHOWN = 50


class Command(BaseCommand):
    help = (
        "Import a problem set from a native YAML/JSON or CSV file, an OATutor content pool (folder, zip or jsonl) "
        "or a GSM8K jsonl file. All or nothing: any error writes nothing and exits with status 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="A file, a folder (OATutor content pool) or a zip archive.")
        parser.add_argument("--format", choices=FORMAT_NAMES, help="Input format; detected from the input if left out.")
        parser.add_argument("--set", dest="set_name", default="", help="Name of the problem set (default: file name).")
        parser.add_argument("--limit", type=int, help="Import only the first N problems.")
        parser.add_argument("--report", type=Path, help="Write the full report (errors, warnings) to this JSON file.")
        parser.add_argument("--show-warnings", action="store_true", help="Print warnings, not only their count.")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        path: Path = options["path"]
        outcome = import_path(
            path=path,
            fmt=options["format"],
            set_name=options["set_name"],
            limit=limit,
            source=str(path),
        )
        report = outcome.report
        if options["report"] is not None:
            options["report"].write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
        for issue in report.errors[:SHOWN]:
            self.stderr.write(f"error: {issue.text()}")
        if report.error_count > SHOWN:
            self.stderr.write(f"... and {report.error_count - SHOWN} more errors")
        if options["show_warnings"]:
            for issue in report.warnings[:SHOWN]:
                self.stdout.write(f"warning: {issue.text()}")
        if report.warning_count:
            kinds = ", ".join(f"{code} {n}" for code, n in report.warning_codes.most_common())
            self.stdout.write(f"warnings by kind: {kinds}")
        self.stdout.write(f"answers: {report.checkability_line()}")
        if not outcome.ok:
            raise CommandError(outcome.line())
        self.stdout.write(self.style.SUCCESS(outcome.line()))
