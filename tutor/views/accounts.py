from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .. import ratelimit, services
from ..forms import StudentSignupForm


def _rate_limited(request: HttpRequest, action: str) -> bool:
    key = f"{action}:{ratelimit.client_address(request)}"
    return not ratelimit.hit(key, limit=settings.AUTH_RATE_LIMIT, window_seconds=settings.AUTH_RATE_WINDOW_SECONDS)


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/429.html", status=429)


class RateLimitedLoginView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if _rate_limited(request, "login"):
            return _too_many(request)
        return super().post(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Students create their own accounts; teachers are created by admins."""
    if request.user.is_authenticated:
        return redirect("home")
    form = StudentSignupForm(request.POST or None, initial={"join_code": request.GET.get("code", "")})
    if request.method == "POST":
        if _rate_limited(request, "signup"):
            return _too_many(request)
        if form.is_valid():
            try:
                user = services.student_signup(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                    join_code=form.cleaned_data["join_code"],
                )
            except services.ServiceError as exc:
                form.add_error("join_code", str(exc))
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome, {user.username}!")
                return redirect("home")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)
