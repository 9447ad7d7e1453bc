"""The environment the suite runs against, and the settings that production depends on."""

from __future__ import annotations

import json
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


def _database_settings(env: dict[str, str]) -> dict[str, object]:
    code = (
        "import json, tutor.settings as s; d = s.DATABASES['default']; "
        "print(json.dumps([d['CONN_MAX_AGE'], d.get('OPTIONS', {})]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**clean, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    conn_max_age, options = json.loads(result.stdout)
    return {"conn_max_age": conn_max_age, "options": options}


def test_postgresql_connections_come_from_a_pool_not_from_each_thread() -> None:
    # Under ASGI every request runs on a thread of its own: a connection kept per thread would outlive it.
    pooled = _database_settings({"DATABASE_URL": "postgres://u@db:5432/tutor"})
    assert pooled["conn_max_age"] == 0
    assert pooled["options"] == {"pool": {"min_size": 2, "max_size": 20, "timeout": 10}}
    unpooled = _database_settings({"DATABASE_URL": "postgres://u@db:5432/tutor", "DB_POOL_MAX_SIZE": "0"})
    assert unpooled == {"conn_max_age": 0, "options": {}}
    kept = _database_settings(
        {"DATABASE_URL": "postgres://u@db:5432/tutor", "DB_POOL_MAX_SIZE": "0", "DB_CONN_MAX_AGE": "60"}
    )
    assert kept["conn_max_age"] == 60
    sqlite = _database_settings({"DATABASE_URL": "sqlite:////tmp/x.sqlite3"})
    assert sqlite == {"conn_max_age": 0, "options": {}}


def test_the_websocket_threads_must_leave_pooled_connections_for_requests() -> None:
    result = _import_settings(
        {"DEBUG": "1", "DATABASE_URL": "postgres://u@db:5432/tutor", "DB_POOL_MAX_SIZE": "8", "TUTOR_DB_THREADS": "8"}
    )
    assert "TUTOR_DB_THREADS (8) must be below DB_POOL_MAX_SIZE (8)" in result.stderr
