"""Every URL and websocket route, asked by every kind of user: anonymous, the student, another student, the
teacher, another teacher and an admin. Adding a route without adding it here fails ``test_every_route_is_covered``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tutor.asgi import application

from .conftest import World

ACTORS = ("anonymous", "student", "other_student", "teacher", "other_teacher", "admin")
LOGIN = "login"  # expected value meaning "redirected to the log-in page"


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    kwargs: Callable[[World], dict[str, Any]]
    expected: dict[str, int | str]
    data: dict[str, str] = field(default_factory=dict)


def everyone(status: int | str) -> dict[str, int | str]:
    return dict.fromkeys(ACTORS, status)


def only(allowed: dict[str, int], *, others: int = 403, anonymous: int | str = LOGIN) -> dict[str, int | str]:
    result: dict[str, int | str] = dict.fromkeys(ACTORS, others)
    result["anonymous"] = anonymous
    result.update(allowed)
    return result


def none_(w: World) -> dict[str, Any]:
    return {}


def cls(w: World) -> dict[str, Any]:
    return {"class_id": w.classroom.pk}


def previewed_job(w: World) -> Any:
    """A finished preview of a demo problem set, its upload kept, as the upload page leaves one."""
    from tutor.demo import demo_content_files

    return w.admin.import_jobs.create(
        filename="everyday-numbers.yaml",
        preview_only=True,
        status="done",
        upload=demo_content_files()[0].read_bytes(),
    )


ROUTES = [
    Route("home", "get", none_, {**everyone(302), "anonymous": 200}),
    Route("healthz", "get", none_, everyone(200)),
    Route("login", "get", none_, {**everyone(302), "anonymous": 200}),
    Route("logout", "post", none_, everyone(302)),
    Route("signup", "get", none_, {**everyone(302), "anonymous": 200}),
    Route("student_dashboard", "get", none_, only({"student": 200, "other_student": 200})),
    Route(
        "join_class",
        "post",
        none_,
        only({"student": 400, "other_student": 400}),
        data={"join_code": "NOPE2345"},
    ),
    Route("session_history", "get", none_, only({"student": 200, "other_student": 200})),
    Route("student_skills", "get", none_, only({"student": 200, "other_student": 200})),
    Route("class_skills", "get", cls, only({"teacher": 200, "admin": 200})),
    Route(
        "class_student_skills",
        "get",
        lambda w: {"class_id": w.classroom.pk, "student_id": w.student.pk},
        only({"teacher": 200, "admin": 200}),
    ),
    Route(
        "class_student_skills",
        "post",
        lambda w: {"class_id": w.classroom.pk, "student_id": w.student.pk},
        only({"teacher": 400, "admin": 400}),
        data={"skill": "arith.add", "mastery": "150", "note": ""},
    ),
    Route(
        "session_start",
        "post",
        lambda w: {"assignment_id": w.assignment.pk, "problem_id": w.problem.pk},
        only({"student": 302, "other_student": 404}),
    ),
    Route(
        "session_detail",
        "get",
        lambda w: {"session_id": w.session.pk},
        only({"student": 200, "teacher": 200, "admin": 200}, others=404),
    ),
    Route(
        "turn_correction",
        "post",
        lambda w: {"turn_id": w.session.turns.get(seq=1).pk},
        only({"teacher": 200, "admin": 200, "other_teacher": 404}),
        data={"text": "What do you notice about the trays?", "note": "shorter"},
    ),
    Route("teacher_dashboard", "get", none_, only({"teacher": 200, "other_teacher": 200})),
    Route(
        "class_create",
        "post",
        none_,
        only({"teacher": 302, "other_teacher": 302}),
        data={"name": "New class"},
    ),
    Route("class_detail", "get", cls, only({"teacher": 200, "admin": 200})),
    Route("class_settings", "post", cls, only({"teacher": 302, "admin": 302}), data={"action": "rotate_code"}),
    Route("assignment_create", "post", cls, only({"teacher": 400, "admin": 400}), data={"problem_set": "0"}),
    Route(
        "class_student",
        "get",
        lambda w: {"class_id": w.classroom.pk, "student_id": w.student.pk},
        only({"teacher": 200, "admin": 200}),
    ),
    Route("admin_teachers", "get", none_, only({"admin": 200})),
    Route(
        "admin_teacher_active",
        "post",
        lambda w: {"user_id": w.other_teacher.pk},
        only({"admin": 302}),
        data={"is_active": "1"},
    ),
    Route("admin_imports", "get", none_, only({"admin": 200})),
    Route(
        "admin_import_job",
        "get",
        lambda w: {"job_id": w.admin.import_jobs.create(filename="set.yaml").pk},
        only({"admin": 200}),
    ),
    # Retrying an import: admins only; a job that has not failed cannot be retried.
    Route(
        "admin_import_job_retry",
        "post",
        lambda w: {"job_id": w.admin.import_jobs.create(filename="set.yaml").pk},
        only({"admin": 409}),
    ),
    # A preview of an uploaded file before it is stored, and storing it: admins only. Storing a job that is not a
    # finished preview is refused, so nothing is queued here.
    Route(
        "admin_import_preview_problem",
        "get",
        lambda w: {"job_id": previewed_job(w).pk, "number": 1},
        only({"admin": 200}),
    ),
    Route(
        "admin_import_store",
        "post",
        lambda w: {"job_id": w.admin.import_jobs.create(filename="set.yaml").pk},
        only({"admin": 409}),
    ),
    # The class dashboard, its recompute button and the CSV exports: the class's teacher and admins only.
    Route("class_dashboard", "get", cls, only({"teacher": 200, "admin": 200})),
    Route("class_figures_recompute", "post", cls, only({"teacher": 302, "admin": 302})),
    Route("export_sessions", "get", cls, only({"teacher": 200, "admin": 200})),
    Route("export_turns", "get", cls, only({"teacher": 200, "admin": 200})),
    Route("export_mastery", "get", cls, only({"teacher": 200, "admin": 200})),
    Route("admin_model_status", "get", none_, only({"admin": 200})),
    Route("admin_problem_sets", "get", none_, only({"admin": 200})),
    Route("admin_problem_preview", "get", lambda w: {"problem_id": w.problem.pk}, only({"admin": 200})),
    # LTI 1.3: the platform-facing endpoints answer everyone alike (they check signed launches, not the signed-in
    # user); here no platform message is sent, and no tool key is configured, so LTI is refused or off.
    Route("lti_login", "get", none_, everyone(400)),
    Route("lti_launch", "post", none_, everyone(403)),
    Route("lti_jwks", "get", none_, everyone(503)),
    # The problem-set picker: teachers only, and only with a deep-linking launch of their own in their session.
    Route("lti_deep_link", "get", none_, only({"teacher": 400, "other_teacher": 400})),
    # The admin's log-in page (under the failed-log-in limit) sends staff on to the admin; it shows others the form.
    Route("admin_login", "get", none_, {**everyone(200), "admin": 302}),
    # Django's own admin sends everyone who is not staff to its log-in page.
    Route("admin:index", "get", none_, {**everyone(302), "admin": 200}),
]


def _actor_user(world: World, actor: str) -> Any:
    return None if actor == "anonymous" else getattr(world, actor)


def _route_names(patterns: list[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.namespace == "admin":
                names.add("admin:index")  # the admin's many pages share one permission check: is_staff
                continue
            names |= _route_names(p.url_patterns, prefix)
        elif isinstance(p, URLPattern) and p.name:
            names.add(prefix + p.name)
    return names


def test_every_route_is_covered() -> None:
    assert _route_names(get_resolver().url_patterns) == {r.name for r in ROUTES}


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.name}-{r.method}" for r in ROUTES])
def test_each_actor_gets_the_expected_status(route: Route, world: World) -> None:
    url = reverse(route.name, kwargs=route.kwargs(world))
    outcomes = {}
    for actor in ACTORS:
        client = Client()
        user = _actor_user(world, actor)
        if user is not None:
            client.force_login(user)
        response = getattr(client, route.method)(url, route.data)
        expected = route.expected[actor]
        if expected == LOGIN:
            ok = response.status_code == 302 and response["Location"].startswith(reverse("login"))
            outcomes[actor] = "login" if ok else response.status_code
        else:
            outcomes[actor] = response.status_code
    assert outcomes == route.expected


def test_a_deactivated_teacher_is_refused(world: World) -> None:
    world.teacher.is_active = False
    world.teacher.save()
    client = Client()
    client.force_login(world.teacher)
    assert client.get(reverse("class_detail", args=[world.classroom.pk])).status_code in {302, 403}


# --- websockets -------------------------------------------------------------------------------------------------

WS_EXPECTED = {
    "anonymous": 4401,
    "student": "accept",
    "other_student": 4403,
    "teacher": "accept",
    "other_teacher": 4403,
    "admin": "accept",
}


async def _connect(path: str, cookie: str | None) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


def _cookie_for(user: Any) -> str | None:
    if user is None:
        return None
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


@pytest.mark.django_db(transaction=True)
async def test_the_session_socket_admits_exactly_the_right_people(
    world_tx: World, release_db_connections: None
) -> None:
    outcomes = {}
    for actor in ACTORS:
        cookie = await database_sync_to_async(_cookie_for)(_actor_user(world_tx, actor))
        communicator, connected, code = await _connect(f"/ws/sessions/{world_tx.session.pk}/", cookie)
        outcomes[actor] = "accept" if connected else code
        await communicator.disconnect()
    assert outcomes == WS_EXPECTED


@pytest.mark.django_db(transaction=True)
async def test_a_missing_session_and_a_foreign_origin_are_refused(
    world_tx: World, release_db_connections: None
) -> None:
    cookie = await database_sync_to_async(_cookie_for)(world_tx.admin)
    _, connected, code = await _connect("/ws/sessions/999999/", cookie)
    assert (connected, code) == (False, 4403)
    foreign = WebsocketCommunicator(
        application,
        f"/ws/sessions/{world_tx.session.pk}/",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"localhost"), (b"cookie", cookie.encode())],
    )
    connected, _ = await foreign.connect(timeout=5)
    assert connected is False


def test_a_teacher_sees_a_shared_students_work_only_in_their_own_class(world: World) -> None:
    """The student joins a second class; its teacher must not read the first class's session or correct it."""
    from tutor import services

    services.class_join(student=world.student, join_code=world.other_classroom.join_code)
    client = Client()
    client.force_login(world.other_teacher)
    assert client.get(reverse("session_detail", args=[world.session.pk])).status_code == 404
    turn = world.session.turns.get(seq=1)
    assert client.post(reverse("turn_correction", args=[turn.pk]), {"text": "x?"}).status_code == 404
    own = client.get(reverse("class_student", args=[world.other_classroom.pk, world.student.pk]))
    assert own.status_code == 200 and "Muffin trays" not in own.content.decode()
