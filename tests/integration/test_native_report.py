"""A broken native file is reported whole, in one pass, each problem at its line, in words an author understands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.content.jobs import import_path
from tutor.models import ProblemSet

pytestmark = pytest.mark.django_db

BROKEN = """format: tutor-native/1
set: {slug: broken-set, title: Broken set}
skills:
  - {code: arith.add, name: Addition, prerequisites: [arith.count]}
problems:
  - slug: first
    title: First
    text: "What is 1 + 1?"
    answer: "2"
    steps:
      - {prompt: "Add them", answer: "2", skills: [arith.nope]}
  - slug: first
    title: Again
    text: "What is 3/4 of 8?"
    answer: "\\\\frac{3"
    answer_type: expression
    steps:
      - {prompt: "Go", answer: "6"}
  - slug: Not A Slug
    title: Third
    text: "x"
    answer: "1"
    steps: []
"""


def test_every_error_of_a_broken_file_comes_in_one_report_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    outcome = import_path(path=path, fmt="native")
    assert not outcome.ok and not ProblemSet.objects.exists()
    errors = {(e.location, e.field): e.reason for e in outcome.report.errors}
    assert errors == {
        ("broken.yaml:19", "problems.2.slug"): (
            "must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (like 'muffin-trays')"
        ),
        ("broken.yaml:23", "problems.2.steps"): "needs at least one item",
        ("broken.yaml:4", "skills.0.prerequisites"): "prerequisite 'arith.count' is not declared under skills",
        ("broken.yaml:11", "problems.0.steps.0.skills"): "skill 'arith.nope' is not declared under skills",
        ("broken.yaml:12", "problems.1.slug"): "repeats the slug of problems.0",
    }
    (kept_as_text,) = [w for w in outcome.report.warnings if w.field == "problems.1.answer"]
    assert kept_as_text.location == "broken.yaml:15"
