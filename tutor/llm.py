"""The process's tutor language model, built once from the TUTOR_LLM_* settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings

from models.backends import TutorLLM, TutorLLMError, backend_from_settings, backend_kind

# Small models can only paraphrase the planner's template; fine-tuned or large models realize the plan themselves.
PROMPT_MODE_BY_BACKEND = {"local": "paraphrase", "openai": "plan", "none": "paraphrase"}

# Every setting the backends read. Listed once, so a setting documented for the backends cannot be left behind here.
LLM_SETTING_NAMES = (
    "TUTOR_LLM_BACKEND",
    "TUTOR_LLM_URL",
    "TUTOR_LLM_MODEL",
    "TUTOR_LLM_API_KEY",
    "TUTOR_LLM_CONNECT_TIMEOUT",
    "TUTOR_LLM_READ_TIMEOUT",
)


def llm_settings() -> dict[str, Any]:
    return {name: getattr(settings, name, None) for name in LLM_SETTING_NAMES}


@lru_cache(maxsize=1)
def tutor_llm() -> TutorLLM:
    """One backend per process: the local backend loads its model on first use, not at import."""
    return backend_from_settings(llm_settings())


def prompt_mode() -> str:
    return getattr(settings, "TUTOR_LLM_PROMPT_MODE", "") or PROMPT_MODE_BY_BACKEND[backend_kind(tutor_llm())]


def model_status() -> str:
    """One line for admins: the backend in use and its model, e.g. ``openai (socratic-tutor)``.

    Building the backend loads nothing, so this is cheap; a backend that cannot be built is reported, not raised,
    because the page showing it must still work.
    """
    try:
        llm = tutor_llm()
    except TutorLLMError as exc:
        return f"unavailable ({exc})"
    kind, _, model = llm.name.partition(":")
    status = f"{kind} ({model or 'templates only'})"
    if str(getattr(settings, "TUTOR_LLM_BACKEND", "")).strip().lower() in {"", "auto"}:
        status += ", chosen automatically"
    return status
