"""The process's tutor language model, built once from the TUTOR_LLM_* settings."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from models.backends import TutorLLM, backend_from_settings

# Small models can only paraphrase the planner's template; fine-tuned or large models realize the plan themselves.
PROMPT_MODE_BY_BACKEND = {"local": "paraphrase", "openai": "plan", "none": "paraphrase"}


@lru_cache(maxsize=1)
def tutor_llm() -> TutorLLM:
    """One backend per process: the local backend loads its model on first use, not at import."""
    return backend_from_settings(
        {
            "TUTOR_LLM_BACKEND": settings.TUTOR_LLM_BACKEND,
            "TUTOR_LLM_URL": settings.TUTOR_LLM_URL,
            "TUTOR_LLM_MODEL": settings.TUTOR_LLM_MODEL,
            "TUTOR_LLM_API_KEY": settings.TUTOR_LLM_API_KEY,
        }
    )


def prompt_mode() -> str:
    return getattr(settings, "TUTOR_LLM_PROMPT_MODE", "") or PROMPT_MODE_BY_BACKEND[settings.TUTOR_LLM_BACKEND]
