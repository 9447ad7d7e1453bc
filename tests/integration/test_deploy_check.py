"""Django's deployment checks pass with production settings taken from the environment alone.

Each check runs ``manage.py check --deploy`` in a fresh process, as an operator would, so the settings module reads
exactly the environment given here (under the test runner it would relax its production defaults).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

# Variables of the test run that would leak into the checked configuration.
INHERITED_SETTINGS = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    # Set by the browser tests for their live server in this process; no deployment sets it.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}

PRODUCTION = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "tutor.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://tutor.example.org",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
}


def manage(tmp_path: Path, environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in INHERITED_SETTINGS}
    env |= {"TUTOR_VAR_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(50)} | environment
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deployment_check_passes_with_production_settings_from_the_environment(tmp_path: Path) -> None:
    result = manage(tmp_path, PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_production_defaults_send_hsts_for_the_host_only_and_leave_redirects_to_the_operator(tmp_path: Path) -> None:
    minimal = {"DEBUG": "0", "ALLOWED_HOSTS": "tutor.example.org"}
    result = manage(tmp_path, minimal, "check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output  # warnings only
    # HSTS is on by default; what reaches other hosts (subdomains, the preload list) or could loop behind a
    # proxy (the HTTPS redirect) is left for the operator to turn on.
    assert "security.W004" not in output
    assert {code for code in ("security.W005", "security.W008", "security.W021") if code in output} == {
        "security.W005",
        "security.W008",
        "security.W021",
    }


def test_a_proxy_header_switches_the_https_redirect_on_by_default(tmp_path: Path) -> None:
    behind_proxy = {"DEBUG": "0", "ALLOWED_HOSTS": "tutor.example.org", "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    result = manage(tmp_path, behind_proxy, "check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "security.W005" in output, output  # the check did run and report
    assert "security.W008" not in output


def test_a_malformed_proxy_header_is_a_start_up_error_naming_the_variable(tmp_path: Path) -> None:
    result = manage(tmp_path, PRODUCTION | {"SECURE_PROXY_SSL_HEADER": "X Forwarded Proto"}, "check")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER" in result.stderr
