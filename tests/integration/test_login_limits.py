"""Failed log-ins are limited per username and per client address; successful log-ins never count.

A whole class logs in from one school address, so only failures may count against an address, and at a higher limit
than against one username. The Django admin's log-in page shares the same counters.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tutor.models import User

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

WRONG = "not-the-password"


@pytest.fixture(autouse=True)
def _own_counters(settings: Any) -> None:
    """Counters of earlier tests (kept in Redis for the whole run) must not lock this test's names and addresses."""
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"login-limits-{uuid.uuid4().hex[:8]}"
    settings.CACHES = caches


def client_from(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def log_in(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def admin_log_in(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"})


def signed_in_as(client: Client) -> str | None:
    """The username the client's session is signed in as, asked of the app itself."""
    user = client.get(reverse("home")).wsgi_request.user
    return user.get_username() if user.is_authenticated else None


def test_a_whole_class_behind_one_school_address_logs_in(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    students = [make_user(f"s-nat-{n:02d}", User.Role.STUDENT) for n in range(40)]
    statuses = [log_in(client_from("203.0.113.9"), student.username, PASSWORD).status_code for student in students]
    assert statuses == [302] * len(students)


def test_a_student_who_mistypes_a_few_times_still_gets_in(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    make_user("s-typo", User.Role.STUDENT)
    client = client_from("203.0.113.10")
    assert [log_in(client, "s-typo", WRONG).status_code for _ in range(2)] == [200, 200]
    assert log_in(client, "s-typo", PASSWORD).status_code == 302
    # The success wiped the slate: two more slips do not reach the limit of three.
    other = client_from("203.0.113.10")
    assert [log_in(other, "s-typo", WRONG).status_code for _ in range(2)] == [200, 200]
    assert log_in(other, "s-typo", PASSWORD).status_code == 302


def test_failures_for_one_username_lock_it_even_from_many_addresses(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 5
    make_user("s-target", User.Role.STUDENT)
    make_user("s-bystander", User.Role.STUDENT)
    for n in range(5):
        assert log_in(client_from(f"198.51.100.{n + 1}"), "s-target", WRONG).status_code == 200

    # Right password, fresh address: still refused, and nothing is signed in.
    client = client_from("198.51.100.200")
    refused = log_in(client, "s-target", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed log-ins" in refused.content.decode()
    assert refused.headers["Retry-After"] == str(settings.LOGIN_FAILURE_WINDOW_SECONDS)
    assert signed_in_as(client) is None
    # The lock is on that username only.
    assert log_in(client_from("198.51.100.1"), "s-bystander", PASSWORD).status_code == 302


def test_a_look_alike_spelling_of_a_locked_username_is_locked_too(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    make_user("s-target", User.Role.STUDENT)
    for n in range(3):
        assert log_in(client_from(f"198.51.100.{n + 1}"), "s-target", WRONG).status_code == 200
    # Full-width letters and stray spaces: the form normalizes them into the same username and would log it in.
    for spelling in ("\uff53-target", " s-target ", "S-TARGET"):
        client = client_from("198.51.100.201")
        assert log_in(client, spelling, PASSWORD).status_code == 429, spelling
        assert signed_in_as(client) is None


def test_a_lockout_looks_the_same_whether_or_not_the_username_exists(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    make_user("s-real", User.Role.STUDENT)
    pages = {}
    for username in ("s-real", "s-made-up"):
        for n in range(3):
            assert log_in(client_from(f"192.0.2.{n + 1}"), username, WRONG).status_code == 200
        response = log_in(client_from("192.0.2.50"), username, PASSWORD)
        # Each page masks its CSRF token afresh; everything else must match.
        page = re.sub(r'"X-CSRFToken": "\w+"', "", response.content.decode())
        pages[username] = (response.status_code, page)
    assert pages["s-real"][0] == 429
    assert pages["s-real"] == pages["s-made-up"]


def test_failures_from_one_address_lock_that_address_at_a_higher_limit(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 8
    make_user("s-in-class", User.Role.STUDENT)
    guesser = "203.0.113.66"
    # Sprayed over many usernames no single username reaches its limit, but the address does.
    statuses = [log_in(client_from(guesser), f"s-guess-{n}", WRONG).status_code for n in range(8)]
    assert statuses == [200] * 8
    assert log_in(client_from(guesser), "s-in-class", PASSWORD).status_code == 429
    assert log_in(client_from("203.0.113.67"), "s-in-class", PASSWORD).status_code == 302


def test_the_admin_log_in_page_is_limited_too(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 5
    make_user("a-root", User.Role.ADMIN, is_staff=True, is_superuser=True)
    for n in range(5):
        page = admin_log_in(client_from(f"198.51.100.{n + 10}"), "a-root", WRONG)
        assert page.status_code == 200 and "correct username and password" in page.content.decode()

    client = client_from("198.51.100.99")
    refused = admin_log_in(client, "a-root", PASSWORD)
    assert refused.status_code == 429 and "Too many failed log-ins" in refused.content.decode()
    assert signed_in_as(client) is None


def test_the_admin_and_the_app_log_in_share_one_count(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 4
    make_user("a-shared", User.Role.ADMIN, is_staff=True, is_superuser=True)
    client = client_from("198.51.100.30")
    for _ in range(2):
        assert log_in(client, "a-shared", WRONG).status_code == 200
        assert admin_log_in(client, "a-shared", WRONG).status_code == 200
    assert log_in(client, "a-shared", PASSWORD).status_code == 429
    assert admin_log_in(client, "a-shared", PASSWORD).status_code == 429


def test_an_admin_logs_in_to_the_admin_after_a_slip(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    make_user("a-slip", User.Role.ADMIN, is_staff=True, is_superuser=True)
    client = client_from("198.51.100.31")
    assert admin_log_in(client, "a-slip", WRONG).status_code == 200
    response = admin_log_in(client, "a-slip", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert signed_in_as(client) == "a-slip"
