"""CSV downloads of a class's sessions, turns and mastery, for the class's teacher (and admins)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from .. import exports, ratelimit, selectors
from ..models import Classroom
from ..session_figures import figures_refresh_stale
from ._access import managed_class, teacher_or_admin_required

EXPORTS_PER_WINDOW, EXPORT_WINDOW_SECONDS = 30, 600


def _over_limit(request: HttpRequest) -> HttpResponse | None:
    """The 429 page once a user has downloaded too often; checked before any of the export's work is done."""
    if ratelimit.hit(f"export:{request.user.pk}", limit=EXPORTS_PER_WINDOW, window_seconds=EXPORT_WINDOW_SECONDS):
        return None
    return render(request, "errors/429.html", status=429)


def _csv_response(
    classroom: Classroom,
    what: str,
    header: list[str],
    rows: Callable[..., Iterator[list[Any]]],
) -> HttpResponse:
    filename = f"{slugify(classroom.name) or 'class'}-{what}-{timezone.localdate():%Y-%m-%d}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    exports.write_csv(response, header, rows(classroom=classroom))
    return response


@require_GET
@teacher_or_admin_required
def export_sessions(request: HttpRequest, class_id: int) -> HttpResponse:
    classroom = managed_class(request, class_id)
    if (refused := _over_limit(request)) is not None:
        return refused
    figures_refresh_stale(sessions=selectors.class_sessions(classroom=classroom))
    return _csv_response(classroom, "sessions", exports.SESSION_HEADER, exports.session_rows)


@require_GET
@teacher_or_admin_required
def export_turns(request: HttpRequest, class_id: int) -> HttpResponse:
    classroom = managed_class(request, class_id)
    if (refused := _over_limit(request)) is not None:
        return refused
    count = exports.turn_count(classroom=classroom)
    if count > exports.MAX_EXPORT_ROWS:
        return HttpResponse(
            f"This class has {count} turns, more than one download carries ({exports.MAX_EXPORT_ROWS}). "
            "Export the sessions instead, or ask an administrator for a database export.",
            status=413,
            content_type="text/plain; charset=utf-8",
        )
    return _csv_response(classroom, "turns", exports.TURN_HEADER, exports.turn_rows)


@require_GET
@teacher_or_admin_required
def export_mastery(request: HttpRequest, class_id: int) -> HttpResponse:
    classroom = managed_class(request, class_id)
    if (refused := _over_limit(request)) is not None:
        return refused
    return _csv_response(classroom, "mastery", exports.MASTERY_HEADER, exports.mastery_rows)
