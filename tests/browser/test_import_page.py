"""An admin imports the OATutor sample as a zip through the upload page and reads the report, in Chromium."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from tutor.demo import demo_load
from tutor.models import ImportJob, Problem

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_uploads_the_oatutor_sample_as_a_zip_and_reads_the_report(
    page: Any, live_server: Any, shared_data: Path, tmp_path: Path, eager: None
) -> None:
    demo_load()
    sample = shared_data / "oatutor" / "content-pool-sample"
    archive = tmp_path / "content-pool-sample.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(sample.rglob("*")):
            if path.is_file():
                zf.write(path, f"content-pool/{path.relative_to(sample)}")
        zf.write(shared_data / "oatutor" / "skillModel.json", "skillModel.json")

    log_in(page, live_server.url, "demo-admin")
    page.get_by_role("link", name="Import problems").click()
    assert page.get_by_role("heading", name="Import problems").is_visible()
    page.get_by_label("File").set_input_files(str(archive))
    page.get_by_label("Format").select_option("oatutor")
    page.get_by_label("Problem set name").fill("Algebra from OATutor")
    page.get_by_label("Preview before storing").uncheck()
    page.get_by_role("button", name="Import").click()

    page.wait_for_selector("#import-summary")
    assert page.locator("#import-status").inner_text() == "Imported"
    summary = page.locator("#import-summary").inner_text()
    assert "60 new" in summary and "skills" in summary
    assert page.get_by_text("Stored as the problem set Algebra from OATutor").is_visible()
    assert page.get_by_role("heading", name="Warnings").is_visible()
    assert page.get_by_text("math step answers checkable").is_visible()
    job = ImportJob.objects.get()
    assert Problem.objects.filter(problem_set=job.problem_set).count() == 60
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []


PREVIEW_SET = """\
format: tutor-native/1
set: {slug: shelf-preview, title: Shelf preview}
problems:
  - slug: shelf-books
    title: Books on shelves
    text: There are **3 shelves** with 8 books on each. How many books are there?
    answer: "24"
    steps:
      - prompt: How many books are on the 3 shelves together?
        answer: "24"
        hints:
          - {kind: hint, text: "Every shelf holds the same number of books."}
          - {kind: scaffold, text: "What is 3 groups of 8?", answer: "24"}
          - {kind: bottom_out, text: "3 shelves of 8 books make 24 books."}
"""


def test_an_admin_previews_a_problem_set_then_stores_it(
    page: Any, live_server: Any, tmp_path: Path, eager: None
) -> None:
    demo_load()
    problems_before = Problem.objects.count()
    source = tmp_path / "shelf-preview.yaml"
    source.write_text(PREVIEW_SET)

    log_in(page, live_server.url, "demo-admin")
    page.get_by_role("link", name="Import problems").click()
    assert page.get_by_label("Preview before storing").is_checked()
    page.get_by_label("File").set_input_files(str(source))
    page.get_by_role("button", name="Import").click()

    page.wait_for_selector("#import-summary")
    assert page.locator("#import-status").inner_text() == "Previewed, not stored"
    assert Problem.objects.count() == problems_before
    page.get_by_role("link", name="Books on shelves").click()
    assert page.get_by_role("heading", name="Books on shelves").is_visible()
    assert page.locator(".problem-text strong").inner_text() == "3 shelves"
    ladder = page.locator(".hint-ladder li")
    assert ladder.count() == 3 and "What is 3 groups of 8?" in ladder.nth(1).inner_text()
    assert page.locator("#transcript .turn-tutor").count() > 1
    assert Problem.objects.count() == problems_before

    page.get_by_role("link", name="shelf-preview.yaml").click()
    page.get_by_role("button", name="Store this set").click()
    page.wait_for_selector("#import-summary")
    assert page.locator("#import-status").inner_text() == "Imported"
    assert page.get_by_text("Stored as the problem set Shelf preview").is_visible()
    assert page.get_by_role("button", name="Store this set").count() == 0
    job = ImportJob.objects.get()
    assert job.problem_set is not None and Problem.objects.filter(problem_set=job.problem_set).count() == 1
    assert [e for e in page.console_errors if "Content Security Policy" in e] == []
