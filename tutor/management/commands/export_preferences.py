from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tutor.preferences import preference_pairs


class Command(BaseCommand):
    help = (
        "Write teachers' corrections of tutor turns as preference pairs (JSON lines: prompt, chosen, rejected) for "
        "`python -m models.finetune --method dpo`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["output"]
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with path.open("w", encoding="utf-8") as fh:
            for pair in preference_pairs():
                fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
                count += 1
        self.stdout.write(f"{count} preference pair{'s' if count != 1 else ''} written to {path}")
