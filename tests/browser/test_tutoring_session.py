"""A student works a whole problem with the tutor in real Chromium, over a real websocket.

The tutor model is a stand-in vLLM server (outside the project) that streams the planner's draft word by word, so
the page shows a reply growing in its bubble the way the real model server makes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest

from tests.standin_vllm import StandInVLLM
from tutor.demo import demo_load
from tutor.models import Turn, TutoringSession

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def model_server() -> Iterator[StandInVLLM]:
    with StandInVLLM() as server:
        yield server


@pytest.fixture
def site(model_server: StandInVLLM, settings: Any, request: pytest.FixtureRequest) -> str:
    demo_load()
    settings.TUTOR_LLM_BACKEND = "openai"
    settings.TUTOR_LLM_URL = model_server.url
    settings.TUTOR_LLM_MODEL = "tutor"
    settings.TUTOR_LLM_PROMPT_MODE = "paraphrase"
    return str(request.getfixturevalue("asgi_live_server"))


def log_in_and_open(page: Any, base: str, problem_title: str) -> None:
    log_in(page, base, "demo-student")
    page.get_by_role("button", name=f"Start {problem_title}").click()
    page.wait_for_selector("#transcript .turn-tutor")


def send(page: Any, text: str) -> None:
    count = page.locator("#transcript .turn-tutor[data-seq]").count()
    page.get_by_label("Your answer or question").fill(text)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#transcript .turn-tutor[data-seq]').length > n", arg=count, timeout=20_000
    )


def last_tutor_text(page: Any) -> str:
    return str(page.locator("#transcript .turn-tutor[data-seq]").last.inner_text())


def test_a_student_solves_a_problem_with_streamed_replies_hints_mastery_and_a_recommendation(
    page: Any, site: str
) -> None:
    log_in_and_open(page, site, "Muffin trays")
    assert "how many muffins" in last_tutor_text(page).lower()
    mastery_before = page.locator("#mastery-panel").inner_text()

    # A wrong answer: the reply streams into a pending bubble before it is stored.
    page.get_by_label("Your answer or question").fill("10")
    page.keyboard.press("Enter")
    page.wait_for_selector("#transcript .turn.pending .text:not(:has(.typing))")
    page.wait_for_selector("#transcript .turn-tutor[data-seq='3']")
    assert "Adding 4 and 6 mixes trays with muffins" in last_tutor_text(page)

    # A hint, from the button; the hints left go down.
    page.get_by_role("button", name="Hint").click()
    page.wait_for_selector("#transcript .turn-tutor[data-seq='5']")
    assert "2 hints left" in page.locator("#session-meta").inner_text()

    # Reload mid-session: the transcript is intact.
    before_reload = page.locator("#transcript").inner_text()
    page.reload()
    page.wait_for_selector("#transcript .turn-tutor[data-seq='5']")
    assert page.locator("#transcript").inner_text() == before_reload

    send(page, "24")
    send(page, "12 dollars")
    page.wait_for_selector("#wrapup h2")
    assert "Solved!" in page.locator("#wrapup").inner_text()
    assert re.search(r"Next: .+\.", page.locator("#wrapup").inner_text())
    assert page.locator("#mastery-panel").inner_text() != mastery_before
    send(page, "Counting all the muffins first was the key step.")  # the answer to the reflection question
    tutor_turns = Turn.objects.filter(role="tutor", session__student__username="demo-student")
    assert tutor_turns.filter(backend="openai:tutor").exists()


def test_a_typed_script_is_shown_as_text_and_runs_nothing(page: Any, site: str) -> None:
    log_in_and_open(page, site, "Muffin trays")
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    send(page, payload)
    student_bubble = page.locator("#transcript .turn-student").last
    assert student_bubble.inner_text().endswith(payload)
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("#transcript img, #transcript script").count() == 0


# What a press of Hint may give: content that spends a hint, or an honest word that the step's hints are used up.
HELP_CONTENT_MOVES = ("hint", "scaffold_question", "worked_example")


def tutor_texts(page: Any) -> list[str]:
    """Every stored tutor reply on the page, in order, without the speaker label."""
    return [str(t) for t in page.locator("#transcript .turn-tutor[data-seq] .text").all_inner_texts()]


def press_hint(page: Any) -> str:
    """Press Hint and wait until the reply has finished streaming and is stored (its pending bubble is gone)."""
    count = page.locator("#transcript .turn-tutor[data-seq]").count()
    page.get_by_role("button", name="Hint").click()
    page.wait_for_function(
        """n => document.querySelectorAll('#transcript .turn-tutor[data-seq]').length > n
             && !document.querySelector('#transcript .turn.pending')""",
        arg=count,
        timeout=20_000,
    )
    return str(page.locator("#transcript .turn-tutor[data-seq] .text").last.inner_text())


def hints_left_shown(page: Any) -> int:
    meta = page.locator("#session-meta").inner_text()
    match = re.search(r"\b(no|\d+) hints? left\b", meta)
    assert match, f"the page shows no hint count: {meta!r}"
    return 0 if match[1] == "no" else int(match[1])


def test_pressing_hint_five_times_gives_five_different_replies_and_an_honest_counter(page: Any, site: str) -> None:
    log_in_and_open(page, site, "Muffin trays")
    start = hints_left_shown(page)
    assert start == 3  # the demo assignment's hints_per_problem

    replies: list[str] = []
    shown: list[int] = []
    for _ in range(5):
        replies.append(press_hint(page))
        shown.append(hints_left_shown(page))
    session = TutoringSession.objects.get(student__username="demo-student", problem__slug="muffin-trays")
    tutor_turns = list(Turn.objects.filter(session=session, role="tutor").order_by("seq"))
    moves = [t.move.rpartition(":")[2] for t in tutor_turns[-5:]]  # stored as 'category:move'
    for n, (reply, move, left) in enumerate(zip(replies, moves, shown, strict=True), start=1):
        print(f"press {n} [{move}, {left} hints left]: {reply}")

    # The page shows exactly what was stored: every tutor text, finished (no streamed draft left behind).
    assert tutor_texts(page) == [t.text for t in tutor_turns]

    # 1. Five presses, five different replies.
    assert len(set(replies)) == 5, replies
    # 2. The tutor never says the same thing twice in a row, anywhere in the transcript.
    transcript = tutor_texts(page)
    repeats = [(a, b) for a, b in pairwise(transcript) if a == b]
    assert not repeats, repeats

    # The ladder in order, then the honest "used up" message; that message says so in words a student can read.
    assert moves == ["hint", "scaffold_question", "worked_example", "hints_used_up", "hints_used_up"], moves
    used_up = [reply for reply, move in zip(replies, moves, strict=True) if move == "hints_used_up"]
    for reply in used_up:
        assert re.search(r"\bhints?\b", reply, re.IGNORECASE), reply
    # Each "used up" message is worded differently, not only in the words that lead back to the question.
    honest_sentences = [re.split(r"(?<=[.!?])\s+", reply)[0] for reply in used_up]
    assert len(set(honest_sentences)) == len(used_up), f"the same 'used up' message twice: {used_up}"

    # 3. The counter goes down only for a press that gave content, never for the "used up" message.
    given = 0
    for n, (move, left) in enumerate(zip(moves, shown, strict=True), start=1):
        given += move in HELP_CONTENT_MOVES
        assert left == start - given, f"after press {n} ({move}) the page shows {left} hints left, not {start - given}"
    session.refresh_from_db()
    assert session.hints_used == given == start - shown[-1]
    assert page.console_errors == []
