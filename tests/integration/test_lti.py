"""LTI 1.3 end to end against a simulated learning platform.

The platform is played by the test: it holds its own RSA key, signs launch id_tokens, and runs a stand-in platform
HTTP server (``StandinPlatform``) that serves its JWKS and its token and score endpoints, recording what the tutor
sends. Everything on the tutor's side is real: the OIDC log-in, pylti1p3's checks, PostgreSQL, the Redis cache.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse
from jwcrypto.jwk import JWK

from pedagogy.realize import deliver
from tutor import tutoring
from tutor.models import (
    Assignment,
    Classroom,
    LtiContext,
    LtiIdentity,
    LtiPlatform,
    LtiResourceLink,
    ProblemSet,
    TutoringSession,
    User,
)
from tutor.services import turn_append

ISSUER = "https://platform.example.test"
CLIENT_ID = "tutor-client-1"
DEPLOYMENT_ID = "deployment-1"
PLATFORM_KID = "platform-key-1"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_PATH = "/api/lti/courses/7/line_items/1"


def rsa_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class StandinPlatform:
    """A stand-in for the learning platform's HTTP services (JWKS, OAuth2 token, AGS scores), recording requests."""

    jwks: dict[str, Any]
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    score_posts: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/jwks":
                    self._reply(200, platform.jwks)
                else:
                    self._reply(404, {})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path == "/token":
                    platform.token_requests.append(parse_qs(body))
                    self._reply(200, {"access_token": "standin-access-token", "token_type": "Bearer"})
                elif self.path == LINEITEM_PATH + "/scores":
                    platform.score_posts.append((self.path, dict(self.headers), json.loads(body)))
                    self._reply(200, {})
                else:
                    self._reply(404, {})

        return Handler


@dataclass
class Simulated:
    """The simulated platform: its signing key, its stand-in server and its registration in the tutor."""

    private_pem: str
    standin: StandinPlatform
    registration: LtiPlatform
    tool_public_jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any], *, key: str | None = None, kid: str = PLATFORM_KID) -> str:
        return jwt.encode(claims, key or self.private_pem, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def platform(db: None, settings: Any, tmp_path: Path) -> Iterator[Simulated]:
    tool_pem = rsa_private_pem()
    key_file = tmp_path / "lti-tool.pem"
    key_file.write_text(tool_pem)
    settings.LTI_PRIVATE_KEY = ""
    settings.LTI_PRIVATE_KEY_FILE = str(key_file)
    platform_pem = rsa_private_pem()
    public_jwk = json.loads(JWK.from_pem(platform_pem.encode()).export_public())
    standin = StandinPlatform(jwks={"keys": [{**public_jwk, "kid": PLATFORM_KID, "alg": "RS256", "use": "sig"}]})
    server = ThreadingHTTPServer(("127.0.0.1", 0), standin.handler())
    standin.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    registration = LtiPlatform.objects.create(
        name="Stand-in Canvas",
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_ids=[DEPLOYMENT_ID],
        auth_login_url=f"{ISSUER}/api/lti/authorize_redirect",
        auth_token_url=f"{standin.url}/token",
        key_set_url=f"{standin.url}/jwks",
    )
    tool_jwk = json.loads(JWK.from_pem(tool_pem.encode()).export_public())
    try:
        yield Simulated(platform_pem, standin, registration, tool_jwk)
    finally:
        server.shutdown()
        server.server_close()


def oidc_login(client: Client) -> dict[str, str]:
    """The platform's third-party-initiated log-in; returns the query the tutor sends to the platform's authorizer."""
    response = client.post(
        reverse("lti_login"),
        {
            "iss": ISSUER,
            "client_id": CLIENT_ID,
            "login_hint": "opaque-login-hint",
            "lti_message_hint": "opaque-message-hint",
            "target_link_uri": "http://testserver/lti/launch/",
            "lti_deployment_id": DEPLOYMENT_ID,
        },
    )
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{ISSUER}/api/lti/authorize_redirect"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["redirect_uri"] == "http://testserver/lti/launch/"
    assert query["client_id"] == CLIENT_ID
    return query


def launch_claims(
    nonce: str,
    *,
    sub: str = "canvas-user-42",
    roles: list[str] | None = None,
    custom: dict[str, str] | None = None,
    message_type: str = "LtiResourceLinkRequest",
    extra: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": sub,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "given_name": "Rosa",
        "family_name": "Parks",
        "email": "rosa@school.example",
        CLAIM + "deployment_id": DEPLOYMENT_ID,
        CLAIM + "message_type": message_type,
        CLAIM + "version": "1.3.0",
        CLAIM + "roles": roles or [LEARNER],
        CLAIM + "context": {"id": "course-7", "title": "Algebra 1, period 3"},
        CLAIM + "resource_link": {"id": "link-1", "title": "Everyday numbers"},
        CLAIM + "target_link_uri": "http://testserver/lti/launch/",
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [SCORE_SCOPE],
            "lineitem": "",  # filled in by the tests that grade
        },
    }
    if custom is not None:
        claims[CLAIM + "custom"] = custom
    claims.update(overrides)
    claims.update(extra or {})
    return claims


def launch(client: Client, sim: Simulated, make_claims: Callable[[str], dict[str, Any]], **sign: Any) -> Any:
    query = oidc_login(client)
    token = sim.sign(make_claims(query["nonce"]), **sign)
    return client.post(reverse("lti_launch"), {"id_token": token, "state": query["state"]})


def everyday_numbers() -> ProblemSet:
    return ProblemSet.objects.get(slug="everyday-numbers")


def test_a_learner_launch_creates_the_student_and_the_class_and_opens_the_set(platform: Simulated, demo: None) -> None:
    client = Client()
    response = launch(client, platform, lambda nonce: launch_claims(nonce, custom={"problem_set": "everyday-numbers"}))

    assert response.status_code == 302, response.content
    identity = LtiIdentity.objects.get(platform=platform.registration, subject="canvas-user-42")
    student = identity.user
    assert student.role == User.Role.STUDENT and not student.has_usable_password()
    assert (student.first_name, student.last_name) == ("Rosa", "Parks")
    context = LtiContext.objects.get(platform=platform.registration, context_id="course-7")
    assert context.classroom.name == "Algebra 1, period 3"
    assert context.classroom.students.get() == student
    assignment = Assignment.objects.get(classroom=context.classroom)
    assert assignment.problem_set == everyday_numbers()
    session = TutoringSession.objects.get(student=student)
    assert session.assignment == assignment and session.problem.problem_set == everyday_numbers()
    assert response["Location"] == reverse("session_detail", args=[session.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200  # signed in as the new student, who may open their own session


def test_a_second_launch_of_the_same_user_and_course_reuses_both(platform: Simulated, demo: None) -> None:
    for _ in range(2):
        response = launch(Client(), platform, lambda n: launch_claims(n, custom={"problem_set": "everyday-numbers"}))
        assert response.status_code == 302
    assert LtiIdentity.objects.count() == 1
    assert LtiContext.objects.count() == 1
    assert TutoringSession.objects.count() == 1  # resumed, not started again


def test_the_same_email_on_another_sub_is_another_account(platform: Simulated, demo: None) -> None:
    launch(Client(), platform, lambda n: launch_claims(n, sub="user-a"))
    launch(Client(), platform, lambda n: launch_claims(n, sub="user-b"))
    users = User.objects.filter(lti_identities__platform=platform.registration)
    assert users.count() == 2  # keyed by issuer + sub, never by the shared e-mail


def test_an_instructor_launch_claims_the_class_and_lands_on_it(platform: Simulated, demo: None) -> None:
    launch(Client(), platform, lambda n: launch_claims(n))  # a learner arrives first
    client = Client()
    response = launch(client, platform, lambda n: launch_claims(n, sub="teacher-9", roles=[INSTRUCTOR]))

    teacher = LtiIdentity.objects.get(subject="teacher-9").user
    classroom = Classroom.objects.get(lti_context__context_id="course-7")
    assert teacher.role == User.Role.TEACHER and classroom.teacher == teacher
    assert response["Location"] == reverse("class_detail", args=[classroom.pk])
    assert client.get(response["Location"]).status_code == 200


def test_a_deep_linking_request_returns_a_signed_link_to_the_chosen_set(platform: Simulated, demo: None) -> None:
    client = Client()
    return_url = f"{ISSUER}/courses/7/deep_linking_response"
    response = launch(
        client,
        platform,
        lambda n: launch_claims(
            n,
            sub="teacher-9",
            roles=[INSTRUCTOR],
            message_type="LtiDeepLinkingRequest",
            extra={
                "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                    "deep_link_return_url": return_url,
                    "accept_types": ["ltiResourceLink"],
                    "accept_presentation_document_targets": ["iframe", "window"],
                    "data": "platform-opaque-data",
                }
            },
        ),
    )
    assert response["Location"] == reverse("lti_deep_link")
    picker = client.get(reverse("lti_deep_link"))
    assert picker.status_code == 200 and b"Everyday numbers" in picker.content

    chosen = everyday_numbers()
    reply = client.post(reverse("lti_deep_link"), {"problem_set": str(chosen.pk)})

    assert reply.status_code == 200
    assert f"form-action 'self' {ISSUER}" in reply["Content-Security-Policy"]
    html = reply.content.decode()
    assert f'action="{return_url}"' in html
    token = html.split('name="JWT" value="')[1].split('"')[0]
    tool_key = jwt.PyJWK({**platform.tool_public_jwk, "alg": "RS256"}).key
    body = jwt.decode(token, tool_key, algorithms=["RS256"], audience=ISSUER)
    assert body["iss"] == CLIENT_ID
    assert body[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    assert body[CLAIM + "deployment_id"] == DEPLOYMENT_ID
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "platform-opaque-data"
    (item,) = body["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"] == "http://testserver/lti/launch/"
    assert item["custom"] == {"problem_set": chosen.slug}
    assert item["lineItem"]["scoreMaximum"] == chosen.problems.filter(is_current=True).count()
    assert jwt.get_unverified_header(token)["kid"] == JWK(**platform.tool_public_jwk).thumbprint()
    # The picker is spent: a second reply for the same request is refused.
    assert client.post(reverse("lti_deep_link"), {"problem_set": str(chosen.pk)}).status_code == 400


def test_the_picker_refuses_an_unknown_set_and_a_student(platform: Simulated, demo: None) -> None:
    assert Client().get(reverse("lti_deep_link")).status_code == 302  # anonymous: to the log-in page
    client = Client()
    launch(client, platform, lambda n: launch_claims(n))
    assert client.get(reverse("lti_deep_link")).status_code == 403  # a student never picks


def test_the_tool_jwks_is_the_public_half_of_the_configured_key(platform: Simulated, client: Client) -> None:
    response = client.get(reverse("lti_jwks"))
    (key,) = response.json()["keys"]
    assert key["n"] == platform.tool_public_jwk["n"] and key["alg"] == "RS256"
    assert "d" not in key  # never the private part


def test_without_a_tool_key_lti_is_off(db: None, settings: Any, client: Client) -> None:
    settings.LTI_PRIVATE_KEY = ""
    settings.LTI_PRIVATE_KEY_FILE = ""
    assert client.get(reverse("lti_jwks")).status_code == 503


def solve(session: TutoringSession) -> None:
    """The student answers each step of the problem correctly, as the consumer would relay it."""
    session.refresh_from_db()
    for step in session.problem.steps.order_by("position"):
        planned = tutoring.turn_plan(session=session, message=step.answer)
        turn_append(session=session, role="student", text=step.answer)
        delivery = deliver(None, planned.plan, planned.context, previous=planned.previous)
        tutoring.turn_complete(planned=planned, delivery=delivery, backend="none")
        session.refresh_from_db()
        if session.status == TutoringSession.Status.SOLVED:
            return


def test_solving_a_problem_posts_the_set_progress_to_the_platform(
    platform: Simulated, demo: None, eager: None, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    lineitem = platform.standin.url + LINEITEM_PATH
    client = Client()

    def claims(nonce: str) -> dict[str, Any]:
        made = launch_claims(nonce, custom={"problem_set": "everyday-numbers"})
        made["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitem"] = lineitem
        return made

    launch(client, platform, claims)
    session = TutoringSession.objects.get()
    assert LtiResourceLink.objects.get().lineitem_url == lineitem

    with django_capture_on_commit_callbacks(execute=True):
        solve(session)

    session.refresh_from_db()
    assert session.status == TutoringSession.Status.SOLVED
    (token_request,) = platform.standin.token_requests
    assert token_request["grant_type"] == ["client_credentials"]
    assert token_request["scope"] == [SCORE_SCOPE]
    assertion = jwt.decode(
        token_request["client_assertion"][0],
        jwt.PyJWK({**platform.tool_public_jwk, "alg": "RS256"}).key,
        algorithms=["RS256"],
        audience=f"{platform.standin.url}/token",
    )
    assert assertion["iss"] == assertion["sub"] == CLIENT_ID
    ((path, headers, score),) = platform.standin.score_posts
    assert path == LINEITEM_PATH + "/scores"
    assert headers["Authorization"] == "Bearer standin-access-token"
    assert headers["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    total = everyday_numbers().problems.filter(is_current=True).count()
    assert score["userId"] == "canvas-user-42"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1, total)
    assert score["activityProgress"] == ("Completed" if total == 1 else "InProgress")
    assert score["gradingProgress"] == "FullyGraded"


def test_a_platform_that_is_down_makes_the_task_retry(platform: Simulated, demo: None) -> None:
    from pylti1p3.exception import LtiServiceException

    from tutor.lti.grades import lti_scores_post

    client = Client()

    def claims(nonce: str) -> dict[str, Any]:
        made = launch_claims(nonce, custom={"problem_set": "everyday-numbers"})
        made["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitem"] = platform.standin.url + "/gone"
        return made

    launch(client, platform, claims)
    session = TutoringSession.objects.get()
    platform.registration.auth_token_url = platform.standin.url + "/no-token-here"
    platform.registration.save()
    with pytest.raises(LtiServiceException):  # one of the errors lti_scores_task retries on
        lti_scores_post(session_id=session.pk)


# -- refusals: each leaves no account, class or assignment behind ---------------------------------------------------


def assert_nothing_created() -> None:
    assert not LtiIdentity.objects.exists()
    assert not LtiContext.objects.exists()
    assert not User.objects.filter(username__startswith="lti").exists()
    assert not Classroom.objects.filter(name="Algebra 1, period 3").exists()  # the demo has classes of its own
    assert not TutoringSession.objects.exists()


def test_a_launch_signed_with_another_key_is_refused(platform: Simulated, demo: None) -> None:
    response = launch(Client(), platform, launch_claims, key=rsa_private_pem())
    assert response.status_code == 403 and b"Can't decode id_token" in response.content
    assert_nothing_created()


def test_a_launch_for_another_audience_is_refused(platform: Simulated, demo: None) -> None:
    response = launch(Client(), platform, lambda n: launch_claims(n, aud="some-other-tool"))
    assert response.status_code == 403
    assert_nothing_created()


def test_an_expired_launch_is_refused(platform: Simulated, demo: None) -> None:
    past = int(time.time()) - 3600
    response = launch(Client(), platform, lambda n: launch_claims(n, iat=past - 300, exp=past))
    assert response.status_code == 403 and b"expired" in response.content
    assert_nothing_created()


def test_an_unknown_issuer_is_refused_at_log_in_and_at_launch(platform: Simulated, demo: None) -> None:
    client = Client()
    response = client.post(
        reverse("lti_login"),
        {"iss": "https://evil.example", "login_hint": "x", "target_link_uri": "http://testserver/lti/launch/"},
    )
    assert response.status_code == 400
    query = oidc_login(client)
    token = platform.sign(launch_claims(query["nonce"], iss="https://evil.example"))
    response = client.post(reverse("lti_launch"), {"id_token": token, "state": query["state"]})
    assert response.status_code == 403
    assert_nothing_created()


def test_a_replayed_launch_is_refused(platform: Simulated, demo: None) -> None:
    client = Client()
    query = oidc_login(client)
    token = platform.sign(launch_claims(query["nonce"]))
    first = client.post(reverse("lti_launch"), {"id_token": token, "state": query["state"]})
    assert first.status_code == 302
    before = (User.objects.count(), Classroom.objects.count(), TutoringSession.objects.count())

    replay = Client()  # someone holding the captured form and the state cookie, but not the signed-in session
    for name, morsel in client.cookies.items():
        if name.startswith("lti1p3-"):
            replay.cookies[name] = morsel.value
    again = replay.post(reverse("lti_launch"), {"id_token": token, "state": query["state"]})

    assert again.status_code == 403 and b"Invalid Nonce" in again.content
    assert (User.objects.count(), Classroom.objects.count(), TutoringSession.objects.count()) == before
    assert "_auth_user_id" not in replay.session


def test_a_nonce_the_tutor_never_issued_is_refused(platform: Simulated, demo: None) -> None:
    client = Client()
    query = oidc_login(client)
    token = platform.sign(launch_claims(uuid.uuid4().hex))
    response = client.post(reverse("lti_launch"), {"id_token": token, "state": query["state"]})
    assert response.status_code == 403
    assert_nothing_created()


def test_a_launch_without_the_state_cookie_is_refused(platform: Simulated, demo: None) -> None:
    query = oidc_login(Client())
    token = platform.sign(launch_claims(query["nonce"]))
    response = Client().post(reverse("lti_launch"), {"id_token": token, "state": query["state"]})
    assert response.status_code == 403 and b"State not found" in response.content
    assert_nothing_created()


def test_an_unknown_deployment_and_an_unsupported_role_are_refused(platform: Simulated, demo: None) -> None:
    response = launch(Client(), platform, lambda n: launch_claims(n, extra={CLAIM + "deployment_id": "other"}))
    assert response.status_code == 403
    observer = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
    response = launch(Client(), platform, lambda n: launch_claims(n, roles=[observer]))
    assert response.status_code == 403 and b"instructors and learners" in response.content
    assert_nothing_created()


def test_a_link_naming_an_unknown_set_is_refused_and_creates_nothing(platform: Simulated, demo: None) -> None:
    response = launch(Client(), platform, lambda n: launch_claims(n, custom={"problem_set": "no-such-set"}))
    assert response.status_code == 403 and b"no-such-set" in response.content
    assert_nothing_created()
