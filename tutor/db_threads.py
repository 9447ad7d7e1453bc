"""Database work from async code (the tutoring websocket), on a pool of threads.

Channels' ``database_sync_to_async`` runs every call of a process on one shared thread (asgiref's thread-sensitive
mode), so in a burst each turn's queries queue behind every other turn's, and the first token of a reply waits for
all of them. ``db_call`` runs calls on a pool of ``TUTOR_DB_THREADS`` threads instead, so that many run at once. Each
call borrows a connection from the process's database pool (``DB_POOL_MAX_SIZE``, settings.py) and gives it back when
it ends, so keep the thread count below the pool's size.

Only self-contained calls belong here: ORM work that opens and finishes its own transactions and keeps nothing on
the thread between calls. (The reply's advisory locks live on connections of their own: ``reply_locks``.)

Calls wait for a thread in order of urgency, then of arrival: in a class's burst, storing a student's message (its
acknowledgement) comes first, planning a reply (the model is asked once it is planned) next, and everything else
(storing finished replies, rendering them for the page) after. The work of replies already streaming then no longer
stands in front of a new message's acknowledgement and first token.
"""

from __future__ import annotations

import functools
import itertools
import os
import queue
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar, cast

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import close_old_connections, connections

from . import urgent_work

P = ParamSpec("P")
R = TypeVar("R")

# How urgent a call is: lower runs first.
ADMIT = 0  # storing a student's message, which the page waits on as its acknowledgement
PLAN = 1  # planning a reply: the model's first token waits on it
LATER = 2  # everything else


class _UrgencyPool(Executor):
    """A fixed set of threads taking calls by urgency, then in order of arrival."""

    def __init__(self, workers: int, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        # Daemon threads: an exiting process does not wait for the calls still queued. A transaction cut short is rolled
        # back by the server, as when a worker is killed: the page resends an unacknowledged message, and a reply not
        # stored is given when the student is back (consumers.answer_unanswered).
        self._threads = [threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        return self.submit_urgent(LATER, fn, *args, **kwargs)

    def submit_urgent(self, urgency: int, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        future: Future[R] = Future()
        self._queue.put((urgency, next(self._order), (future, fn, args, kwargs)))
        return future

    def _work(self) -> None:
        while True:
            _, _, work = self._queue.get()
            if work is None:
                return
            future, fn, args, kwargs = work
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Stops after the calls already queued (the stop comes last in the order).
        for _ in self._threads:
            self._queue.put((LATER + 1, next(self._order), None))
        if wait:
            for thread in self._threads:
                thread.join()


class _Urgent(Executor):
    """The pool as seen by one kind of call: ``run_in_executor`` submits through this, at its urgency."""

    def __init__(self, pool: _UrgencyPool, urgency: int) -> None:
        self._pool, self._urgency = pool, urgency

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        return self._pool.submit_urgent(self._urgency, fn, *args, **kwargs)


_pool: _UrgencyPool | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def pool_size() -> int:
    return max(1, int(getattr(settings, "TUTOR_DB_THREADS", 8)))


def _executor() -> _UrgencyPool:
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is None:
            _pool_workers = pool_size()
            _pool = _UrgencyPool(_pool_workers, "tutor-db")
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


def db_call(func: Callable[P, R], *, urgency: int = LATER) -> Callable[P, Awaitable[R]]:
    """``func`` as a coroutine function that runs on the database pool, ahead of less urgent calls waiting there."""

    @functools.wraps(func)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        if urgency == LATER:
            # Its thread would take the interpreter lock from the event loop while a message is on its way to the
            # model, or a reply's first text to the page (tutor/urgent_work.py).
            await urgent_work.after_urgent()
        # asgiref hands the executor to ``loop.run_in_executor``, which takes any Executor; its annotation is narrower.
        executor = cast(ThreadPoolExecutor, _Urgent(_executor(), urgency))
        result: R = await _PooledCall(func, thread_sensitive=False, executor=executor)(*args, **kwargs)
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
