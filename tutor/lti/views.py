"""The LTI 1.3 endpoints a platform calls: OIDC log-in initiation, launch, deep-linking return, and the tool's JWKS.

The log-in and the launch arrive as cross-site requests from the platform, so they are CSRF-exempt: their forgery
protection is the OIDC state (a cookie set at log-in and checked at launch) and the signed id_token's nonce, which
pylti1p3 checks and which is spent here on first use. The problem-set picker posts from the tutor's own page and keeps
Django's CSRF check.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

# The submodules, not pylti1p3.contrib.django itself: that package also imports a Django app of its own models.
from pylti1p3.contrib.django.launch_data_storage.cache import DjangoCacheDataStorage
from pylti1p3.contrib.django.message_launch import DjangoMessageLaunch
from pylti1p3.contrib.django.oidc_login import DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem

from .. import ratelimit
from ..middleware import CONTENT_SECURITY_POLICY
from ..models import LtiIdentity, LtiPlatform, ProblemSet
from ..views._access import teacher_required
from .keys import LtiKeyMissing, tool_jwks
from .services import PROBLEM_SET_PARAM, LaunchRefused, lti_deep_link_prepare, lti_launch_accept
from .tool_config import DatabaseToolConf, platform_find

logger = logging.getLogger(__name__)
DEEP_LINK_SESSION_KEY = "lti_deep_link_launch_id"


class LaunchStorage(DjangoCacheDataStorage):
    """Launch state in the cache, not the Django session: the launch POST is cross-site and may carry no session."""

    def consume(self, key: str) -> bool:
        """Delete a key and say whether it was there; the cache's delete is atomic, so only one caller wins."""
        return bool(self._get_cache().delete(self._prepare_key(key)))  # type: ignore[no-untyped-call]


class ToolMessageLaunch(DjangoMessageLaunch):
    """pylti1p3's launch, with a nonce that works once and a pasted platform key that needs no matching kid."""

    def validate_nonce(self) -> ToolMessageLaunch:
        super().validate_nonce()
        nonce = str(self._get_jwt_body().get("nonce"))
        storage = self._session_service.data_storage
        # pylti1p3 checks that the nonce was issued at log-in but never retires it; spending it refuses a replay.
        if not isinstance(storage, LaunchStorage) or not storage.consume(f"lti1p3-nonce-{nonce}"):
            raise LtiException("Invalid Nonce")
        return self

    def get_public_key(self) -> tuple[str, str]:
        registration = self._registration
        platform = platform_find(self.get_iss(), self.get_client_id())
        if registration is not None and platform is not None and platform.public_key:
            return platform.public_key, "RS256"
        return super().get_public_key()


def _storage() -> LaunchStorage:
    return LaunchStorage(cache_name="default")  # type: ignore[no-untyped-call]


def _refuse(status: int, message: str) -> HttpResponse:
    # Plain text: the message may quote what the platform sent, and text/plain is never rendered as markup.
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


# A class launching together stays far below this; a flood of forged launches (each a signature check) does not.
LTI_REQUESTS_PER_MINUTE = 120


def _flooded(request: HttpRequest) -> bool:
    return not ratelimit.hit(
        f"lti:{ratelimit.client_address(request)}", limit=LTI_REQUESTS_PER_MINUTE, window_seconds=60
    )


def _launch_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("lti_launch"))


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def lti_login(request: HttpRequest) -> HttpResponse:
    """Third-party-initiated log-in: remember a state and a nonce, then send the browser to the platform."""
    if _flooded(request):
        return _refuse(429, "Too many LTI requests from your network; wait a minute, then try again.")
    try:
        oidc = DjangoOIDCLogin(request, DatabaseToolConf())  # type: ignore[no-untyped-call]
        oidc.set_launch_data_storage(_storage())  # the constructor keeps the storage but does not use it
        oidc.set_launch_data_lifetime(settings.LTI_LAUNCH_DATA_LIFETIME_SECONDS)
        # Always our own launch URL, whatever target_link_uri asks: the platform checks it against the registration.
        response: HttpResponse = oidc.redirect(_launch_url(request))
        return response
    except LtiKeyMissing:
        return _refuse(503, "LTI is not configured on this server.")
    except (LtiException, OIDCException) as exc:
        return _refuse(400, f"LTI log-in refused: {exc}")


def _verified_launch(request: HttpRequest) -> tuple[ToolMessageLaunch, LtiPlatform, dict[str, Any]]:
    launch = ToolMessageLaunch(request, DatabaseToolConf(), launch_data_storage=_storage())  # type: ignore[no-untyped-call]
    launch.set_launch_data_lifetime(settings.LTI_LAUNCH_DATA_LIFETIME_SECONDS)
    claims = launch.get_launch_data()  # runs every check: state, signature, audience, expiry, nonce, deployment
    platform = platform_find(launch.get_iss(), launch.get_client_id())
    if platform is None:
        raise LtiException("Registration not found.")
    return launch, platform, dict(claims)


@csrf_exempt
@never_cache
@require_POST
def lti_launch(request: HttpRequest) -> HttpResponse:
    """A platform's signed launch: sign the user in, join the course's class, then open the set or the picker."""
    if _flooded(request):
        return _refuse(429, "Too many LTI requests from your network; wait a minute, then try again.")
    try:
        launch, platform, claims = _verified_launch(request)
    except LtiKeyMissing:
        return _refuse(503, "LTI is not configured on this server.")
    except LtiException as exc:
        logger.info("LTI launch refused: %s", exc)
        return _refuse(403, f"LTI launch refused: {exc}")
    try:
        if launch.is_deep_link_launch():
            outcome = lti_deep_link_prepare(platform=platform, claims=claims)
        else:
            outcome = lti_launch_accept(platform=platform, claims=claims)
    except LaunchRefused as exc:
        return _refuse(403, str(exc))
    login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
    if launch.is_deep_link_launch():
        # Set after log-in, which starts a fresh session; the picker's POST reads it back from this session only.
        request.session[DEEP_LINK_SESSION_KEY] = launch.get_launch_id()
        return redirect("lti_deep_link")
    return redirect(outcome.destination)


@never_cache
@teacher_required
@require_http_methods(["GET", "POST"])
def lti_deep_link(request: HttpRequest) -> HttpResponse:
    """The instructor picks a problem set; the signed reply goes back to the platform through the browser."""
    launch_id = request.session.get(DEEP_LINK_SESSION_KEY)
    if not launch_id:
        return _refuse(400, "Start from your course: add the tutor as external content there.")
    try:
        launch = ToolMessageLaunch.from_cache(launch_id, request, DatabaseToolConf(), launch_data_storage=_storage())
    except LtiKeyMissing:
        return _refuse(503, "LTI is not configured on this server.")
    except LtiException:
        return _refuse(400, "This course request has expired; start again from your course.")
    claims = launch.get_launch_data()
    platform = platform_find(launch.get_iss(), launch.get_client_id())
    if (
        platform is None
        or not LtiIdentity.objects.filter(
            platform=platform, subject=str(claims.get("sub")), user_id=int(request.user.pk or 0)
        ).exists()
    ):
        raise PermissionDenied  # a launch that is not this user's
    problem_sets = ProblemSet.objects.filter(problems__is_current=True).distinct().order_by("title")
    if request.method == "GET":
        return render(request, "lti/deep_link_pick.html", {"problem_sets": problem_sets})
    problem_set = get_object_or_404(problem_sets, pk=_int_or_none(request.POST.get("problem_set")))
    count = problem_set.problems.filter(is_current=True).count()
    resource = (
        DeepLinkResource()
        .set_url(_launch_url(request))
        .set_title(problem_set.title)
        .set_custom_params({PROBLEM_SET_PARAM: problem_set.slug})
        .set_lineitem(LineItem().set_score_maximum(count).set_label(problem_set.title))
    )
    deep_link = launch.get_deep_link()
    response_jwt = deep_link.get_response_jwt([resource])
    return_url = str(
        (claims.get("https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings") or {}).get(
            "deep_link_return_url", ""
        )
    )
    target = urlsplit(return_url)
    if target.scheme not in {"http", "https"} or not target.netloc:
        return _refuse(400, "The platform gave no valid return address.")
    del request.session[DEEP_LINK_SESSION_KEY]
    response = render(
        request,
        "lti/deep_link_return.html",
        {"problem_set": problem_set, "return_url": return_url, "jwt": response_jwt},
    )
    # The reply form posts to the platform, which the site-wide policy (form-action 'self') would block.
    origin = f"{target.scheme}://{target.netloc}"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@require_GET
def lti_jwks(request: HttpRequest) -> HttpResponse:
    """The tutor's public key set, which platforms fetch to verify deep-linking replies and token requests."""
    try:
        return JsonResponse(tool_jwks())
    except LtiKeyMissing:
        return _refuse(503, "LTI is not configured on this server.")
