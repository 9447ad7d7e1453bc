from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models.backends import LocalLLM, TutorLLMError
from tutor.llm import tutor_llm


class Command(BaseCommand):
    help = (
        "Load the local tutor model once, so its one-time conversion is cached before the first student waits on "
        "it. Does nothing for the openai and none backends."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        llm = tutor_llm()
        if not isinstance(llm, LocalLLM):
            self.stdout.write(f"Backend {settings.TUTOR_LLM_BACKEND}: nothing to prepare.")
            return
        started = time.monotonic()
        try:
            llm.load()
        except TutorLLMError as exc:
            message = f"The local model could not be loaded ({exc}); the tutor will use its templates."
            raise CommandError(message) from exc
        self.stdout.write(f"Tutor model {llm.name} ready in {time.monotonic() - started:.1f} s.")
