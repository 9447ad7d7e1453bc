from __future__ import annotations

from celery import shared_task

from .refit import parameters_refit


@shared_task(soft_time_limit=600, time_limit=660, acks_late=True)
def refit_parameters() -> dict[str, int]:
    """Periodic refit of BKT parameters (scheduled in settings.CELERY_BEAT_SCHEDULE). Idempotent: running it twice
    fits the same data twice and stores the same parameters."""
    outcomes = parameters_refit()
    return {"refitted": sum(o.refitted for o in outcomes), "skipped": sum(not o.refitted for o in outcomes)}
