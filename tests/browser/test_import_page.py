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
