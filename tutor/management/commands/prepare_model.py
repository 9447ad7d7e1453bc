from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from models.backends import LocalLLM, TutorLLMError
from tutor.llm import model_status, tutor_llm


class Command(BaseCommand):
    help = (
        "Do the local tutor model's one-time conversion before the first student waits on it, and check that it can "
        "be loaded. The weights themselves are loaded by the server on its first turn, once. Does nothing for the "
        "openai and none backends."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            llm = tutor_llm()
        except TutorLLMError as exc:
            raise CommandError(f"The tutor model settings are incomplete: {exc}") from exc
        if not isinstance(llm, LocalLLM):
            self.stdout.write(f"Tutor model: {model_status()}. Nothing to prepare.")
            return
        started = time.monotonic()
        try:
            # Not load(): this process exits right after, and the server would load the weights a second time.
            llm.prepare()
        except TutorLLMError as exc:
            message = f"The local model could not be prepared ({exc}); the tutor will use its templates."
            raise CommandError(message) from exc
        self.stdout.write(
            f"Tutor model {llm.name} ready in {time.monotonic() - started:.1f} s; "
            "the server loads it on the first reply."
        )
