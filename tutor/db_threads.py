"""Database work from async code (the tutoring websocket), on a pool of threads.

Channels' ``database_sync_to_async`` runs every call of a process on one shared thread (asgiref's thread-sensitive
mode), so in a burst each turn's queries queue behind every other turn's, and the first token of a reply waits for
all of them. ``db_call`` runs calls on a pool of ``TUTOR_DB_THREADS`` threads instead, so that many run at once. Each
call borrows a connection from the process's database pool (``DB_POOL_MAX_SIZE``, settings.py) and gives it back when
it ends, so keep the thread count below the pool's size.

Only self-contained calls belong here: ORM work that opens and finishes its own transactions and keeps nothing on
the thread between calls. (The reply's advisory locks live on connections of their own: ``reply_locks``.)
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import close_old_connections, connections

P = ParamSpec("P")
R = TypeVar("R")

_pool: ThreadPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def pool_size() -> int:
    return max(1, int(getattr(settings, "TUTOR_DB_THREADS", 8)))


def _executor() -> ThreadPoolExecutor:
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is None:
            _pool_workers = pool_size()
            _pool = ThreadPoolExecutor(max_workers=_pool_workers, thread_name_prefix="tutor-db")
        return _pool


def _forget_pool_in_child() -> None:
    # A forked process (a Celery prefork worker, a test server) copies the pool without its threads: work sent to it
    # would wait forever. The child starts a pool of its own on its first call.
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_in_child)


class _PooledCall(SyncToAsync):  # type: ignore[type-arg]
    """One call on the pool, with stale connections closed before and after it, as Channels does for its thread."""

    def thread_handler(self, loop: Any, *args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return super().thread_handler(loop, *args, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            close_old_connections()


def db_call(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``func`` as a coroutine function that runs on the database pool."""

    @functools.wraps(func)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        result: R = await _PooledCall(func, thread_sensitive=False, executor=_executor())(*args, **kwargs)
        return result

    return call


def shutdown() -> None:
    """Close every pool thread's database connections and stop the threads (a later call starts new ones).

    For tests and orderly shutdown: a connection a thread still held (without the connection pool, one kept open for
    reuse) would keep its database from being dropped. Each worker takes exactly one closing task (they wait for
    each other at the barrier), so every thread's connections are closed, not only those of a thread that is free."""
    global _pool
    with _pool_lock:
        pool, workers, _pool = _pool, _pool_workers, None
    if pool is None:
        return
    barrier = threading.Barrier(workers)

    def close_here() -> None:
        # Each task blocks until all have started, so the pool runs them on as many threads as it has.
        barrier.wait(timeout=10)
        connections.close_all()

    for _ in range(workers):
        pool.submit(close_here)
    pool.shutdown(wait=True)
