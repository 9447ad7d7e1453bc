"""An LTI 1.3 launch in real Chromium: a learner arrives from the course page of a simulated platform, is signed in
as a new student of a new class, solves the problem, and the platform receives the grade.

The platform is a stand-in HTTP server of the test's own (its OIDC authorization endpoint answers with the
auto-submitting form a real platform sends, with a launch signed by the test's key; its token and score endpoints
record what the tutor posts). The tutor runs under Daphne, as in production.
"""

from __future__ import annotations

import html
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from jwcrypto.jwk import JWK

from tests.integration.test_lti import (
    CLAIM,
    CLIENT_ID,
    DEPLOYMENT_ID,
    ISSUER,
    LEARNER,
    LINEITEM_PATH,
    PLATFORM_KID,
    SCORE_SCOPE,
    rsa_private_pem,
)
from tutor.demo import demo_load
from tutor.models import Classroom, LtiPlatform, TutoringSession, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass
class StandinCoursePlatform:
    """A stand-in for the learning platform: its authorization endpoint (which signs the launch), JWKS, token and
    score endpoints, recording the scores the tutor posts."""

    private_pem: str
    jwks: dict[str, Any]
    url: str = ""
    score_posts: list[dict[str, Any]] = field(default_factory=list)

    def launch_form(self, query: dict[str, str]) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": "canvas-learner-7",
            "iat": now,
            "exp": now + 300,
            "nonce": query["nonce"],
            "given_name": "Ada",
            "family_name": "Lovelace",
            CLAIM + "deployment_id": DEPLOYMENT_ID,
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "roles": [LEARNER],
            CLAIM + "context": {"id": "course-9", "title": "Grade 6 math, room 12"},
            CLAIM + "resource_link": {"id": "link-9", "title": "Everyday numbers"},
            CLAIM + "target_link_uri": query["redirect_uri"],
            CLAIM + "custom": {"problem_set": "everyday-numbers"},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": [SCORE_SCOPE],
                "lineitem": self.url + LINEITEM_PATH,
            },
        }
        token = jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": PLATFORM_KID})
        action = html.escape(query["redirect_uri"])
        return (
            f'<form id="launch" method="post" action="{action}">'
            f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
            f'<input type="hidden" name="state" value="{html.escape(query["state"])}">'
            "</form><script>document.getElementById('launch').submit()</script>"
        )

    def handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/jwks":
                    self._reply(200, json.dumps(platform.jwks).encode(), "application/json")
                elif parts.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    self._reply(200, platform.launch_form(query).encode(), "text/html; charset=utf-8")
                else:
                    self._reply(404, b"{}", "application/json")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path == "/token":
                    token = {"access_token": "standin-access-token", "token_type": "Bearer"}
                    self._reply(200, json.dumps(token).encode(), "application/json")
                elif self.path == LINEITEM_PATH + "/scores":
                    platform.score_posts.append(json.loads(body))
                    self._reply(200, b"{}", "application/json")
                else:
                    self._reply(404, b"{}", "application/json")

        return Handler


@pytest.fixture
def course_platform(settings: Any, tmp_path: Path) -> Iterator[StandinCoursePlatform]:
    tool_key = tmp_path / "lti-tool.pem"
    tool_key.write_text(rsa_private_pem())
    settings.LTI_PRIVATE_KEY = ""
    settings.LTI_PRIVATE_KEY_FILE = str(tool_key)
    platform_pem = rsa_private_pem()
    public = json.loads(JWK.from_pem(platform_pem.encode()).export_public())
    standin = StandinCoursePlatform(platform_pem, {"keys": [{**public, "kid": PLATFORM_KID, "alg": "RS256"}]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), standin.handler())
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    demo_load()
    LtiPlatform.objects.create(
        name="Stand-in course platform",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_ids=[DEPLOYMENT_ID],
        auth_login_url=f"{standin.url}/authorize",
        auth_token_url=f"{standin.url}/token",
        key_set_url=f"{standin.url}/jwks",
    )
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()


def test_a_launch_signs_in_a_new_student_of_a_new_class_and_a_solved_problem_posts_a_grade(
    page: Any, course_platform: StandinCoursePlatform, eager: None, request: pytest.FixtureRequest
) -> None:
    site = str(request.getfixturevalue("asgi_live_server"))  # forked after the platform and eager tasks are set
    login = {
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "login_hint": "opaque-login-hint",
        "target_link_uri": f"{site}/lti/launch/",
        "lti_deployment_id": DEPLOYMENT_ID,
    }
    # The learner clicks the tutor's link on the course page: the platform starts the OIDC log-in in the browser.
    page.goto(f"{site}/lti/login/?{urlencode(login)}")
    page.wait_for_selector("#transcript .turn-tutor")

    student = User.objects.get(lti_identities__subject="canvas-learner-7")
    classroom = Classroom.objects.get(lti_context__context_id="course-9")
    assert student.role == User.Role.STUDENT and classroom.students.filter(pk=student.pk).exists()
    assert "Ada Lovelace" in page.locator("header").inner_text()
    session = TutoringSession.objects.get(student=student)
    assert page.url.endswith(f"/sessions/{session.pk}/")

    for step in session.problem.steps.order_by("position"):
        count = page.locator("#transcript .turn-tutor[data-seq]").count()
        page.get_by_label("Your answer or question").fill(step.answer)
        page.keyboard.press("Enter")
        page.wait_for_function(
            "n => document.querySelectorAll('#transcript .turn-tutor[data-seq]').length > n", arg=count
        )
    page.wait_for_selector("#wrapup h2")

    deadline = time.monotonic() + 15
    while not course_platform.score_posts and time.monotonic() < deadline:
        time.sleep(0.1)
    (score,) = course_platform.score_posts
    assert score["userId"] == "canvas-learner-7"
    total = session.problem.problem_set.problems.filter(is_current=True).count()
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1, total)
