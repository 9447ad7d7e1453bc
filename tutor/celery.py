"""The Celery application. Tasks live in each app's tasks.py; settings come from Django's (CELERY_ prefix)."""

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tutor.settings")

app = Celery("tutor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Seconds between sweeps for import jobs whose worker died mid-import (tutor.content.jobs.import_jobs_fail_abandoned).
REAP_IMPORT_JOBS_EVERY = 60.0


def _schedule_import_reaper(sender: Celery, **kwargs: Any) -> None:
    """Beat's schedule of the import jobs' own periodic task, beside CELERY_BEAT_SCHEDULE's entries."""
    sender.add_periodic_task(
        REAP_IMPORT_JOBS_EVERY,
        sender.signature("tutor.tasks.import_jobs_reap_task"),
        name="reap-abandoned-import-jobs",
    )


app.on_after_configure.connect(_schedule_import_reaper)
