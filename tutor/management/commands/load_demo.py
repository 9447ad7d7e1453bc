from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tutor.demo import DEMO_ACCOUNTS, DEMO_JOIN_CODE, DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load the demo problem sets, demo accounts, a demo class and its assignments (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Load even with DEBUG off. The demo accounts have a published password: never on a real site.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "Refusing to create demo accounts with a published password while DEBUG is off. "
                "Pass --allow-without-debug if this really is a throwaway instance."
            )
        for summary in demo_load():
            self.stdout.write(summary.line())
        self.stdout.write(self.style.SUCCESS(f"Demo class join code: {DEMO_JOIN_CODE}"))
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.role:<8} {account.username:<14} password: {DEMO_PASSWORD}")
