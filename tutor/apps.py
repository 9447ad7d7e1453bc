import os

from django.apps import AppConfig


def _forget_inherited_database_pools() -> None:
    """In a forked process (a Celery prefork worker, a test server): drop the connection pool the parent had.

    Its connections are the parent's sockets, in use by the parent, and its worker threads did not come along, so
    two processes would talk over one connection (replies arrive to the wrong queries). The child opens a pool of its
    own on its first query. The inherited pool is dropped without being closed: closing it would close the parent's
    connections too.
    """
    from django.db.backends.postgresql.base import DatabaseWrapper

    # Django keeps its pools on the class, keyed by database alias; a fresh mapping makes the next query open one.
    setattr(DatabaseWrapper, "_connection_pools", {})  # noqa: B010 - a private attribute the type stubs leave out


class TutorConfig(AppConfig):
    name = "tutor"
    verbose_name = "Tutor"

    def ready(self) -> None:
        os.register_at_fork(after_in_child=_forget_inherited_database_pools)
