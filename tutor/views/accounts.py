from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from .. import ratelimit, services
from ..forms import LogInForm, StudentSignupForm


def _signup_rate_limited(request: HttpRequest) -> bool:
    key = f"signup:{ratelimit.client_address(request)}"
    return not ratelimit.hit(key, limit=settings.AUTH_RATE_LIMIT, window_seconds=settings.AUTH_RATE_WINDOW_SECONDS)


def _too_many(request: HttpRequest, *, reason: str, wait_seconds: int) -> HttpResponse:
    context = {"reason": reason, "wait_minutes": max(1, -(-wait_seconds // 60))}
    response = render(request, "errors/429.html", context, status=429)
    response["Retry-After"] = str(wait_seconds)
    return response


def _log_in_locked_out(request: HttpRequest) -> bool:
    return ratelimit.log_in_locked_out(
        username=str(request.POST.get("username", "")), address=ratelimit.client_address(request)
    )


def _too_many_failed_log_ins(request: HttpRequest) -> HttpResponse:
    # One message for a locked username and a locked address alike, worded the same whether or not the username
    # exists, and shown before the password is even checked.
    return _too_many(
        request,
        reason="Too many failed log-ins for this username or from your network.",
        wait_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS,
    )


class LimitedLoginView(LoginView):
    """The app's log-in page: a locked-out attempt is refused before its password is checked (429)."""

    template_name = "accounts/login.html"
    authentication_form = LogInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if _log_in_locked_out(request):
            return _too_many_failed_log_ins(request)
        return super().post(request, *args, **kwargs)


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """The Django admin's log-in page under the same limit; its form counts failures like the app's (tutor/urls.py)."""
    if request.method == "POST" and _log_in_locked_out(request):
        return _too_many_failed_log_ins(request)
    return admin.site.login(request)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Students create their own accounts; teachers are created by admins."""
    if request.user.is_authenticated:
        return redirect("home")
    form = StudentSignupForm(request.POST or None, initial={"join_code": request.GET.get("code", "")})
    if request.method == "POST":
        if _signup_rate_limited(request):
            return _too_many(
                request,
                reason="Too many sign-ups from your network.",
                wait_seconds=settings.AUTH_RATE_WINDOW_SECONDS,
            )
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
