"""Teachers rewrite tutor turns from the session page (htmx); the rewrite shows under the turn."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from .. import permissions, services
from ..models import Turn, User
from ._access import teacher_or_admin_required


@require_POST
@teacher_or_admin_required
def turn_correction(request: HttpRequest, turn_id: int) -> HttpResponse:
    turn = get_object_or_404(Turn.objects.select_related("session", "session__student"), pk=turn_id)
    if not permissions.can_correct_turns(request.user, turn.session):
        raise Http404("No such turn.")
    assert isinstance(request.user, User)
    error = ""
    try:
        services.turn_correct(
            turn=turn, author=request.user, text=request.POST.get("text", ""), note=request.POST.get("note", "")
        )
    except services.ServiceError as exc:
        error = str(exc)
    return render(
        request,
        "sessions/_turn.html",
        {"turn": turn, "can_correct": True, "correction_error": error},
        status=400 if error else 200,
    )
