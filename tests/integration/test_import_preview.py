"""Previewing an uploaded problem set before storing it: the file is read and checked as an import reads it,
nothing is written, each problem shows as students will see it, and "Store this set" imports the same upload."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tutor.content.jobs import import_job_preview_read
from tutor.models import ImportJob, Problem, ProblemSet
from tutor.problem_preview import preview_turns, problem_from_doc

from .conftest import World

pytestmark = pytest.mark.django_db

PREVIEW_SET = """\
format: tutor-native/1
set:
  slug: preview-check
  title: Preview check
skills:
  - {code: arith.multiply, name: Multiplication}
problems:
  - slug: egg-boxes
    title: Egg boxes <script>alert(1)</script>
    text: |
      A shop has **5 boxes** with 6 eggs in each. Then 4 eggs break.
      How many whole eggs are left?
    answer: "26"
    skills: [arith.multiply]
    steps:
      - prompt: How many eggs are in the boxes before any break?
        answer: "30"
        hints:
          - {kind: hint, text: "Each box holds the same number of eggs."}
          - {kind: scaffold, text: "What is 5 groups of 6?", answer: "30"}
          - {kind: bottom_out, text: "5 boxes of 6 eggs make 5 * 6 = 30 eggs."}
      - prompt: How many are left once 4 break?
        answer: "26"
        hints:
          - {kind: bottom_out, text: "30 - 4 = 26 eggs are left."}
  - slug: bus-seats
    title: Bus seats
    text: A bus has 12 rows of 4 seats. How many seats are there?
    answer: "48"
    steps:
      - prompt: How many seats are there?
        answer: "48"
"""

# The second problem's step has no answer: the file cannot be stored.
BROKEN_SET = PREVIEW_SET.replace('        answer: "48"\n', "", 1)


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def upload_preview(client: Client, content: str = PREVIEW_SET) -> ImportJob:
    upload = SimpleUploadedFile("preview-check.yaml", content.encode())
    response = client.post(reverse("admin_imports"), {"file": upload, "format": "", "set_name": "", "preview": "on"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin_import_job", args=[job.pk])
    return job


def test_the_upload_form_offers_the_preview_checked(world: World) -> None:
    page = client_for(world.admin).get(reverse("admin_imports")).content.decode()
    assert 'name="preview"' in page and "Preview before storing" in page
    assert re.search(r'<input type="checkbox" name="preview"[^>]* checked>', page)


def test_a_preview_writes_no_problems_keeps_the_upload_and_lists_the_problems(world: World, eager: None) -> None:
    problems_before, sets_before = Problem.objects.count(), ProblemSet.objects.count()
    client = client_for(world.admin)
    job = upload_preview(client)
    job.refresh_from_db()
    assert job.preview_only and job.status == ImportJob.Status.DONE and job.problem_set is None
    assert job.upload is not None and bytes(job.upload) == PREVIEW_SET.encode()
    assert (Problem.objects.count(), ProblemSet.objects.count()) == (problems_before, sets_before)
    assert not ProblemSet.objects.filter(slug="preview-check").exists()
    assert "nothing stored" in job.summary and job.counts["problems"] == 2 and job.counts["steps"] == 3
    assert [(p["number"], p["title"], p["steps"]) for p in job.report["preview_problems"]] == [
        (1, "Egg boxes <script>alert(1)</script>", 2),
        (2, "Bus seats", 1),
    ]

    page = client.get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert "Previewed, not stored" in page and 'id="store-form"' in page
    assert reverse("admin_import_store", args=[job.pk]) in page
    assert reverse("admin_import_preview_problem", args=[job.pk, 1]) in page
    assert reverse("admin_import_preview_problem", args=[job.pk, 2]) in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_a_problem_preview_shows_the_statement_the_hint_ladder_and_the_tutors_wording(
    world: World, eager: None
) -> None:
    client = client_for(world.admin)
    job = upload_preview(client)
    page = client.get(reverse("admin_import_preview_problem", args=[job.pk, 1])).content.decode()
    assert "<strong>5 boxes</strong>" in page  # the statement, rendered from Markdown as in a session
    assert "Preview check" in page and "Problem 1 of 2" in page
    assert "<script>alert(1)</script>" not in page and "Egg boxes &lt;script&gt;" in page
    ladder = page.index("Each box holds the same number of eggs."), page.index("What is 5 groups of 6?")
    assert ladder[0] < ladder[1] < page.index("5 boxes of 6 eggs make 5 * 6 = 30 eggs.")
    assert "Scaffold question" in page and "Bottom-out" in page and "(answer: 30)" in page
    assert 'id="transcript"' in page and "Can I have a hint?" in page
    assert Problem.objects.filter(slug="egg-boxes").count() == 0

    missing = client.get(reverse("admin_import_preview_problem", args=[job.pk, 3]))
    assert missing.status_code == 404


def test_the_preview_shows_what_the_stored_problem_will_show(world: World, eager: None) -> None:
    client = client_for(world.admin)
    job = upload_preview(client)
    result = import_job_preview_read(job)
    assert result is not None and result.doc is not None
    previewed = [preview_turns(problem_from_doc(doc)) for doc in result.doc.problems]

    assert client.post(reverse("admin_import_store", args=[job.pk])).status_code == 302
    stored = Problem.objects.filter(problem_set__slug="preview-check", is_current=True).order_by("position")
    assert [[(t.role, t.text, t.move) for t in turns] for turns in previewed] == [
        [(t.role, t.text, t.move) for t in preview_turns(problem.to_domain())] for problem in stored
    ]


def test_store_imports_the_previewed_upload_as_a_direct_import_would(world: World, eager: None) -> None:
    client = client_for(world.admin)
    job = upload_preview(client)
    response = client.post(reverse("admin_import_store", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin_import_job", args=[job.pk])
    job.refresh_from_db()
    assert not job.preview_only and job.status == ImportJob.Status.DONE and job.upload is None
    assert job.problem_set is not None and job.problem_set.slug == "preview-check"
    assert Problem.objects.filter(problem_set=job.problem_set).count() == 2 == job.counts["problems"]
    page = client.get(response["Location"]).content.decode()
    assert "Imported" in page and "Stored as the problem set" in page and 'id="store-form"' not in page

    # A second press finds no preview left to store and changes nothing.
    again = client.post(reverse("admin_import_store", args=[job.pk]))
    assert again.status_code == 409 and Problem.objects.filter(problem_set=job.problem_set).count() == 2
    assert client.get(reverse("admin_import_preview_problem", args=[job.pk, 1])).status_code == 404

    # The same file imported directly gives the same set: nothing new.
    direct = SimpleUploadedFile("preview-check.yaml", PREVIEW_SET.encode())
    client.post(reverse("admin_imports"), {"file": direct, "format": "", "set_name": ""})
    latest = ImportJob.objects.exclude(pk=job.pk).get()
    assert not latest.preview_only and latest.problem_set == job.problem_set
    assert latest.counts["problems_unchanged"] == 2 and Problem.objects.filter(problem_set=job.problem_set).count() == 2


def test_a_preview_of_a_file_with_errors_shows_them_and_offers_no_store(world: World, eager: None) -> None:
    problems_before = Problem.objects.count()
    client = client_for(world.admin)
    job = upload_preview(client, BROKEN_SET)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.report["error_count"] >= 1
    page = client.get(reverse("admin_import_job", args=[job.pk])).content.decode()
    assert "Errors (" in page and "answer" in page
    assert 'id="store-form"' not in page and reverse("admin_import_store", args=[job.pk]) not in page
    assert client.post(reverse("admin_import_store", args=[job.pk])).status_code == 409
    assert client.get(reverse("admin_import_preview_problem", args=[job.pk, 1])).status_code == 404
    assert Problem.objects.count() == problems_before


def test_a_direct_import_is_not_a_preview_and_cannot_be_stored_again(world: World, eager: None) -> None:
    client = client_for(world.admin)
    upload = SimpleUploadedFile("preview-check.yaml", PREVIEW_SET.encode())
    client.post(reverse("admin_imports"), {"file": upload, "format": "", "set_name": ""})
    job = ImportJob.objects.get()
    assert not job.preview_only and job.status == ImportJob.Status.DONE and job.problem_set is not None
    assert client.post(reverse("admin_import_store", args=[job.pk])).status_code == 409


@pytest.mark.parametrize("name", ["admin_import_store", "admin_import_preview_problem"])
def test_only_admins_reach_the_preview_pages(world: World, eager: None, name: str) -> None:
    job = upload_preview(client_for(world.admin))
    args = [job.pk] if name == "admin_import_store" else [job.pk, 1]
    url = reverse(name, args=args)
    send = Client.post if name == "admin_import_store" else Client.get
    anonymous = send(Client(), url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    for user in (world.student, world.teacher):
        assert send(client_for(user), url).status_code == 403
    job.refresh_from_db()
    assert job.preview_only and job.status == ImportJob.Status.DONE  # nobody but an admin stored it
    assert send(client_for(world.admin), url).status_code == (302 if name == "admin_import_store" else 200)


def test_store_needs_a_csrf_token(world: World, eager: None) -> None:
    job = upload_preview(client_for(world.admin))
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    assert client.post(reverse("admin_import_store", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.preview_only and job.status == ImportJob.Status.DONE
