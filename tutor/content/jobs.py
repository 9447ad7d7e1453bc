"""Import services: read any supported input, store it all or nothing, and run the admin page's upload jobs."""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import OperationalError
from django.utils import timezone

from knowledge_graph.services import SkillGraphError

from ..models import ImportJob, User
from .base import Progress
from .errors import ImportReport
from .importers import read_content
from .store import ImportSummary, problem_set_import

logger = logging.getLogger(__name__)


@dataclass
class ImportOutcome:
    report: ImportReport
    summary: ImportSummary | None

    @property
    def ok(self) -> bool:
        return self.summary is not None and self.report.ok

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
    *, created_by: User, filename: str, content: bytes, fmt: str = "", set_name: str = ""
) -> ImportJob:
    return ImportJob.objects.create(
        created_by=created_by,
        filename=safe_filename(filename),
        format=fmt,
        set_name=set_name.strip(),
        upload=content,
    )


def _set_progress(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(progress=message[:200])


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a waiting import job; None when it is not waiting (already run, running elsewhere, or gone).

    The job is claimed with a conditional update, so a task delivered twice imports once.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), progress="starting"
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    try:
        with tempfile.TemporaryDirectory(prefix="tutor-upload-") as tmp:
            folder = Path(tmp)
            path = folder / safe_filename(job.filename)
            path.write_bytes(bytes(job.upload or b""))
            outcome = import_path(
                path=path,
                fmt=job.format or None,
                set_name=job.set_name,
                source=path.name,
                boundary=folder,
                created_by=job.created_by,
                progress=lambda message: _set_progress(job_id, message),
            )
    except OperationalError:
        # The database went away: put the job back so the task's retry can run it again (nothing was written).
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.PENDING, progress="waiting to retry")
        raise
    except Exception:
        logger.exception("import job %s stopped", job_id)
        report = ImportReport(source=job.filename)
        report.error(job.filename, "", "the import stopped unexpectedly; nothing was written", code="internal")
        outcome = ImportOutcome(report, None)
    job.status = ImportJob.Status.DONE if outcome.ok else ImportJob.Status.FAILED
    job.problem_set = outcome.summary.problem_set if outcome.summary is not None else None
    job.summary = outcome.line()
    job.counts = outcome.counts()
    job.report = outcome.report.as_dict()
    job.progress = ""
    job.upload = None
    job.finished_at = timezone.now()
    job.save()
    return job
