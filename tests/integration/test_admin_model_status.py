from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tutor import services
from tutor.llm import tutor_llm
from tutor.models import Turn, TutoringSession

from .conftest import World


@pytest.fixture
def fresh_llm() -> Iterator[None]:
    tutor_llm.cache_clear()
    yield
    tutor_llm.cache_clear()


def test_the_admins_teacher_page_shows_the_tutor_model_in_use(world: World, settings: Any, fresh_llm: None) -> None:
    settings.TUTOR_LLM_BACKEND = "openai"
    settings.TUTOR_LLM_URL = "http://gpu-1:8000/v1"
    settings.TUTOR_LLM_MODEL = "socratic-tutor"
    client = Client()
    client.force_login(world.admin)

    page = client.get(reverse("admin_teachers")).content.decode()

    assert "Tutor model: openai (socratic-tutor)" in page


def test_the_page_still_works_when_the_model_settings_are_incomplete(
    world: World, settings: Any, fresh_llm: None
) -> None:
    settings.TUTOR_LLM_BACKEND = "openai"
    settings.TUTOR_LLM_URL = ""
    client = Client()
    client.force_login(world.admin)

    response = client.get(reverse("admin_teachers"))

    assert response.status_code == 200
    assert "Tutor model: unavailable (the openai backend needs TUTOR_LLM_URL)" in response.content.decode()


# --- the model status page ---------------------------------------------------------------------------------------


class StandInModelList:
    """A stand-in for a vLLM server's ``GET /v1/models`` (a server outside this project), on a thread."""

    def __init__(self, served: list[str], status: int = 200) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        body = json.dumps({"object": "list", "data": [{"id": m, "object": "model"} for m in served]}).encode()
        seen: list[str] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                seen.append(f"{self.path} {self.headers.get('Authorization', '')}")
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StandInModelList:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _status_page(world: World) -> str:
    client = Client()
    client.force_login(world.admin)
    response = client.get(reverse("admin_model_status"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_model_status_page_reaches_the_model_server(world: World, settings: Any, fresh_llm: None) -> None:
    with StandInModelList(["socratic-tutor"]) as server:
        settings.TUTOR_LLM_BACKEND = "openai"
        settings.TUTOR_LLM_URL = server.url
        settings.TUTOR_LLM_MODEL = "socratic-tutor"
        settings.TUTOR_LLM_API_KEY = "k-123"
        page = _status_page(world)

    assert server.seen == ["/v1/models Bearer k-123"]
    assert '<dd id="model-backend">openai</dd>' in page
    assert '<dd id="model-name">socratic-tutor</dd>' in page
    assert re.search(r'<dd id="model-reachable"><strong class="ok">Reachable</strong>: answered in \d+ ms', page)


def test_a_server_that_is_down_or_serves_another_model_is_not_reachable(
    world: World, settings: Any, fresh_llm: None
) -> None:
    settings.TUTOR_LLM_BACKEND = "openai"
    settings.TUTOR_LLM_MODEL = "socratic-tutor"
    with StandInModelList(["some-other-model"]) as server:
        settings.TUTOR_LLM_URL = server.url + "/chat/completions"  # the full endpoint is accepted too
        page = _status_page(world)
    assert '<strong class="bad">Not reachable</strong>: answered, but does not serve &#x27;socratic-tutor&#x27;' in page

    closed = StandInModelList([])  # bound, never serving, then closed: nothing listens on its port
    url = closed.url
    closed.server.server_close()
    settings.TUTOR_LLM_URL = url
    tutor_llm.cache_clear()
    assert f'<strong class="bad">Not reachable</strong>: {url}/models did not answer' in _status_page(world)


def test_without_a_model_server_nothing_is_checked(world: World, settings: Any, fresh_llm: None) -> None:
    settings.TUTOR_LLM_BACKEND = "none"
    page = _status_page(world)
    assert '<dd id="model-backend">none</dd>' in page
    assert "Not checked: no model server is configured" in page


def test_latency_percentiles_and_the_guards_replacement_rate_over_recent_replies(
    world: World, settings: Any, fresh_llm: None
) -> None:
    settings.TUTOR_LLM_BACKEND = "none"
    session = world.session  # its opening turn (a template greeting) is left out of the figures
    passed = {"ok": True, "source": "model", "rejections": []}
    replaced = {"ok": False, "source": "template", "rejections": [{"source": "model", "reasons": ["leak"]}]}
    template = {"ok": True, "source": "template", "rejections": []}
    replies = [(100, "openai:m", passed)] * 6 + [(900, "template", replaced)] * 2 + [(20, "template", template)] * 2
    for latency, backend, verdict in replies:
        services.turn_append(
            session=session,
            role="tutor",
            text="What do you notice?",
            plan={"intent": "help_request"},
            guard_verdict=verdict,
            backend=backend,
            latency_ms=latency,
        )

    page = _status_page(world)

    # Ten replies: 20, 20, 100 x6, 900, 900. Nearest rank: p50 is the 5th (100), p95 the 10th (900).
    assert '<td id="latency-all">100 ms / 900 ms</td>' in page
    assert '<td id="latency-model">100 ms / 100 ms</td>' in page
    assert '<td id="guard-rate">2 of 8 (25%)</td>' in page


# --- the problem-set browser -------------------------------------------------------------------------------------


def test_an_admin_previews_a_problems_hint_ladder_as_a_student_sees_it(world: World) -> None:
    client = Client()
    client.force_login(world.admin)
    sessions_before, turns_before = TutoringSession.objects.count(), Turn.objects.count()

    listing = client.get(reverse("admin_problem_sets")).content.decode()
    preview_url = reverse("admin_problem_preview", args=[world.problem.pk])
    assert f'<a href="{preview_url}">Muffin trays</a>' in listing
    page = client.get(preview_url).content.decode()

    # The statement as on the student's session page, then the authored ladder, then the dry run.
    assert '<section class="card problem-statement" aria-labelledby="problem-title">' in page
    ladder = page.split('id="ladder-heading"', 1)[1].split("</section>", 1)[0]
    assert "Every tray holds the same number of muffins" in ladder
    transcript = page.split('id="transcript"', 1)[1].split("</ol>", 1)[0]
    tutor_turns = re.findall(r'<li id="turn-\d+" class="turn turn-tutor"', transcript)
    student_turns = re.findall(r'<span class="speaker">Student</span>\s*<div class="text">([^<]*)</div>', transcript)
    assert len(tutor_turns) >= 5
    assert student_turns[:2] == ["Can I have a hint?", "Can I have a hint?"]
    assert "Every tray holds the same number of muffins" in transcript
    assert "what is 4 groups of 6?" in transcript  # the smaller question on the ladder
    assert "Suggest a better reply" not in transcript  # a dry run: nothing to correct
    assert (TutoringSession.objects.count(), Turn.objects.count()) == (sessions_before, turns_before)
    assert client.get(reverse("admin_problem_preview", args=[999999])).status_code == 404


def test_the_model_listing_address_shown_to_admins_carries_no_credentials() -> None:
    from tutor.model_health import models_url

    assert models_url("http://tutor:s3cret@vllm.internal:8000/v1") == "http://vllm.internal:8000/v1/models"
    assert models_url("https://models.example/v1/chat/completions") == "https://models.example/v1/models"
    assert models_url("http://[::1]:8000") == "http://[::1]:8000/v1/models"
