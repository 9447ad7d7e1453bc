"""A fixed-window rate limit on the shared cache (Redis in production, so every worker counts together)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    # Behind a proxy, set it to overwrite REMOTE_ADDR; trusting X-Forwarded-For here would let clients pick their key.
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def hit(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one event for ``key``; return True while the count is within ``limit`` for the current window."""
    cache_key = f"rl:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        count = 1
    return count <= limit
