"""The admin page for importing problem sets: upload a file, watch the import, read its report."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..content.importers import IMPORTERS
from ..content.jobs import import_job_create, import_job_preview_read, import_job_retry, import_job_store
from ..content.safety import MAX_UPLOAD_BYTES, MIB
from ..models import ImportJob
from ..problem_preview import ladder_rows, preview_turns, problem_from_doc
from ..tasks import import_job_task
from ._access import admin_required

# Issues shown on the page per list; the report keeps more, and the command line's --report writes them all.
SHOWN_ISSUES = 200


class ImportForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text=f"YAML, JSON, CSV, jsonl or a zip of an OATutor content pool; at most {MAX_UPLOAD_BYTES // MIB} MiB.",
    )
    format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=[("", "Detect from the file"), *((name, imp.label) for name, imp in IMPORTERS.items())],
    )
    set_name = forms.CharField(
        label="Problem set name",
        required=False,
        max_length=200,
        help_text="Optional. Importing again under the same name updates that set.",
    )
    preview = forms.BooleanField(
        label="Preview before storing",
        required=False,
        initial=True,
        help_text="Read and check the file, then show each problem as students will see it; store it from there.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"The file is {upload.size / MIB:.1f} MiB; the limit is {MAX_UPLOAD_BYTES // MIB} MiB.",
                code="too_large",
            )
        return upload


@require_http_methods(["GET", "POST"])
@admin_required
def imports(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_job_create(
            created_by=request.user,  # type: ignore[arg-type]
            filename=upload.name or "upload",
            content=upload.read(),
            fmt=form.cleaned_data["format"],
            set_name=form.cleaned_data["set_name"],
            preview_only=form.cleaned_data["preview"],
        )
        # Without a worker (no REDIS_URL) this runs the import right here; with one it only queues it.
        import_job_task.delay(job.pk)
        return redirect(job)
    jobs = ImportJob.objects.select_related("created_by", "problem_set").defer("upload", "report")[:20]
    return render(request, "imports/index.html", {"form": form, "jobs": jobs}, status=400 if form.errors else 200)


@require_GET
@admin_required
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.defer("upload").select_related("problem_set"), pk=job_id)
    report = job.report or {}
    # A failed job keeps its upload only when running it again could end differently (its worker died, a time limit).
    can_retry = (
        job.status == ImportJob.Status.FAILED and ImportJob.objects.filter(pk=job.pk, upload__isnull=False).exists()
    )
    # A finished preview keeps its upload only when the file had no errors, so it can be stored.
    can_store = (
        job.preview_only
        and job.status == ImportJob.Status.DONE
        and ImportJob.objects.filter(pk=job.pk, upload__isnull=False).exists()
    )
    context = {
        "job": job,
        "can_retry": can_retry,
        "can_store": can_store,
        "preview_problems": report.get("preview_problems", []) if can_store else [],
        "report": report,
        "errors": report.get("errors", [])[:SHOWN_ISSUES],
        "warnings": report.get("warnings", [])[:SHOWN_ISSUES],
        "warning_codes": sorted(report.get("warning_codes", {}).items(), key=lambda kv: -kv[1]),
        "counts": [(name.replace("_", " ").capitalize(), value) for name, value in (job.counts or {}).items()],
        "shown": SHOWN_ISSUES,
    }
    template = "imports/_job.html" if getattr(request, "htmx", False) else "imports/job.html"
    return render(request, template, context)


@require_POST
@admin_required
def retry_import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """Run a failed import again from its stored upload."""
    job = get_object_or_404(ImportJob.objects.only("pk"), pk=job_id)
    if not import_job_retry(job_id=job.pk):
        return _conflict(
            "This import cannot be retried: only a failed import whose uploaded file is still stored can be."
        )
    import_job_task.delay(job.pk)
    return redirect(job)


@require_GET
@admin_required
def import_preview_problem(request: HttpRequest, job_id: int, number: int) -> HttpResponse:
    """Problem ``number`` (from 1) of a previewed file as students will see it, read again from the kept upload."""
    job = get_object_or_404(ImportJob, pk=job_id)
    result = import_job_preview_read(job)
    if result is None or result.doc is None:
        raise Http404("This import has no preview to show.")
    if not 1 <= number <= len(result.doc.problems):
        raise Http404("The file has no such problem.")
    doc = result.doc.problems[number - 1]
    problem = problem_from_doc(doc)
    context = {
        "job": job,
        "number": number,
        "problem_count": len(result.doc.problems),
        # Shaped as the statement template expects a stored problem.
        "problem": {"title": doc.title, "text": doc.text, "problem_set": result.doc.set},
        "steps": ladder_rows(problem),
        "turns": preview_turns(problem),
    }
    return render(request, "imports/preview_problem.html", context)


@require_POST
@admin_required
def store_import_preview(request: HttpRequest, job_id: int) -> HttpResponse:
    """Import the previewed file: the same job, with its kept upload, runs as an ordinary import."""
    job = get_object_or_404(ImportJob.objects.only("pk"), pk=job_id)
    if not import_job_store(job_id=job.pk):
        return _conflict(
            "This file cannot be stored from here: only a finished preview of a file without errors can be."
        )
    import_job_task.delay(job.pk)
    return redirect(job)


def _conflict(message: str) -> HttpResponse:
    """409: the job is not in a state the action applies to (plain text, never rendered as markup)."""
    return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
