"""Guards around every HTTP request: a bound on request bodies before any is read, and a strict Content-Security-Policy.

Pages load scripts and styles only from our own origin (vendored htmx and KaTeX) and carry no inline script, so
injected markup cannot run. Websockets to our own host are allowed for the tutoring session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.crypto import constant_time_compare

from . import permissions
from .content.safety import MAX_UPLOAD_BYTES

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The admin ships inline scripts of its own; it keeps Django's defaults and stays staff-only.
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


# -- request bodies --------------------------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The one page that takes more than REQUEST_BODY_MAX_BYTES, and only from a signed-in admin.
IMPORT_UPLOAD_VIEW = "admin_imports"


class RequestBodyLimit:
    """ASGI wrapper that refuses a request body over its limit with 413, before the application reads any of it.

    Django reads a whole body before its middleware runs, and then parses it for any view that looks at a form, so
    the bound has to sit in front of Django. A body of declared length (Content-Length) is judged before reading; a
    body streamed without one is counted as it arrives and cut off at the limit.
    """

    def __init__(self, app: Any) -> None:
        self.app: ASGIApp = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            declared = _declared_length(scope)
        except ValueError:
            await _respond(send, 400, "<h1>Bad request</h1><p>The Content-Length header is not a length.</p>")
            return
        limit = await _body_limit(scope, declared)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return

        received = 0
        cut_off = False
        response_started = False

        async def receive_within_limit() -> Message:
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # To the application this reads as a client that went away, so it stops reading and answers
                    # nothing; the 413 is sent below.
                    cut_off = True
                    return {"type": "http.disconnect"}
            return message

        async def send_watched(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, receive_within_limit, send_watched)
        if cut_off and not response_started:
            await _refuse(send, limit)


def _declared_length(scope: Scope) -> int | None:
    values = [value for name, value in scope["headers"] if name.lower() == b"content-length"]
    if not values:
        return None
    length = int(values[0])
    if length < 0 or any(value != values[0] for value in values):
        raise ValueError("conflicting or negative Content-Length")
    return length


async def _body_limit(scope: Scope, declared: int | None) -> int:
    general: int = settings.REQUEST_BODY_MAX_BYTES
    may_need_more = declared is None or declared > general
    if may_need_more and scope["method"] == "POST" and _is_import_upload(scope):
        cookies = b"; ".join(value for name, value in scope["headers"] if name.lower() == b"cookie")
        if await database_sync_to_async(_signed_in_admin)(cookies.decode("latin-1")):
            return largest_body_allowed()
    return general


def largest_body_allowed() -> int:
    """An admin's problem-set upload: the file may be MAX_UPLOAD_BYTES, the rest of its form and the multipart
    framing get the general limit."""
    return MAX_UPLOAD_BYTES + int(settings.REQUEST_BODY_MAX_BYTES)


def _is_import_upload(scope: Scope) -> bool:
    path = str(scope["path"])
    root = str(scope.get("root_path") or "")
    if root and path.startswith(root):
        path = path[len(root) :]
    try:
        return resolve(path).url_name == IMPORT_UPLOAD_VIEW
    except Resolver404:
        return False


def _signed_in_admin(cookie_header: str) -> bool:
    """Whether the session cookie belongs to a signed-in admin, checked as Django's auth does but without changing
    the session (Django's own check may rotate or flush it, and this runs outside any request that could save it)."""
    session_key = parse_cookie(cookie_header).get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
        session_hash = str(session[HASH_SESSION_KEY])
    except KeyError:
        return False
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return False
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return False
    valid_hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, valid) for valid in valid_hashes):
        return False
    return permissions.is_admin(user)


def _size(limit: int) -> str:
    mib = 1024 * 1024
    if limit >= mib:
        return f"{limit / mib:.0f} MiB" if limit % mib == 0 else f"{limit / mib:.1f} MiB"
    return f"{max(1, limit // 1024)} KiB"


async def _refuse(send: Send, limit: int) -> None:
    # Only an admin's upload gets past the general limit; only they need to hear of the file limit.
    upload_limit = _size(MAX_UPLOAD_BYTES) if limit > settings.REQUEST_BODY_MAX_BYTES else None
    context = {"limit": _size(limit), "upload_limit": upload_limit}
    await _respond(send, 413, render_to_string("errors/413.html", context))


async def _respond(send: Send, status: int, html: str) -> None:
    body = html.encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
