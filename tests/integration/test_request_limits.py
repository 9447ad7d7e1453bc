"""Request bodies are bounded before anything reads them.

These tests drive the production ASGI application (``tutor.asgi.application``) with a body the test hands over piece
by piece, and count how much of it the server asked for: an oversized body must be refused with 413 having read
nothing (when its length is declared) or no more than the limit (when it is streamed without a length). Only an
admin's problem-set upload may be larger. The last tests run the application under a real Daphne, which receives
and stores a body before the application is called: there the memory a large form costs and the refusal of bodies no
page accepts are measured from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import re
import socket
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import encode_multipart
from django.urls import reverse

from tutor.asgi import application
from tutor.content.safety import MAX_UPLOAD_BYTES
from tutor.models import ImportJob, Problem, User

from .conftest import make_user

MIB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    bytes_read: int
    """How much of the request body the application asked for."""


@dataclass
class StreamedBody:
    """A request body handed to the application only as fast as it asks for it."""

    total: int
    data: bytes | None = None
    read: int = 0
    _sent: int = field(default=0, init=False)

    def next_message(self) -> dict[str, Any]:
        if self.data is not None:
            piece = self.data[self._sent : self._sent + CHUNK]
        else:
            piece = b"x" * min(CHUNK, self.total - self._sent)
        self._sent += len(piece)
        self.read += len(piece)
        return {"type": "http.request", "body": piece, "more_body": self._sent < self.total}


async def request(
    path: str,
    *,
    method: str = "POST",
    body: StreamedBody | None = None,
    declare_length: bool = True,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One HTTP request through the ASGI application, as Daphne would deliver it."""
    body = body or StreamedBody(total=0)
    raw_headers = [(b"host", b"localhost")]
    if declare_length:
        raw_headers.append((b"content-length", str(body.total).encode()))
    else:
        raw_headers.append((b"transfer-encoding", b"chunked"))
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw_headers,
        "client": ("203.0.113.5", 50000),
        "server": ("localhost", 80),
    }
    body_done = False

    async def receive() -> dict[str, Any]:
        nonlocal body_done
        if body_done:
            await asyncio.Future()  # the client stays connected until the response is sent
        message = body.next_message()
        body_done = not message["more_body"]
        return message

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await asyncio.wait_for(application(scope, receive, send), timeout=60)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    reply_headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return Reply(status=start["status"], headers=reply_headers, body=content, bytes_read=body.read)


def multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    boundary = "limits-test-boundary"
    return encode_multipart(boundary, fields), f"multipart/form-data; boundary={boundary}"


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def test_an_oversized_anonymous_post_is_refused_without_reading_its_body() -> None:
    body = StreamedBody(total=64 * MIB)
    reply = await request(reverse("login"), body=body, headers={"content-type": "multipart/form-data; boundary=x"})
    assert reply.status == 413
    assert reply.bytes_read == 0
    assert "Request too large" in reply.body.decode() and "1 MiB" in reply.body.decode()
    assert "default-src 'self'" in reply.headers["content-security-policy"]


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit() -> None:
    body = StreamedBody(total=64 * MIB)
    reply = await request(reverse("login"), body=body, declare_length=False)
    assert reply.status == 413
    assert reply.bytes_read <= settings.REQUEST_BODY_MAX_BYTES + CHUNK


async def test_requests_within_the_limit_reach_the_app() -> None:
    assert (await request(reverse("healthz"), method="GET")).body == b"ok"
    # A log-in form of ordinary size gets as far as the CSRF check (this client has no CSRF cookie).
    form = StreamedBody(total=41, data=b"username=s-someone&password=not-the-right")
    reply = await request(reverse("login"), body=form, headers={"content-type": "application/x-www-form-urlencoded"})
    assert reply.status == 403 and reply.bytes_read == 41


@pytest.fixture
def accounts(transactional_db: None) -> dict[str, str]:
    """Session cookies for an admin and a student, committed so the application's own threads can read them."""
    admin = make_user("a-upload", User.Role.ADMIN, is_staff=True, is_superuser=True)
    student = make_user("s-upload", User.Role.STUDENT)
    return {"admin": session_cookie(admin), "student": session_cookie(student)}


@pytest.mark.parametrize("who", ["anonymous", "student"])
async def test_only_admins_may_send_a_large_body_to_the_import_page(
    accounts: dict[str, str], who: str, release_db_connections: None
) -> None:
    cookie = {"cookie": accounts[who]} if who in accounts else {}
    body = StreamedBody(total=2 * MIB)
    reply = await request(reverse("admin_imports"), body=body, headers=cookie)
    assert reply.status == 413 and reply.bytes_read == 0


async def test_an_admin_upload_over_the_import_limit_is_refused_unread(
    accounts: dict[str, str], release_db_connections: None
) -> None:
    body = StreamedBody(total=MAX_UPLOAD_BYTES + settings.REQUEST_BODY_MAX_BYTES + 1)
    reply = await request(reverse("admin_imports"), body=body, headers={"cookie": accounts["admin"]})
    assert reply.status == 413 and reply.bytes_read == 0
    assert "64 MiB" in reply.body.decode()


def stored_sample_zip(shared_data: Path, tmp_path: Path) -> bytes:
    """The OATutor sample pool, stored uncompressed: a real problem-set file well over the general body limit."""
    sample = shared_data / "oatutor" / "content-pool-sample"
    target = tmp_path / "content-pool-sample.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(sample.rglob("*")):
            if path.is_file():
                zf.write(path, f"content-pool/{path.relative_to(sample)}")
        zf.write(shared_data / "oatutor" / "skillModel.json", "skillModel.json")
    return target.read_bytes()


@pytest.fixture
def connections_closed_after_each_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django runs each request's view on a thread of its own; without connection reuse the request closes its
    database connection as it finishes, so none outlives the test (and blocks dropping the test database)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def sample_upload(shared_data: Path, tmp_path: Path) -> Iterator[bytes]:
    yield stored_sample_zip(shared_data, tmp_path)


async def test_an_admin_uploads_a_problem_set_larger_than_the_general_limit(
    accounts: dict[str, str],
    sample_upload: bytes,
    eager: None,
    connections_closed_after_each_request: None,
    release_db_connections: None,
) -> None:
    assert len(sample_upload) > settings.REQUEST_BODY_MAX_BYTES
    page = await request(reverse("admin_imports"), method="GET", headers={"cookie": accounts["admin"]})
    assert page.status == 200
    csrf_cookie = re.search(r"csrftoken=([^;]+)", page.headers["set-cookie"])
    assert csrf_cookie is not None
    upload = SimpleUploadedFile("content-pool-sample.zip", sample_upload)
    data, content_type = multipart({"file": upload, "format": "oatutor", "set_name": ""})
    reply = await request(
        reverse("admin_imports"),
        body=StreamedBody(total=len(data), data=data),
        headers={
            "cookie": f"{accounts['admin']}; csrftoken={csrf_cookie.group(1)}",
            "content-type": content_type,
            "x-csrftoken": csrf_cookie.group(1),
        },
    )
    assert reply.status == 302, reply.body.decode()[:500]
    assert reply.bytes_read == len(data)
    job = await ImportJob.objects.aget()
    assert job.status == ImportJob.Status.DONE
    assert await Problem.objects.filter(problem_set_id=job.problem_set_id).acount() == 60


@pytest.mark.django_db
def test_form_fields_are_bounded_when_parsed() -> None:
    """Behind the body limit Django's own parser keeps non-file form data to the same size."""
    response = Client().post(reverse("login"), {"username": "s-x", "password": "p" * MIB})
    assert response.status_code == 400


# -- under Daphne ------------------------------------------------------------------------------------------------------


def _production_application() -> Any:
    from tutor.asgi import application as production_application

    return production_application


@contextlib.contextmanager
def daphne_serving() -> Iterator[tuple[int, int]]:
    """``tutor.asgi.application`` under a real Daphne in a child process: its port and process id."""
    from daphne.testing import DaphneProcess
    from django.db import connections

    connections.close_all()  # a forked child must not share this process's database connections
    process = DaphneProcess("127.0.0.1", _production_application)
    process.start()
    try:
        if not process.ready.wait(timeout=30):
            pytest.fail("Daphne did not start")
        assert process.pid is not None
        yield process.port.value, process.pid
    finally:
        process.terminate()
        process.join(timeout=10)


def peak_memory_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert kib is not None
    return int(kib.group(1)) * 1024


def test_daphne_leaves_a_large_form_unparsed_for_the_limit_to_refuse() -> None:
    size = 32 * MIB
    boundary = "b"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="password"; filename="p"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    with daphne_serving() as (port, pid):
        before = peak_memory_bytes(pid)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        piece = b"y" * MIB
        connection.request(
            "POST",
            "/accounts/login/",
            body=itertools.chain([head], itertools.repeat(piece, size // MIB), [tail]),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + size + len(tail)),
            },
        )
        response = connection.getresponse()
        assert response.status == 413 and b"Request too large" in response.read()
        # Daphne holds the body it accepted once; Twisted's own form parsing would add a dozen copies of it.
        assert peak_memory_bytes(pid) - before < 3 * size


def raw_exchange(port: int, head: bytes, body_pieces: Iterator[bytes]) -> tuple[bytes, bool]:
    """Send a request as raw bytes; return what came back and whether the server stopped reading early."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head)
        cut_short = False
        for piece in body_pieces:
            try:
                conn.sendall(piece)
            except OSError:  # the server answered and closed while the body was still coming
                cut_short = True
                break
        reply = b""
        try:
            while chunk := conn.recv(65536):
                reply += chunk
        except ConnectionResetError:
            pass
    return reply, cut_short


def test_daphne_refuses_a_declared_length_no_page_accepts_without_waiting_for_the_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tutor.daphne_requests import BoundedWebRequest

    monkeypatch.setattr(BoundedWebRequest, "max_body_bytes", 2 * MIB)
    with daphne_serving() as (port, _pid):
        head = (
            b"POST /manage/imports/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3145728\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        reply, _ = raw_exchange(port, head, iter(()))  # no body at all: the answer must not wait for one
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in reply


def test_daphne_stops_reading_a_streamed_body_past_what_any_page_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.daphne_requests import BoundedWebRequest

    monkeypatch.setattr(BoundedWebRequest, "max_body_bytes", 2 * MIB)
    piece = b"y" * CHUNK
    chunked = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(32 * MIB // CHUNK))
    with daphne_serving() as (port, _pid):
        head = b"POST /manage/imports/ HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        reply, cut_short = raw_exchange(port, head, chunked)
    assert reply.startswith(b"HTTP/1.1 413 ") and reply.endswith(b"Request body too large.\n")
    assert cut_short
