"""Fixed-window rate limits on the shared cache (Redis in production, so every worker counts together).

``hit`` counts every event (chat messages, sign-ups, join codes). Log-ins are limited differently: only failures
count, per username and per client address, so that a whole class behind one school address can log in while
guessing one account's password (from anywhere) or many accounts' passwords (from one address) is stopped.
"""

from __future__ import annotations

import hashlib
import unicodedata

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest | None) -> str:
    # Behind a proxy, set it to overwrite REMOTE_ADDR; trusting X-Forwarded-For here would let clients pick their key.
    if request is None:
        return "unknown"
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def _count(cache_key: str, window_seconds: int) -> int:
    """Add one to ``cache_key``'s count in the current window and return the new count."""
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window_seconds)
        return 1


def hit(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one event for ``key``; return True while the count is within ``limit`` for the current window."""
    return _count(f"rl:{key}", window_seconds) <= limit


# -- failed log-ins ------------------------------------------------------------------------------------------------


def _username_key(username: str) -> str:
    # Normalized as the log-in form normalizes it (NFKC, stripped), so that a look-alike spelling the form turns into
    # the same username cannot slip past the count; case-folded too, so that changing case does not start a fresh one.
    # Hashed: a username is whatever was typed, and cache keys have rules on length and characters.
    normalized = unicodedata.normalize("NFKC", username).strip().casefold()
    digest = hashlib.sha256(normalized.encode()).hexdigest()[:32]
    return f"rl:login-failures:user:{digest}"


def _address_key(address: str) -> str:
    return f"rl:login-failures:address:{address}"


def log_in_locked_out(*, username: str, address: str) -> bool:
    """True when this username or this address has had too many failed log-ins in the current window.

    It depends only on failures counted, never on whether the username exists, so a refusal reveals nothing.
    Attempts already running when the limit is reached still finish: at most one more per concurrent request.
    """
    user_key, address_key = _username_key(username), _address_key(address)
    counts = cache.get_many([user_key, address_key])
    return bool(
        counts.get(user_key, 0) >= settings.LOGIN_FAILURES_PER_USERNAME
        or counts.get(address_key, 0) >= settings.LOGIN_FAILURES_PER_ADDRESS
    )


def log_in_failed(*, username: str, address: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    _count(_username_key(username), window)
    _count(_address_key(address), window)


def log_in_succeeded(*, username: str) -> None:
    """Forget the username's earlier failures, so a student's typos do not add up over a morning.

    The address's count stays: clearing it would let someone with one account of their own reset it between guesses.
    """
    cache.delete(_username_key(username))
