"""The admin upload page: an admin uploads, the import runs as a Celery task, the job page shows the report."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tutor.models import ImportJob, Problem, ProblemSet
from tutor.tasks import import_job_task
from tutor.views import imports as import_views

from .conftest import World

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def sample_zip_bytes(shared_data: Path, tmp_path: Path) -> bytes:
    sample = shared_data / "oatutor" / "content-pool-sample"
    target = tmp_path / "content-pool-sample.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(sample.rglob("*")):
            if path.is_file():
                zf.write(path, f"content-pool/{path.relative_to(sample)}")
        zf.write(shared_data / "oatutor" / "skillModel.json", "skillModel.json")
    return target.read_bytes()


def test_an_admin_uploads_the_oatutor_sample_as_a_zip_and_reads_the_report(
    world: World, shared_data: Path, tmp_path: Path, eager: None
) -> None:
    client = client_for(world.admin)
    form_page = client.get(reverse("admin_imports"))
    assert form_page.status_code == 200 and 'enctype="multipart/form-data"' in form_page.content.decode()
    upload = SimpleUploadedFile("content-pool-sample.zip", sample_zip_bytes(shared_data, tmp_path))
    response = client.post(reverse("admin_imports"), {"file": upload, "format": "oatutor", "set_name": ""})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin_import_job", args=[job.pk])
    assert job.status == ImportJob.Status.DONE and job.upload is None
    assert job.problem_set is not None and job.counts["problems"] == 60
    assert Problem.objects.filter(problem_set=job.problem_set).count() == 60

    page = client.get(response["Location"]).content.decode()
    assert "Imported" in page and "60 new" in page and "Warnings" in page
    assert "math step answers checkable" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: the page stops polling


def test_a_bad_upload_fails_with_an_escaped_report_and_writes_nothing(
    world: World, tmp_path: Path, eager: None
) -> None:
    record = {
        "id": "p1",
        "title": "T",
        "body": "",
        "steps": [
            {
                "id": "p1a",
                "stepTitle": "Q",
                "stepBody": "",
                "stepAnswer": ["1"],
                "problemType": "<b>bold</b>",
                "answerType": "arithmetic",
            }
        ],
    }
    sets_before = ProblemSet.objects.count()
    upload = SimpleUploadedFile("pool.jsonl", (json.dumps(record) + "\n").encode())
    client_for(world.admin).post(reverse("admin_imports"), {"file": upload, "format": "oatutor"})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and job.problem_set is None
    assert ProblemSet.objects.count() == sets_before
    page = client_for(world.admin).get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert "Nothing was stored" in page and "pool.jsonl:1" in page and "steps[0].problemType" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page


def test_a_waiting_job_polls_with_htmx_and_the_fragment_comes_alone(world: World) -> None:
    job = ImportJob.objects.create(created_by=world.admin, filename="set.yaml", upload=b"x")
    client = client_for(world.admin)
    full = client.get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in full and "<html" in full
    fragment = client.get(reverse("admin_import_job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="import-job"' in fragment


def test_an_upload_over_the_limit_is_refused_before_anything_is_stored(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_views, "MAX_UPLOAD_BYTES", 1000)
    upload = SimpleUploadedFile("big.yaml", b"x" * 1001)
    response = client_for(world.admin).post(reverse("admin_imports"), {"file": upload})
    assert response.status_code == 400 and "the limit is" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_unknown_format_is_a_form_error(world: World) -> None:
    upload = SimpleUploadedFile("set.yaml", b"format: tutor-native/1\n")
    response = client_for(world.admin).post(reverse("admin_imports"), {"file": upload, "format": "moodle"})
    assert response.status_code == 400 and not ImportJob.objects.exists()


@pytest.mark.parametrize("actor", ["student", "teacher"])
def test_non_admins_cannot_upload(world: World, actor: str) -> None:
    upload = SimpleUploadedFile("set.yaml", b"format: tutor-native/1\n")
    response = client_for(getattr(world, actor)).post(reverse("admin_imports"), {"file": upload})
    assert response.status_code == 403 and not ImportJob.objects.exists()


def test_the_task_imports_a_job_once_even_when_delivered_twice(world: World, shared_data: Path) -> None:
    data = (shared_data / "gsm8k" / "test_socratic.jsonl").read_bytes().splitlines(keepends=True)[:5]
    job = ImportJob.objects.create(created_by=world.admin, filename="test_socratic.jsonl", upload=b"".join(data))
    assert import_job_task.apply(args=[job.pk]).get() == ImportJob.Status.DONE
    assert import_job_task.apply(args=[job.pk]).get() == "not waiting"
    job.refresh_from_db()
    assert job.counts["problems_created"] == 5 and Problem.objects.filter(problem_set=job.problem_set).count() == 5
