"""Celery tasks. Each wraps one service and takes ids, never objects."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .content.jobs import import_job_run


# Celery ships no type information for its decorators.
@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def import_job_task(job_id: int) -> str:
    """Import an uploaded problem-set file (an ImportJob); safe to deliver twice."""
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else "not waiting"
