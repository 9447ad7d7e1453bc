"""Import services: read any supported input, store it all or nothing, and run the admin page's upload jobs."""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError
from django.db.models.functions import Now
from django.utils import timezone

from knowledge_graph.services import SkillGraphError

from ..models import ImportJob, User
from .base import Progress
from .errors import ImportReport
from .importers import ImportResult, read_content
from .store import ImportSummary, problem_set_import

logger = logging.getLogger(__name__)


@dataclass
class ImportOutcome:
    report: ImportReport
    summary: ImportSummary | None

    @property
    def ok(self) -> bool:
        return self.summary is not None and self.report.ok

    def report_dict(self) -> dict[str, Any]:
        return self.report.as_dict()

    def line(self) -> str:
        """One line for people: what was stored, or why nothing was."""
        if self.summary is not None:
            return self.summary.line()
        return (
            f"{self.report.source}: nothing imported; {self.report.error_count} errors, "
            f"{self.report.warning_count} warnings"
        )

    def counts(self) -> dict[str, int]:
        s = self.summary
        counts = {
            "records": self.report.records,
            "errors": self.report.error_count,
            "warnings": self.report.warning_count,
        }
        if s is not None:
            counts |= {
                "problems": s.problems,
                "problems_created": s.problems_created,
                "problems_updated": s.problems_updated,
                "problems_versioned": s.problems_versioned,
                "problems_unchanged": s.problems_unchanged,
                "steps": s.steps,
                "hints": s.hints,
                "scaffolds": s.scaffolds,
                "skills": s.skills,
            }
        return counts


# Problems a preview's report lists (title, slug, steps); the preview pages reach every problem of the file anyway.
PREVIEW_LISTED = 1000


@dataclass
class PreviewOutcome:
    """What reading a file for a preview found: the same report an import gives, and the problems it would store."""

    result: ImportResult

    @property
    def report(self) -> ImportReport:
        return self.result.report

    @property
    def ok(self) -> bool:
        return self.result.doc is not None and self.report.ok

    def line(self) -> str:
        doc = self.result.doc
        if doc is None:
            return (
                f"{self.report.source}: nothing to store; {self.report.error_count} errors, "
                f"{self.report.warning_count} warnings"
            )
        return (
            f"{self.report.source}: {len(doc.problems):,} problems read for a preview; nothing stored yet "
            f"({self.report.warning_count} warnings)"
        )

    def counts(self) -> dict[str, int]:
        counts = {
            "records": self.report.records,
            "errors": self.report.error_count,
            "warnings": self.report.warning_count,
        }
        doc = self.result.doc
        if doc is not None:
            steps = [step for problem in doc.problems for step in problem.steps]
            counts |= {
                "problems": len(doc.problems),
                "steps": len(steps),
                "hints": sum(len(step.hints) for step in steps),
            }
        return counts

    def report_dict(self) -> dict[str, Any]:
        listed = [] if self.result.doc is None else self.result.doc.problems[:PREVIEW_LISTED]
        return self.report.as_dict() | {
            "preview_problems": [
                {"number": number, "slug": p.slug, "title": p.title, "steps": len(p.steps)}
                for number, p in enumerate(listed, start=1)
            ]
        }


def import_path(
    *,
    path: Path,
    fmt: str | None = None,
    set_name: str = "",
    limit: int | None = None,
    source: str | None = None,
    boundary: Path | None = None,
    created_by: User | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Read ``path`` and store it. Any error in the input, or an edge that would close a cycle in the skill graph,
    means nothing is written; the report says what and where."""
    result = read_content(
        path, fmt=fmt, set_name=set_name, limit=limit, source=source, boundary=boundary, progress=progress
    )
    report = result.report
    if result.doc is None:
        return ImportOutcome(report, None)
    if progress is not None:
        progress(f"storing {len(result.doc.problems):,} problems")
    try:
        summary = problem_set_import(result.doc, created_by=created_by, progress=progress)
    except SkillGraphError as exc:
        report.error(report.source, "skills", str(exc), code="skill-graph")
        return ImportOutcome(report, None)
    summary.warning_count = report.warning_count
    return ImportOutcome(report, summary)


def safe_filename(name: str) -> str:
    """The uploaded file's base name, reduced to characters that are safe in a path (the suffix is kept)."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._")[:120]
    return cleaned or "upload"


def import_job_create(
    *, created_by: User, filename: str, content: bytes, fmt: str = "", set_name: str = "", preview_only: bool = False
) -> ImportJob:
    return ImportJob.objects.create(
        created_by=created_by,
        filename=safe_filename(filename),
        format=fmt,
        set_name=set_name.strip(),
        upload=content,
        preview_only=preview_only,
    )


@contextmanager
def _upload_on_disk(job: ImportJob) -> Iterator[Path]:
    """The job's upload written into a temporary folder of its own, which bounds where the readers may look."""
    with tempfile.TemporaryDirectory(prefix="tutor-upload-") as tmp:
        path = Path(tmp) / safe_filename(job.filename)
        path.write_bytes(bytes(job.upload or b""))
        yield path


def _read_upload(job: ImportJob, path: Path, progress: Progress | None = None) -> ImportResult:
    return read_content(
        path,
        fmt=job.format or None,
        set_name=job.set_name,
        source=path.name,
        boundary=path.parent,
        progress=progress,
    )


def import_job_preview_read(job: ImportJob) -> ImportResult | None:
    """Read a finished preview's kept upload again, exactly as its import will; None when there is nothing to read
    (not a preview, not finished, or the upload is gone)."""
    if not (job.preview_only and job.status == ImportJob.Status.DONE and job.upload is not None):
        return None
    with _upload_on_disk(job) as path:
        return _read_upload(job, path)


def import_job_store(*, job_id: int) -> bool:
    """Turn a finished preview into a waiting import of the same upload (the caller queues its task); False when the
    job is not a finished preview with its upload. The job stays one row, so its page follows the file from preview to
    import, and the conditional update lets a second press store nothing twice."""
    return bool(
        ImportJob.objects.filter(
            pk=job_id, preview_only=True, status=ImportJob.Status.DONE, upload__isnull=False
        ).update(preview_only=False, **_queued_again("waiting to import"))
    )


def _set_progress(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(progress=message[:200])


# How long past the task's hard time limit a job may still show as running before it counts as abandoned. Celery
# kills a task at the hard limit, so by then no worker is running it; the margin covers the moments between the
# claim and the task's start. Times come from the database's clock, so workers' clocks do not matter.
STALE_MARGIN = timedelta(seconds=30)


def _stale_before() -> Any:
    """The start time before which a running job has outlived any worker.

    Start times are this app's clock, written and compared as the same Python values: a time the database writes
    itself (``Now()``) is stored with another precision on SQLite, where times are text, and would then never equal
    the value read back."""
    return timezone.now() - (timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + STALE_MARGIN)


def _failed_report(job: ImportJob, reason: str, code: str) -> ImportOutcome:
    report = ImportReport(source=job.filename, format=job.format)
    report.error(job.filename, "", reason, code=code)
    return ImportOutcome(report, None)


def _abandoned_reason() -> str:
    return (
        "the import did not finish: the worker running it stopped (it was restarted, ran out of memory, or was "
        f"killed at the {settings.CELERY_TASK_TIME_LIMIT}-second time limit); nothing was written. The uploaded "
        "file is kept: an admin can retry the import"
    )


def import_jobs_fail_abandoned(*, job_id: int | None = None) -> int:
    """Fail the running jobs that no worker can still be running (started longer ago than the task's hard time
    limit), keeping their uploads so an admin can retry them; return how many. Only ``job_id`` when given.

    Run periodically by beat, and by a task the broker delivers again because its worker died mid-import.
    """
    running = ImportJob.objects.filter(status=ImportJob.Status.RUNNING, started_at__lt=_stale_before())
    if job_id is not None:
        running = running.filter(pk=job_id)
    failed = 0
    for job in running.defer("upload", "report"):
        outcome = _failed_report(job, _abandoned_reason(), "worker-lost")
        # Conditional on the same run: a job retried meanwhile is left alone.
        same_run = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING, started_at=job.started_at)
        updated = same_run.update(
            status=ImportJob.Status.FAILED,
            summary=outcome.line(),
            counts=outcome.counts(),
            report=outcome.report.as_dict(),
            progress="",
            finished_at=Now(),
        )
        if updated:
            logger.warning("import job %s was abandoned by its worker; marked failed", job.pk)
        failed += updated
    return failed


def _queued_again(progress: str) -> dict[str, Any]:
    """The fields of a job sent back to the queue with its kept upload: waiting, with no trace of its last run."""
    return {
        "status": ImportJob.Status.PENDING,
        "progress": progress,
        "summary": "",
        "counts": {},
        "report": {},
        "problem_set": None,
        "started_at": None,
        "finished_at": None,
    }


def import_job_retry(*, job_id: int) -> bool:
    """Queue a failed job again with its stored upload; False when it cannot be retried (not failed, or its upload
    was released because the file itself had errors)."""
    return bool(
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.FAILED, upload__isnull=False).update(
            **_queued_again("waiting to retry")
        )
    )


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a waiting import job; None when it is not waiting (already run, running elsewhere, or gone).

    The job is claimed with a conditional update, so a task delivered twice imports once. A job still marked
    running long after any worker could be running it was abandoned by a worker that died (the broker delivers its
    task again): it is failed with the reason, and an admin can retry it.
    """
    started = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=started, progress="starting"
    )
    if not claimed:
        if import_jobs_fail_abandoned(job_id=job_id):
            return ImportJob.objects.defer("upload").get(pk=job_id)
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    keep_upload = False
    outcome: ImportOutcome | PreviewOutcome
    try:
        with _upload_on_disk(job) as path:
            if job.preview_only:
                outcome = PreviewOutcome(_read_upload(job, path, lambda message: _set_progress(job_id, message)))
                # A preview that can be stored keeps its file for the preview pages and the import.
                keep_upload = outcome.ok
            else:
                outcome = import_path(
                    path=path,
                    fmt=job.format or None,
                    set_name=job.set_name,
                    source=path.name,
                    boundary=path.parent,
                    created_by=job.created_by,
                    progress=lambda message: _set_progress(job_id, message),
                )
    except OperationalError:
        # The database went away: put the job back so the task's retry can run it again (nothing was written).
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.PENDING, progress="waiting to retry")
        raise
    except SoftTimeLimitExceeded:
        keep_upload = True
        outcome = _failed_report(
            job,
            f"the import ran past the {settings.CELERY_TASK_SOFT_TIME_LIMIT}-second time limit and was stopped; "
            "nothing was written. The uploaded file is kept: retry when the workers are less busy, or import it "
            "with the import_problems command, which has no time limit",
            "time-limit",
        )
    except Exception:
        logger.exception("import job %s stopped", job_id)
        keep_upload = True
        outcome = _failed_report(
            job, "the import stopped unexpectedly; nothing was written. The uploaded file is kept", "internal"
        )
    # The upload is released once it has served: kept only when running it again could end differently.
    finished = {
        "status": ImportJob.Status.DONE if outcome.ok else ImportJob.Status.FAILED,
        "problem_set": (
            outcome.summary.problem_set if isinstance(outcome, ImportOutcome) and outcome.summary is not None else None
        ),
        "summary": outcome.line(),
        "counts": outcome.counts(),
        "report": outcome.report_dict(),
        "progress": "",
        "finished_at": Now(),
        **({} if keep_upload else {"upload": None}),
    }
    # Only this run may finish the job: one failed as abandoned (and perhaps retried) meanwhile is not touched.
    if not ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING, started_at=started).update(**finished):
        logger.warning("import job %s was marked abandoned while it ran; its result is not recorded", job_id)
    return ImportJob.objects.defer("upload").get(pk=job_id)
