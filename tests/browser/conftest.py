"""Real Chromium (Debian's package) driven by Playwright's Python package.

Test tools cannot download browsers on our machines, so Playwright launches the system Chromium through
``executable_path``. A failing test leaves a screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, require

# Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make around it are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"


def log_in(page: Any, base: str, username: str) -> None:
    """Sign in through the log-in form, as a person would."""
    from tutor.demo import DEMO_PASSWORD

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread while it is open,
# and asyncio tests later in the run need the thread back.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    require(executable is not None, "Debian's chromium package is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def asgi_live_server(transactional_db: None, settings: Any) -> Iterator[str]:
    """The full ASGI app (HTTP and websockets) under Daphne in a child process, on the test database.

    The child is forked with this process's settings, so tests set what they need (the model backend, say) first.
    """
    from daphne.testing import DaphneProcess
    from django.db import connections

    from tutor.llm import tutor_llm

    tutor_llm.cache_clear()
    connections.close_all()  # a forked child must not share this process's database connections
    process = DaphneProcess("127.0.0.1", _static_asgi_application, setup=_fresh_async_state)
    process.start()
    if not process.ready.wait(timeout=30):
        process.terminate()
        pytest.fail(f"the ASGI test server did not start: {process.errors.get() if not process.errors.empty() else ''}")
    try:
        yield f"http://127.0.0.1:{process.port.value}"
    finally:
        process.terminate()
        process.join(timeout=10)


def _fresh_async_state() -> None:
    """In the forked server: drop what the fork copied but whose threads and event loops stayed behind.

    A fork copies thread-pool executors without their worker threads (work submitted to them would wait forever) and
    channel layers bound to this process's event loops.
    """
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    SyncToAsync.context_to_thread_executor.clear()
    channel_layers.backends.clear()


def _static_asgi_application() -> Any:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from tutor.asgi import application

    return ASGIStaticFilesHandler(application)
