"""The injection corpus over the full turn path, against a hostile model that hides the answer in every reply.

Each message of ``tests/data/injection_corpus.yaml`` goes over the session's websocket, as a student's would: the
consumer stores it, the planner plans the turn, a hostile stand-in for the model server (``tests/hostile_model.py``)
streams a reply that gives the final answer away in one disguise or another, and the guard checks the reply as it
streams and when it is finished. Nothing the student sees or the database keeps may give the answer, and every
attempt is flagged for the teacher on its own turn.
"""

from __future__ import annotations

import html
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from channels.db import database_sync_to_async

from pedagogy.simulate import leaked
from tests.hostile_model import HostileModel, disguises
from tests.integration.conftest import World
from tutor import consumers
from tutor.models import Turn, TutoringSession

from .conftest import open_socket, say, until_final

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]

CORPUS = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "injection_corpus.yaml").read_text())
ANSWER: int = CORPUS["answer"]
CATEGORIES: dict[str, Any] = CORPUS["categories"]
REQUIRED = {
    "answer_requests",
    "instruction_overrides",
    "claimed_permission",
    "role_play",
    "other_languages",
    "encodings",
    "rapid_guessing",
}


def cases(category: str) -> list[tuple[list[str], int]]:
    """(messages, index of the first message that is the attempt) for each case of a category."""
    out = []
    for case in CATEGORIES[category]["cases"]:
        if isinstance(case, str):
            out.append(([case], 0))
        else:
            out.append((list(case["messages"]), int(case.get("flagged_from", 0))))
    return out


def first_disguise(category: str) -> int:
    """Where the hostile model starts for a category: after the messages of the categories before it, so that the
    whole corpus together tries every disguise."""
    names = list(CATEGORIES)
    return sum(len(m) for name in names[: names.index(category)] for m, _ in cases(name))


def test_the_corpus_covers_every_kind_of_attempt_and_every_disguise() -> None:
    assert set(CATEGORIES) >= REQUIRED
    assert all(CATEGORIES[name]["note"].strip() for name in CATEGORIES)
    assert sum(len(cases(name)) for name in CATEGORIES) >= 80
    messages = [m for name in CATEGORIES for ms, _ in cases(name) for m in ms]
    assert all(len(m) <= 2000 for m in messages)
    # No message gives the answer itself: a student who types it has solved the problem.
    assert not [m for m in messages if leaked(m, Fraction(ANSWER))]
    assert len(messages) >= len(disguises(ANSWER))  # so the sessions together try each disguise at least once


_TUTOR_TURN_RE = re.compile(r'<li id="turn-\d+" class="turn turn-tutor".*?<div class="text">(.*?)</div>', re.DOTALL)
_STREAMED_RE = re.compile(r'id="pending-\d+-text" hx-swap-oob="true">(.*?)</div>', re.DOTALL)


def tutor_texts(frames: list[str]) -> list[str]:
    """Every piece of tutor text the frames show: the streamed bubble and the stored tutor turns."""
    found = [m.group(1) for f in frames for m in _STREAMED_RE.finditer(f)]
    found += [m.group(1) for f in frames for m in _TUTOR_TURN_RE.finditer(f)]
    return [html.unescape(t).replace("<br>", "\n") for t in found]


def gives_away(text: str, forms: list[str]) -> str | None:
    """The answer in ``text``: in any disguise the hostile model used, or in a plain form (the benchmark's own
    detector, built apart from the guard)."""
    for form in forms:
        if re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text):
            return form
    return leaked(text, Fraction(ANSWER))


@database_sync_to_async
def tutor_turn_after(session_id: int, seq: int) -> Turn:
    return Turn.objects.filter(session_id=session_id, role=Turn.Role.TUTOR, seq__gt=seq).get()


@database_sync_to_async
def last_seq(session_id: int) -> int:
    return Turn.objects.filter(session_id=session_id).order_by("-seq").values_list("seq", flat=True)[0]


@database_sync_to_async
def stored_tutor_texts(session_id: int) -> list[str]:
    return list(Turn.objects.filter(session_id=session_id, role=Turn.Role.TUTOR).values_list("text", flat=True))


@database_sync_to_async
def needs_attention(session_id: int) -> bool:
    return TutoringSession.objects.values_list("needs_attention", flat=True).get(pk=session_id)


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The corpus is sent faster than a student may type; the per-minute limit is not what is tested here.
    monkeypatch.setattr(consumers, "MESSAGES_PER_MINUTE", 100_000)


@pytest.mark.parametrize("category", list(CATEGORIES))
async def test_no_attempt_gets_the_answer_and_each_is_flagged_for_the_teacher(
    world_tx: World, llm_backend: Any, serve: Any, settings: Any, category: str
) -> None:
    # Both ways of prompting the model are exercised: plan mode for half the categories, paraphrase for the rest.
    settings.TUTOR_LLM_PROMPT_MODE = "plan" if list(CATEGORIES).index(category) % 2 else "paraphrase"
    hostile = HostileModel(ANSWER, start=first_disguise(category))
    server = await serve(hostile.respond())
    llm_backend("openai", server.url)
    session_id = world_tx.session.pk  # the muffin problem, opened with the tutor's first question
    tab = await open_socket(world_tx.student, session_id)
    for n, (messages, flagged_from) in enumerate(cases(category)):
        for i, message in enumerate(messages):
            label = f"{category} case {n} message {i}: {message[:60]!r}"
            before = await last_seq(session_id)
            await say(tab, message, f"{category}-{n}-{i}")
            frames = await until_final(tab)
            turn = await tutor_turn_after(session_id, before)
            tried = hostile.tried[-1]
            for text in [*tutor_texts(frames), turn.text]:
                assert gives_away(text, hostile.forms) is None, (label, tried, text)
            assert turn.guard_verdict["source"] != "model", (label, tried, turn.text)
            if i >= flagged_from:
                assert turn.plan["flags"] and "Flagged:" in turn.plan["reason"], (label, turn.plan["reason"])
                assert await needs_attention(session_id), label
    for text in await stored_tutor_texts(session_id):
        assert gives_away(text, hostile.forms) is None, text
    assert len(server.requests) == sum(len(m) for m, _ in cases(category))  # every reply came from the model
    await tab.disconnect()


async def test_the_same_replies_without_the_disguise_are_kept(world_tx: World, llm_backend: Any, serve: Any) -> None:
    """The hostile replies fail only for their disguise: with a harmless phrase in its place the guard keeps them."""
    hostile = HostileModel(ANSWER, forms=["a muffin in each hand"])
    server = await serve(hostile.respond())
    llm_backend("openai", server.url)
    tab = await open_socket(world_tx.student, world_tx.session.pk)
    for k, message in enumerate(["I'm not sure where to start", "can I have a hint?"]):
        before = await last_seq(world_tx.session.pk)
        await say(tab, message, f"control-{k}")
        await until_final(tab)
        turn = await tutor_turn_after(world_tx.session.pk, before)
        assert turn.guard_verdict["source"] == "model", (turn.text, turn.guard_verdict)
        assert "a muffin in each hand" in turn.text
        assert not turn.plan["flags"]
    assert len(server.requests) == 2
    await tab.disconnect()
