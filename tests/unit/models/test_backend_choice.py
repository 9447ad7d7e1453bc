"""How the app chooses and builds its tutor model backend from Django settings: ``auto`` resolution, the timeout
settings reaching the server client, and the local model loaded once across ``prepare_model`` and the first turn."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

import models.backends
from models.backends import (
    LoadedModel,
    LocalLLM,
    NoLLM,
    OpenAICompatibleLLM,
    TutorLLMError,
    backend_from_settings,
    complete,
    resolve_backend_name,
)
from tests.standin_vllm import Request
from tutor.llm import model_status, prompt_mode, tutor_llm

MESSAGES = [{"role": "user", "content": "Ask the student what 12 + 3 is."}]


def no_gpu() -> bool:
    return False


def a_gpu() -> bool:
    return True


def must_not_ask() -> bool:
    raise AssertionError("CUDA was probed although the settings already decide the backend")


@pytest.fixture
def app_llm(settings: Any) -> Iterator[Any]:
    """Django settings for the tutor model, with the process-wide backend rebuilt around the test."""
    tutor_llm.cache_clear()
    yield settings
    tutor_llm.cache_clear()


# -- auto ----------------------------------------------------------------------------------------------------


def test_auto_uses_the_model_server_when_a_url_is_set_without_probing_for_a_gpu() -> None:
    settings = {"TUTOR_LLM_BACKEND": "auto", "TUTOR_LLM_URL": "http://gpu-1:8000/v1", "TUTOR_LLM_MODEL": "tutor"}

    llm = backend_from_settings(settings, has_cuda=must_not_ask)

    assert isinstance(llm, OpenAICompatibleLLM)
    assert llm.name == "openai:tutor"


def test_auto_uses_the_local_model_when_a_cuda_gpu_is_available() -> None:
    llm = backend_from_settings({"TUTOR_LLM_BACKEND": "auto"}, has_cuda=a_gpu)

    assert isinstance(llm, LocalLLM)


def test_auto_uses_the_templates_without_a_url_or_a_gpu() -> None:
    assert isinstance(backend_from_settings({"TUTOR_LLM_BACKEND": "auto"}, has_cuda=no_gpu), NoLLM)


def test_auto_is_the_default_choice() -> None:
    assert resolve_backend_name({}, has_cuda=no_gpu) == "none"
    assert resolve_backend_name({"TUTOR_LLM_BACKEND": ""}, has_cuda=a_gpu) == "local"
    assert resolve_backend_name({"TUTOR_LLM_URL": "http://h/v1"}, has_cuda=must_not_ask) == "openai"


@pytest.mark.parametrize("name", ["local", "openai", "none"])
def test_an_explicit_choice_is_kept_whatever_the_machine_offers(name: str) -> None:
    settings = {"TUTOR_LLM_BACKEND": name, "TUTOR_LLM_URL": "http://h/v1", "TUTOR_LLM_MODEL": "m"}

    assert resolve_backend_name(settings, has_cuda=must_not_ask) == name


def test_the_gpu_probe_answers_without_raising() -> None:
    assert models.backends.cuda_available() in {True, False}


def test_the_app_phrases_by_the_backend_auto_chose(app_llm: Any) -> None:
    app_llm.TUTOR_LLM_BACKEND = "auto"
    app_llm.TUTOR_LLM_URL = "http://gpu-1:8000/v1"
    app_llm.TUTOR_LLM_MODEL = "socratic-tutor"
    app_llm.TUTOR_LLM_PROMPT_MODE = ""

    assert tutor_llm().name == "openai:socratic-tutor"
    assert prompt_mode() == "plan"
    assert model_status() == "openai (socratic-tutor), chosen automatically"


# -- timeouts from the settings --------------------------------------------------------------------------------


async def test_the_read_timeout_setting_bounds_a_server_that_hangs(serve, app_llm: Any) -> None:
    async def hang(request: Request, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await serve(hang)
    app_llm.TUTOR_LLM_BACKEND = "openai"
    app_llm.TUTOR_LLM_URL = server.url
    app_llm.TUTOR_LLM_MODEL = "tutor"
    app_llm.TUTOR_LLM_READ_TIMEOUT = 0.3
    llm = tutor_llm()

    started = time.monotonic()
    # The outer bound keeps a regression (the 20 s default read timeout) from stalling the run.
    async with asyncio.timeout(5):
        with pytest.raises(TutorLLMError, match=r"sent nothing for 0\.3 s"):
            await complete(llm, MESSAGES)
    assert time.monotonic() - started < 1.5


def test_the_connect_timeout_setting_reaches_the_server_client(app_llm: Any) -> None:
    app_llm.TUTOR_LLM_BACKEND = "openai"
    app_llm.TUTOR_LLM_URL = "http://gpu-1:8000/v1"
    app_llm.TUTOR_LLM_MODEL = "tutor"
    app_llm.TUTOR_LLM_CONNECT_TIMEOUT = 0.75

    llm = tutor_llm()

    assert isinstance(llm, OpenAICompatibleLLM)
    assert llm.connect_timeout == 0.75


# -- the local model is loaded once ----------------------------------------------------------------------------


def test_prepare_model_then_the_first_turn_load_the_local_model_once(
    app_llm: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A model folder that needs no conversion; the weight loader is counted instead of run, so no weights load.
    (tmp_path / "config.json").write_text("{}")
    loads: list[str] = []

    def count_loads(model: str | None = None, *, device: str | None = None) -> LoadedModel:
        loads.append(str(model))
        return LoadedModel(tmp_path, "cpu", object(), object(), ThreadPoolExecutor(max_workers=1), 0.0)

    monkeypatch.setattr(models.backends, "load_local_model", count_loads)
    app_llm.TUTOR_LLM_BACKEND = "local"
    app_llm.TUTOR_LLM_MODEL = str(tmp_path)
    output = io.StringIO()

    call_command("prepare_model", stdout=output)

    assert "ready" in output.getvalue()
    assert loads == []  # preparing does only what outlasts its process; the server loads the weights
    llm = tutor_llm()
    assert isinstance(llm, LocalLLM)
    first_turn = llm.load()
    assert tutor_llm() is llm
    assert llm.load() is first_turn
    assert loads == [str(tmp_path)]
