"""The environment the suite runs against, and the settings that production depends on."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.conftest import IN_CI, REPO_ROOT, require


def test_ci_runs_against_real_postgresql(db: None) -> None:
    require(connection.vendor == "postgresql", "DATABASE_URL does not point at PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_ci_runs_against_real_redis() -> None:
    require(bool(settings.REDIS_URL), "REDIS_URL is not set")
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "probe", "value": 42})
    assert async_to_sync(layer.receive)(channel) == {"type": "probe", "value": 42}
    cache.set("probe", "ok", 5)
    assert cache.get("probe") == "ok"
    assert settings.CELERY_TASK_ALWAYS_EAGER is False


def test_in_ci_nothing_may_skip_for_lack_of_a_service() -> None:
    if IN_CI:
        assert settings.REDIS_URL and settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import tutor.settings"],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = _import_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert _import_settings({"DEBUG": "0", "SECRET_KEY": "x" * 50}).returncode == 0


def test_a_bad_setting_is_a_clear_error() -> None:
    result = _import_settings({"DEBUG": "maybe"})
    assert "DEBUG must be a boolean" in result.stderr
    result = _import_settings({"DEBUG": "1", "TUTOR_LLM_BACKEND": "gpt"})
    assert "TUTOR_LLM_BACKEND must be local, openai or none" in result.stderr


@pytest.mark.parametrize("name", ["TUTOR_LLM_BACKEND", "TUTOR_LLM_URL", "TUTOR_LLM_MODEL", "TUTOR_LLM_API_KEY"])
def test_the_model_settings_exist(name: str) -> None:
    assert hasattr(settings, name)
