"""Celery tasks. Each wraps one service and takes ids, never objects."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from pylti1p3.exception import LtiServiceException as LtiServiceError
from requests import RequestException

from .content.jobs import import_job_run, import_jobs_fail_abandoned
from .lti.grades import lti_scores_post
from .session_figures import figures_refresh


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


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def import_jobs_reap_task() -> int:
    """Fail import jobs left running by a worker that died (beat runs this every minute); see tutor/celery.py."""
    return import_jobs_fail_abandoned()


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
    soft_time_limit=120,
    time_limit=150,
)
def session_figures_task(session_ids: list[int]) -> int:
    """Compute and store the figures of these tutoring sessions; idempotent, so a second delivery changes nothing."""
    return figures_refresh(session_ids=session_ids)


@shared_task(
    autoretry_for=(OperationalError, LtiServiceError, RequestException),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def lti_scores_task(session_id: int) -> int:
    """Post a solved session's set progress to the learning platforms it was launched from; safe to deliver twice."""
    return lti_scores_post(session_id=session_id)
