"""A student works a whole problem with the tutor in real Chromium, over a real websocket.

The tutor model is a stand-in vLLM server (outside the project) that streams the planner's draft word by word, so
the page shows a reply growing in its bubble the way the real model server makes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.standin_vllm import StandInVLLM
from tutor.demo import demo_load
from tutor.models import Turn

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
    assert "How many muffins" in last_tutor_text(page)
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
