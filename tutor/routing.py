"""Websocket routes, and the Origin check every websocket passes first.

Browsers send cookies with a websocket handshake from any site, so the Origin is what keeps another site's page from
opening a student's session socket (cross-site websocket hijacking). Channels' ``AllowedHostsOriginValidator``
compares only the Origin's host name with ``ALLOWED_HOSTS``; any scheme and port pass, so a page served on another
port of the same host, or over plain HTTP beside an HTTPS site, would get in. This check is Django's own CSRF origin
rule: the Origin must be this request's own origin (scheme, host and port), with a host in ``ALLOWED_HOSTS``, or one
of ``CSRF_TRUSTED_ORIGINS``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import path

from .consumers import SessionConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:session_id>/", SessionConsumer.as_asgi(), name="ws_session"),
]

DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """(scheme, host, port) of an origin such as ``https://tutor.example.org``; None for anything else (``null``)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port out of range or not a number
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path or parts.query or parts.username:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def _own_scheme(scope: dict[str, Any]) -> str:
    # Daphne leaves the scheme out of a websocket's scope; behind a TLS proxy, SECURE_PROXY_SSL_HEADER says, as it
    # does for Django's HTTP requests, and otherwise CSRF_TRUSTED_ORIGINS lists the https origin.
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        header = name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        values = [value for key, value in scope.get("headers", []) if key == header]
        forwarded = values[0].decode("latin-1").split(",")[0].strip() if values else ""
        if forwarded:
            return "https" if forwarded == secure_value else "http"
    return "https" if scope.get("scheme") == "wss" else "http"


def _trusted(origin: Origin) -> bool:
    scheme, host, port = origin
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        # "https://*.example.org" trusts example.org and its subdomains, as Django's CSRF check does.
        wildcard = "://*." in entry
        trusted = parse_origin(entry.replace("://*.", "://", 1))
        if trusted is None or trusted[0] != scheme or trusted[2] != port:
            continue
        if host == trusted[1] or (wildcard and host.endswith("." + trusted[1])):
            return True
    return False


def origin_allowed(scope: dict[str, Any]) -> bool:
    found: dict[bytes, list[bytes]] = {b"origin": [], b"host": []}
    for name, value in scope.get("headers", []):
        if name in found:
            found[name].append(value)
    # Exactly one of each: with two, there is no telling which one a check further on would read.
    if len(found[b"origin"]) != 1 or len(found[b"host"]) != 1:
        return False
    origin = parse_origin(found[b"origin"][0].decode("latin-1"))
    domain, port = split_domain_port(found[b"host"][0].decode("latin-1"))
    if origin is None or not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    scheme = _own_scheme(scope)
    try:
        own = (scheme, domain.strip("[]").lower(), int(port) if port else DEFAULT_PORTS[scheme])
    except ValueError:
        return False
    return origin == own or _trusted(origin)


class SameOriginValidator:
    """ASGI middleware: a websocket whose Origin is not allowed is refused at the handshake (HTTP 403)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
