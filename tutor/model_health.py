"""How the tutor model is doing, for the admins' model status page: which backend and model, whether the model
server answers, how long replies take and how often the guard replaces what the model wrote."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from models.backends import TutorLLMError, backend_kind

from .llm import model_status, tutor_llm
from .models import Turn

RECENT_TURNS = 500
# The admin page waits at most this long for the model server: a server that is slow to list its models is
# reported as not answering rather than holding the page.
CHECK_TIMEOUT_SECONDS = 2.0
MAX_LISTING_BYTES = 1 << 20


@dataclass(frozen=True)
class ServerCheck:
    checked: bool  # False when no model server is configured (templates or an in-process model)
    reachable: bool = False
    detail: str = ""
    served: tuple[str, ...] = ()
    elapsed_ms: int | None = None


def models_url(base: str) -> str:
    """The server's model listing (``GET /v1/models``) from ``TUTOR_LLM_URL``, read as the chat client reads it."""
    parts = urllib.parse.urlsplit(base.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"TUTOR_LLM_URL must be an http(s) URL, got {base!r}")
    path = parts.path.rstrip("/").removesuffix("/chat/completions")
    path = f"{path}/models" if path.endswith("/v1") else f"{path}/v1/models"
    # Without any user:password part: the address is shown on the admin page, and credentials go in a header.
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # an IPv6 address keeps its brackets
    if parts.port is not None:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, path, "", ""))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A model server's listing is not followed elsewhere: the API key would go along to the other host."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def model_server_check(timeout: float = CHECK_TIMEOUT_SECONDS) -> ServerCheck:
    """Ask the configured OpenAI-compatible server for its models; never raises."""
    try:
        llm = tutor_llm()
    except TutorLLMError as exc:
        return ServerCheck(checked=False, detail=f"the backend cannot be built: {exc}")
    if backend_kind(llm) != "openai":
        return ServerCheck(checked=False, detail="no model server is configured (TUTOR_LLM_URL is not in use)")
    try:
        url = models_url(str(settings.TUTOR_LLM_URL))
    except ValueError as exc:
        return ServerCheck(checked=True, detail=str(exc))
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only, above
    api_key = getattr(settings, "TUTOR_LLM_API_KEY", "")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            body = response.read(MAX_LISTING_BYTES)
    except urllib.error.HTTPError as exc:
        return ServerCheck(checked=True, detail=f"{url} answered HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        return ServerCheck(checked=True, detail=f"{url} did not answer: {getattr(exc, 'reason', exc)}")
    elapsed = round((time.monotonic() - started) * 1000)
    try:
        listing = json.loads(body)
        served = tuple(str(m["id"]) for m in listing.get("data", []) if isinstance(m, dict) and "id" in m)
    except (ValueError, AttributeError, TypeError):
        return ServerCheck(checked=True, detail=f"{url} answered, but not with a model list", elapsed_ms=elapsed)
    model = str(getattr(settings, "TUTOR_LLM_MODEL", ""))
    if model and model not in served:
        detail = f"answered, but does not serve {model!r}"
        return ServerCheck(checked=True, reachable=False, detail=detail, served=served, elapsed_ms=elapsed)
    return ServerCheck(checked=True, reachable=True, detail="answered", served=served, elapsed_ms=elapsed)


def percentile(values: Sequence[int], fraction: float) -> int | None:
    """The nearest-rank percentile: a value that was really observed, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * fraction)) - 1]


@dataclass(frozen=True)
class ReplyFigures:
    replies: int  # recent tutor replies to a student's message
    p50_ms: int | None
    p95_ms: int | None
    model_p50_ms: int | None  # replies the model phrased (and the guard passed)
    model_p95_ms: int | None
    model_judged: int  # replies the model wrote and the guard judged
    model_replaced: int  # of those, replaced by the template's wording

    @property
    def replacement_rate(self) -> float | None:
        return self.model_replaced / self.model_judged if self.model_judged else None


def recent_reply_figures(limit: int = RECENT_TURNS) -> ReplyFigures:
    """Latency percentiles and the guard's replacement rate over the most recent tutor replies."""
    rows = (
        Turn.objects.filter(role=Turn.Role.TUTOR)
        .order_by("-id")
        .values_list("latency_ms", "backend", "plan__intent", "guard_verdict")[:limit]
    )
    all_ms: list[int] = []
    model_ms: list[int] = []
    judged = replaced = 0
    for latency, backend, intent, verdict in rows:
        if intent == "opening":
            continue  # the greeting is written before the student says anything: no wait to measure
        verdict = verdict if isinstance(verdict, dict) else {}
        rejections = verdict.get("rejections")
        rejections = rejections if isinstance(rejections, list) else []
        was_replaced = any(isinstance(r, dict) and r.get("source") == "model" for r in rejections)
        if latency is not None:
            all_ms.append(latency)
            if backend != "template":
                model_ms.append(latency)
        if verdict.get("source") == "model" or was_replaced:
            judged += 1
            replaced += int(was_replaced)
    return ReplyFigures(
        replies=len(all_ms),
        p50_ms=percentile(all_ms, 0.5),
        p95_ms=percentile(all_ms, 0.95),
        model_p50_ms=percentile(model_ms, 0.5),
        model_p95_ms=percentile(model_ms, 0.95),
        model_judged=judged,
        model_replaced=replaced,
    )


@dataclass(frozen=True)
class ModelStatus:
    summary: str  # backend (model), as on the teachers page
    backend: str
    model: str
    server: ServerCheck
    replies: ReplyFigures


def model_status_report() -> ModelStatus:
    try:
        llm = tutor_llm()
        kind, _, model = llm.name.partition(":")
    except TutorLLMError:
        kind, model = "unavailable", ""
    return ModelStatus(
        summary=model_status(),
        backend=kind,
        model=model or ("templates only" if kind == "none" else "the packaged model" if kind == "local" else ""),
        server=model_server_check(),
        replies=recent_reply_figures(),
    )
