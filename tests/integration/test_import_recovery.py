"""An import whose worker dies is not left "importing" forever: the task the broker delivers again, or beat's
periodic sweep, fails it with the reason, and an admin retries it from the stored upload without uploading again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import REPO_ROOT, require
from tutor.celery import app as celery_app
from tutor.content.jobs import STALE_MARGIN
from tutor.models import ImportJob, Problem, ProblemSet, User
from tutor.tasks import import_job_task, import_jobs_reap_task

from .conftest import World

# Longer ago than any worker could still be running the task: Celery kills it at the hard time limit.
ABANDONED_AGO = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + STALE_MARGIN + timedelta(minutes=2)


def gsm8k_upload(shared_data: Path, lines: int | None = 5) -> bytes:
    data = (shared_data / "gsm8k" / "test_socratic.jsonl").read_bytes().splitlines(keepends=True)
    return b"".join(data[:lines])


def job_as_a_dead_worker_left_it(admin: User, upload: bytes, *, ago: timedelta = ABANDONED_AGO) -> ImportJob:
    """A job whose worker claimed it, then died: still marked running, its upload still stored."""
    return ImportJob.objects.create(
        created_by=admin,
        filename="test_socratic.jsonl",
        upload=upload,
        status=ImportJob.Status.RUNNING,
        progress="read 1,000 problems",
        started_at=timezone.now() - ago,
    )


def client_for(user: object, **kwargs: object) -> Client:
    client = Client(**kwargs)  # type: ignore[arg-type]
    client.force_login(user)  # type: ignore[arg-type]
    return client


def assert_failed_as_abandoned(job: ImportJob) -> None:
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert [e["code"] for e in job.report["errors"]] == ["worker-lost"]
    reason = job.report["errors"][0]["reason"]
    assert "the worker running it stopped" in reason and "nothing was written" in reason, reason
    assert bytes(job.upload or b"")  # kept for the retry
    assert not ProblemSet.objects.filter(import_jobs=job).exists()


@pytest.mark.django_db
def test_a_task_delivered_again_after_its_worker_died_fails_the_abandoned_job(world: World, shared_data: Path) -> None:
    job = job_as_a_dead_worker_left_it(world.admin, gsm8k_upload(shared_data))
    assert import_job_task.apply(args=[job.pk]).get() == ImportJob.Status.FAILED
    assert_failed_as_abandoned(job)
    assert import_job_task.apply(args=[job.pk]).get() == "not waiting"  # a third delivery changes nothing


@pytest.mark.django_db
def test_a_task_delivered_twice_while_its_job_runs_leaves_the_job_alone(world: World, shared_data: Path) -> None:
    job = job_as_a_dead_worker_left_it(world.admin, gsm8k_upload(shared_data), ago=timedelta(seconds=5))
    assert import_job_task.apply(args=[job.pk]).get() == "not waiting"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING and job.progress == "read 1,000 problems"


@pytest.mark.django_db
def test_the_periodic_sweep_fails_abandoned_jobs_only(world: World, shared_data: Path) -> None:
    upload = gsm8k_upload(shared_data)
    abandoned = job_as_a_dead_worker_left_it(world.admin, upload)
    live = job_as_a_dead_worker_left_it(world.admin, upload, ago=timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT))
    waiting = ImportJob.objects.create(created_by=world.admin, filename="waiting.jsonl", upload=upload)
    assert import_jobs_reap_task.apply().get() == 1
    assert_failed_as_abandoned(abandoned)
    live.refresh_from_db()
    waiting.refresh_from_db()
    assert live.status == ImportJob.Status.RUNNING and waiting.status == ImportJob.Status.PENDING
    assert import_jobs_reap_task.apply().get() == 0


def test_beat_runs_the_sweep_every_minute() -> None:
    entries = [e for e in celery_app.conf.beat_schedule.values() if e["task"] == "tutor.tasks.import_jobs_reap_task"]
    assert len(entries) == 1 and entries[0]["schedule"] <= 60
    assert "tutor.tasks.import_jobs_reap_task" in celery_app.tasks


def test_the_broker_hands_out_a_dead_workers_task_again_soon_after_the_time_limit() -> None:
    """Redis's visibility timeout decides when an unacknowledged task is delivered again. Shorter than the hard
    time limit, a running task would be handed to a second worker; Redis's default (an hour) would leave a dead
    worker's import unanswered that long."""
    timeout = celery_app.conf.broker_transport_options["visibility_timeout"]
    limit = settings.CELERY_TASK_TIME_LIMIT
    assert limit + STALE_MARGIN.total_seconds() < timeout <= limit + 120


@pytest.mark.django_db
def test_an_admin_retries_an_abandoned_import_and_the_stored_upload_imports(
    world: World, shared_data: Path, eager: None
) -> None:
    job = job_as_a_dead_worker_left_it(world.admin, gsm8k_upload(shared_data))
    import_jobs_reap_task.apply().get()
    client = client_for(world.admin)
    page = client.get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert "the worker running it stopped" in page and 'id="retry-form"' in page
    assert reverse("admin_import_job_retry", args=[job.pk]) in page and "csrfmiddlewaretoken" in page

    response = client.post(reverse("admin_import_job_retry", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin_import_job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.counts["problems_created"] == 5
    assert job.report["error_count"] == 0 and job.upload is None  # released once imported
    assert Problem.objects.filter(problem_set=job.problem_set).count() == 5
    page = client.get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert "Imported" in page and 'id="retry-form"' not in page


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["student", "teacher"])
def test_only_admins_can_retry(world: World, shared_data: Path, actor: str) -> None:
    job = job_as_a_dead_worker_left_it(world.admin, gsm8k_upload(shared_data))
    import_jobs_reap_task.apply().get()
    response = client_for(getattr(world, actor)).post(reverse("admin_import_job_retry", args=[job.pk]))
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


@pytest.mark.django_db
def test_a_retry_needs_a_post_with_the_csrf_token(world: World, shared_data: Path) -> None:
    job = job_as_a_dead_worker_left_it(world.admin, gsm8k_upload(shared_data))
    import_jobs_reap_task.apply().get()
    url = reverse("admin_import_job_retry", args=[job.pk])
    assert client_for(world.admin).get(url).status_code == 405
    assert client_for(world.admin, enforce_csrf_checks=True).post(url).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


@pytest.mark.django_db
def test_an_import_that_failed_on_its_content_offers_no_retry(world: World, eager: None) -> None:
    job = ImportJob.objects.create(created_by=world.admin, filename="train.jsonl", upload=b'{"question": "Q"}\n')
    import_job_task.apply(args=[job.pk]).get()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.upload is None  # the same file would fail the same way
    client = client_for(world.admin)
    assert 'id="retry-form"' not in client.get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert client.post(reverse("admin_import_job_retry", args=[job.pk])).status_code == 409
    assert client.post(reverse("admin_import_job_retry", args=[job.pk + 1000])).status_code == 404


# --- with real workers ----------------------------------------------------------------------------------------------


def _worker_env(soft_limit: int, hard_limit: int) -> dict[str, str]:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_SOFT_TIME_LIMIT": str(soft_limit),
        "CELERY_TASK_TIME_LIMIT": str(hard_limit),
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "1",
        "TUTOR_LLM_BACKEND": "none",
    }


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "tutor", "worker", "--pool", "prefork", "--concurrency", "1"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]
    with log.open("ab") as out:
        # A session of its own, so the worker and its pool's child can be killed together.
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out, start_new_session=True)


def _wait_for(check, timeout: float, what: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-4000:]}")


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_is_answered_by_the_redelivered_task_and_the_retry_imports(
    shared_data: Path, tmp_path: Path
) -> None:
    """The whole story with real Celery workers on Redis: a worker dies mid-import (SIGKILL, as the kernel's
    out-of-memory killer would); the job stays "importing"; once the visibility timeout has passed the broker gives
    the task to a new worker, which fails the job with the reason; the admin's retry imports the stored upload.

    The workers run with a 4-second hard time limit, so the visibility timeout (time limit + 60 s) passes in about a
    minute."""
    require(bool(settings.REDIS_URL) and connection.vendor == "postgresql", "Redis and PostgreSQL")
    admin = User.objects.create_user(
        username="a-erin", password="a-long-test-password", role=User.Role.ADMIN, is_staff=True
    )
    upload = gsm8k_upload(shared_data, lines=None)  # 1,319 problems: seconds of work, time to kill it midway
    job = ImportJob.objects.create(created_by=admin, filename="test_socratic.jsonl", upload=upload)
    env = _worker_env(soft_limit=3, hard_limit=4)
    log = tmp_path / "worker.log"
    celery_app.control.purge()
    first = _start_worker(env, log)
    try:
        # A task carries the sender's time limits; these match the workers' settings.
        import_job_task.apply_async(args=[job.pk], soft_time_limit=3, time_limit=4)
        delivered = time.monotonic()
        _wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).exists(), 60, "the claim", log
        )
    finally:
        _stop(first)
    time.sleep(1)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING  # what a dead worker leaves behind

    visibility = 4 + 60
    time.sleep(max(0.0, delivered + visibility + 2 - time.monotonic()))
    second = _start_worker(env, log)  # a new worker sweeps for overdue tasks as it starts
    try:
        _wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.FAILED).exists(),
            90,
            "the redelivered task to fail the job",
            log,
        )
    finally:
        _stop(second)
        celery_app.control.purge()
    assert_failed_as_abandoned(job)

    eager_before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the retry's import runs here, without the workers' short limits
    try:
        client = client_for(admin)
        assert client.post(reverse("admin_import_job_retry", args=[job.pk])).status_code == 302
    finally:
        celery_app.conf.task_always_eager = eager_before
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.counts["problems_created"] == 1319, job.summary


@pytest.mark.django_db(transaction=True)
def test_an_import_past_the_soft_time_limit_fails_with_the_limit_and_can_be_retried(
    shared_data: Path, tmp_path: Path
) -> None:
    """A real worker whose soft time limit (1 s) stops a 1,319-problem import midway: the job fails naming the limit,
    writes nothing, and keeps the file for a retry."""
    require(bool(settings.REDIS_URL) and connection.vendor == "postgresql", "Redis and PostgreSQL")
    admin = User.objects.create_user(
        username="a-erin", password="a-long-test-password", role=User.Role.ADMIN, is_staff=True
    )
    job = ImportJob.objects.create(
        created_by=admin, filename="test_socratic.jsonl", upload=gsm8k_upload(shared_data, lines=None)
    )
    log = tmp_path / "worker.log"
    celery_app.control.purge()
    worker = _start_worker(_worker_env(soft_limit=1, hard_limit=60), log)
    try:
        import_job_task.apply_async(args=[job.pk], soft_time_limit=1, time_limit=60)
        _wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.FAILED).exists(), 90, "the limit", log
        )
    finally:
        _stop(worker)
        celery_app.control.purge()
    job.refresh_from_db()
    assert [e["code"] for e in job.report["errors"]] == ["time-limit"], job.report
    assert "ran past the 1-second time limit" in job.report["errors"][0]["reason"]
    assert bytes(job.upload or b"") and not ProblemSet.objects.exists()
    page = client_for(admin).get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert "1-second time limit" in page and 'id="retry-form"' in page
