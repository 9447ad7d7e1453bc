"""Small helpers that turn permission answers into HTTP responses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from .. import permissions
from ..models import Classroom

View = TypeVar("View", bound=Callable[..., HttpResponse])


def role_required(check: Callable[[Any], bool]) -> Callable[[View], View]:
    """Anonymous users go to the log-in page; a signed-in user of the wrong role gets 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


student_required = role_required(permissions.is_student)
teacher_required = role_required(permissions.is_teacher)
admin_required = role_required(permissions.is_admin)
teacher_or_admin_required = role_required(lambda u: permissions.is_teacher(u) or permissions.is_admin(u))


def managed_class(request: HttpRequest, class_id: int) -> Classroom:
    """The class, if the user teaches it (or is an admin); 403 otherwise, 404 if there is no such class."""
    classroom = get_object_or_404(Classroom.objects.select_related("teacher"), pk=class_id)
    if not permissions.can_manage_class(request.user, classroom):
        raise PermissionDenied
    return classroom
