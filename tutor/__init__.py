"""The Django project and web app of the Socratic tutor."""

from .celery import app as celery_app

__all__ = ("celery_app",)
