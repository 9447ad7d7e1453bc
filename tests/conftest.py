"""Fixtures shared by every test tier.

The real data sets live beside the project in ``../shared/data`` (override with ``TUTOR_SHARED_DATA``). They are read
by path and never copied into the repository. With ``CI=true`` a missing data set or service is a failure, not a skip:
a green CI run must mean every tier really ran.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.standin_vllm import serve  # noqa: F401 - the stand-in vLLM server, a fixture for every tier

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TUTOR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip when a prerequisite is missing locally; fail when it is missing in CI."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder holding the real data sets (mathdial, gsm8k, oatutor, assistments2009_dkt)."""
    require(SHARED_DATA.is_dir(), f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
async def release_db_connections(transactional_db: None):  # type: ignore[no-untyped-def]
    """Wait for the replies a test started, then close the connections that consumers opened on Channels' worker
    thread and on the database pool.

    ``database_sync_to_async`` runs ORM calls on a shared executor thread whose connection outlives the test; left
    open it blocks dropping the test database at the end of the run. Asking for ``transactional_db`` here puts this
    teardown before the database's flush.
    """
    from asgiref.sync import sync_to_async
    from django.db import connections

    from tutor import db_threads, reply_locks
    from tutor.consumers import replies_in_flight

    yield
    # A reply outlives the socket that asked for it (by design); one still writing would deadlock the next test's
    # flush of the database.
    await replies_in_flight()
    # A socket the test left open keeps a lock connection opened for its replies: closed here, not at exit.
    await reply_locks.close_kept()
    await sync_to_async(connections.close_all)()
    await sync_to_async(db_threads.shutdown, thread_sensitive=False)()


def pytest_configure(config: pytest.Config) -> None:
    """Give this run its own Redis key space, so counters and channels left by another run cannot leak in.

    The cache and the channel layer read their prefixes when first used, which is after this hook.
    """
    import uuid

    from django.conf import settings

    if getattr(settings, "REDIS_URL", ""):
        run = uuid.uuid4().hex[:8]
        settings.CACHES["default"]["KEY_PREFIX"] = f"test-{run}"
        settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{run}"


@pytest.fixture(autouse=True)
def _fresh_local_cache() -> None:
    """Rate-limit counters must not leak between tests. A local-memory cache is cleared before each test (user ids
    repeat after rollbacks); a Redis cache is not flushed, since each run has its own key prefix."""
    from django.conf import settings

    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        from django.core.cache import cache

        cache.clear()


@pytest.fixture
def eager() -> Iterator[None]:
    """Run Celery tasks inline, as the embedded default does, also when the suite runs with a Redis broker."""
    from tutor.celery import app as celery_app

    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before
