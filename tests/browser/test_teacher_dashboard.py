"""The teacher's dashboard and the admin's tools in real Chromium, on the demo accounts."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_admin_model_status import StandInModelList
from tutor.demo import demo_load
from tutor.llm import tutor_llm
from tutor.models import User

from .conftest import log_in
from .test_skill_maps import work

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Alex asks for the answer three times (the third is turn 8) after writing a formula a spreadsheet would run.
ALEX_MESSAGES = ["=SUM(A1:A3)", "just tell me the answer", "tell me the answer", "give me the answer"]


def demo_work() -> None:
    demo_load()
    work(User.objects.get(username="demo-student"), "muffin-trays", ALEX_MESSAGES)
    work(User.objects.get(username="demo-student2"), "muffin-trays", ["24", "12"])  # Sam solves it unaided


@pytest.fixture
def demo_class(live_server: Any) -> str:
    demo_work()
    return str(live_server.url)


def test_the_teacher_finds_the_struggling_student_in_three_clicks(page: Any, asgi_live_server: str) -> None:
    # The full ASGI app: the transcript page opens its websocket.
    demo_work()
    log_in(page, asgi_live_server, "demo-teacher")
    clicks = 0

    page.get_by_role("link", name="Period 3 Math").click()
    clicks += 1
    page.get_by_role("link", name="Dashboard").click()
    clicks += 1
    attention = page.locator("section", has=page.locator("#attention-heading"))
    assert "Alex Rivera" in attention.inner_text()
    assert "Sam Okafor" not in attention.inner_text()  # solved on their own: nothing to flag
    attention.get_by_role("link", name="Asked for the answer 3 times").click()
    clicks += 1

    assert clicks <= 3
    page.wait_for_load_state()
    assert page.url.endswith("#turn-8")
    turn = page.locator("#turn-8")
    assert "give me the answer" in turn.inner_text()
    assert turn.is_visible()
    assert "Alex Rivera's session" in page.locator(".problem-statement").inner_text()
    assert page.console_errors == []


def test_the_heatmap_is_coloured_and_reachable_by_keyboard(page: Any, demo_class: str) -> None:
    log_in(page, demo_class, "demo-teacher")
    page.get_by_role("link", name="Period 3 Math").click()
    page.get_by_role("link", name="Dashboard").click()

    heatmap = page.locator("table.heatmap")
    row = heatmap.locator("tbody tr", has=page.get_by_role("link", name="Alex Rivera"))
    row.get_by_role("link", name="Alex Rivera").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent]")
    assert focused[0].startswith("heat heat-")
    assert focused[1].endswith("%") or "no evidence" in focused[1]

    def background(selector: str) -> str:
        return str(heatmap.locator(selector).first.evaluate("el => getComputedStyle(el).backgroundColor"))

    practised = heatmap.locator('td[data-skill="arith.multiply"]').first
    assert practised.inner_text().endswith("%")
    assert background("td.heat-none") == "rgb(233, 235, 237)"  # grey: no evidence
    assert background('td[data-skill="arith.multiply"]') not in {"rgb(233, 235, 237)", "rgba(0, 0, 0, 0)"}


def test_the_teacher_downloads_a_csv_with_the_formula_cell_escaped(page: Any, demo_class: str, tmp_path: Path) -> None:
    log_in(page, demo_class, "demo-teacher")
    page.get_by_role("link", name="Period 3 Math").click()
    page.get_by_role("link", name="Dashboard").click()

    with page.expect_download() as info:
        page.get_by_role("link", name="Every turn of every session (CSV)").click()
    download = info.value
    assert download.suggested_filename.startswith("period-3-math-turns-")
    target = tmp_path / "turns.csv"
    download.save_as(target)

    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    alex = [r for r in rows if r["student"] == "Alex Rivera" and r["role"] == "student"]
    assert [r["text"] for r in alex] == ["'=SUM(A1:A3)", *ALEX_MESSAGES[1:]]
    assert {r["student"] for r in rows} == {"Alex Rivera", "Sam Okafor"}


def test_the_admin_previews_a_hint_ladder_and_sees_the_model_status(page: Any, demo_class: str, settings: Any) -> None:
    with StandInModelList(["socratic-tutor"]) as server:
        settings.TUTOR_LLM_BACKEND = "openai"
        settings.TUTOR_LLM_URL = server.url
        settings.TUTOR_LLM_MODEL = "socratic-tutor"
        tutor_llm.cache_clear()
        try:
            log_in(page, demo_class, "demo-admin")
            page.get_by_role("link", name="Problem sets", exact=True).click()
            page.get_by_role("link", name="Muffin trays").click()

            ladder = page.locator("section", has=page.locator("#ladder-heading"))
            assert "Every tray holds the same number of muffins" in ladder.inner_text()
            transcript = page.locator("#transcript")
            assert transcript.locator(".turn-student").first.inner_text().endswith("Can I have a hint?")
            hint = transcript.locator(".turn-tutor", has_text="Every tray holds the same number of muffins")
            assert hint.count() == 1 and hint.is_visible()
            assert page.locator(".problem-statement .katex, .problem-statement .problem-text").count() >= 1

            page.get_by_role("link", name="Tutor model").click()
            assert page.locator("#model-backend").inner_text() == "openai"
            assert page.locator("#model-name").inner_text() == "socratic-tutor"
            assert page.locator("#model-reachable").inner_text().startswith("Reachable")
            assert "ms /" in page.locator("#latency-all").inner_text()
            assert page.console_errors == []
        finally:
            tutor_llm.cache_clear()
