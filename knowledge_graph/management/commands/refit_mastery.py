from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from knowledge_graph.refit import MIN_OBSERVATIONS, parameters_refit


class Command(BaseCommand):
    help = "Refit each skill's BKT parameters from the evidence log (skills with too little evidence keep theirs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--min-observations", type=int, default=MIN_OBSERVATIONS)
        parser.add_argument("--skill", action="append", dest="skills", help="Only this skill code (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = parameters_refit(min_observations=options["min_observations"], codes=options["skills"])
        for o in outcomes:
            self.stdout.write(f"{o.skill}: {o.observations} observations from {o.learners} learners: {o.reason}")
        refitted = sum(o.refitted for o in outcomes)
        self.stdout.write(self.style.SUCCESS(f"{refitted} refitted, {len(outcomes) - refitted} unchanged"))
