from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tutor.models import Classroom, TutoringSession
from tutor.session_figures import figures_refresh, stale_sessions


class Command(BaseCommand):
    help = (
        "Compute the teacher dashboard's per-session figures (solved, turns, time, hints, telling rate, talk share, "
        "first-attempt correctness, flags) from the stored turns. By default only sessions whose figures are missing "
        "or older than their latest turn; --all recomputes every one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--class", dest="class_id", type=int, help="Only the sessions of this class (its id).")
        parser.add_argument("--all", action="store_true", help="Recompute figures that are up to date too.")

    def handle(self, *args: Any, **options: Any) -> None:
        sessions = TutoringSession.objects.all()
        if options["class_id"] is not None:
            if not Classroom.objects.filter(pk=options["class_id"]).exists():
                raise CommandError(f"No class has the id {options['class_id']}.")
            sessions = sessions.filter(assignment__classroom_id=options["class_id"])
        if not options["all"]:
            sessions = stale_sessions(sessions)
        count = figures_refresh(session_ids=sessions.values_list("pk", flat=True).iterator())
        self.stdout.write(f"Figures computed for {count} session{'s' if count != 1 else ''}.")
