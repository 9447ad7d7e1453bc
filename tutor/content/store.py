"""Storing a validated problem set: all or nothing, idempotent, and never editing content that sessions use.

Large sets (the 12,814 OATutor problems) are written with a fixed number of queries per batch, not per row: the
current rows are read once, unchanged problems are skipped by their content digest, and new rows go in with
``bulk_create``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import transaction

from knowledge_graph import services as kg_services
from knowledge_graph.models import Skill

from ..models import Hint, Misconception, Problem, ProblemSet, Step, TutoringSession, User
from .schema import ProblemDoc, ProblemSetDoc

BATCH = 2_000
# Ids per ``IN (...)`` list: well under SQLite's limit on query parameters.
ID_CHUNK = 500
T = TypeVar("T")


@dataclass
class ImportSummary:
    problem_set: ProblemSet
    problems_created: int = 0
    problems_unchanged: int = 0
    problems_versioned: int = 0
    problems_updated: int = 0
    steps: int = 0
    hints: int = 0
    scaffolds: int = 0
    skills: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0

    @property
    def problems(self) -> int:
        return self.problems_created + self.problems_unchanged + self.problems_versioned + self.problems_updated

    def line(self) -> str:
        warnings = max(self.warning_count, len(self.warnings))
        return (
            f"{self.problem_set.slug}: {self.problems_created} new, {self.problems_updated} updated, "
            f"{self.problems_versioned} versioned, {self.problems_unchanged} unchanged problems; "
            f"{self.steps} steps, {self.hints} hints ({self.scaffolds} scaffolds), {self.skills} skills, "
            f"{warnings} warnings"
        )


def content_hash(problem: ProblemDoc) -> str:
    return hashlib.sha256(json.dumps(problem.model_dump(), sort_keys=True).encode()).hexdigest()


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _skills(doc: ProblemSetDoc) -> dict[str, Skill]:
    """The set's skills by code. Only new or changed skills go through the skill graph's service."""
    codes = [s.code for s in doc.skills]
    existing: dict[str, Skill] = {}
    for chunk in _chunks(codes, ID_CHUNK):
        existing.update((s.code, s) for s in Skill.objects.filter(code__in=chunk))
    for s in doc.skills:
        have = existing.get(s.code)
        if have is None or (s.name and have.name != s.name) or (s.description and have.description != s.description):
            existing[s.code] = kg_services.skill_upsert(
                code=s.code, name=s.name, description=s.description, source=doc.set.source
            )
    pairs = [(pre, s.code) for s in doc.skills for pre in s.prerequisites]
    if pairs:
        kg_services.prerequisites_add(pairs=pairs)
    return existing


def _write_problems(
    problem_set: ProblemSet, items: list[tuple[ProblemDoc, int, int, str]], skills: dict[str, Skill]
) -> None:
    """Insert problems with their steps, hints, misconceptions and skill links; ``items`` holds
    (document, position, version, digest)."""
    problems = Problem.objects.bulk_create(
        [
            Problem(
                problem_set=problem_set,
                slug=doc.slug,
                version=version,
                position=position,
                title=doc.title,
                text=doc.text,
                answer=doc.answer,
                answer_type=doc.answer_type,
                unit=doc.unit,
                choices=doc.choices,
                content_hash=digest,
            )
            for doc, position, version, digest in items
        ],
        batch_size=BATCH,
    )
    problem_skills = Problem.skills.through
    step_skills = Step.skills.through
    problem_skills.objects.bulk_create(
        [
            problem_skills(problem_id=problem.pk, skill_id=skills[code].pk)
            for problem, (doc, *_rest) in zip(problems, items, strict=True)
            for code in dict.fromkeys(doc.skills)
        ],
        batch_size=BATCH,
    )
    step_docs = [
        (problem, i, s)
        for problem, (doc, *_rest) in zip(problems, items, strict=True)
        for i, s in enumerate(doc.steps, start=1)
    ]
    steps = Step.objects.bulk_create(
        [
            Step(
                problem=problem,
                position=i,
                prompt=s.prompt,
                answer=s.answer,
                answer_type=s.answer_type,
                choices=s.choices,
            )
            for problem, i, s in step_docs
        ],
        batch_size=BATCH,
    )
    pairs = list(zip(steps, (s for _, _, s in step_docs), strict=True))
    step_skills.objects.bulk_create(
        [step_skills(step_id=step.pk, skill_id=skills[c].pk) for step, doc in pairs for c in dict.fromkeys(doc.skills)],
        batch_size=BATCH,
    )
    Hint.objects.bulk_create(
        [
            Hint(
                step=step,
                position=i,
                kind=h.kind,
                text=h.text,
                answer=h.answer or "",
                answer_type=h.answer_type,
            )
            for step, doc in pairs
            for i, h in enumerate(doc.hints, start=1)
        ],
        batch_size=BATCH,
    )
    Misconception.objects.bulk_create(
        [
            Misconception(step=step, wrong=m.wrong, is_pattern=m.pattern, feedback=m.feedback)
            for step, doc in pairs
            for m in doc.misconceptions
        ],
        batch_size=BATCH,
    )


@transaction.atomic
def problem_set_import(
    doc: ProblemSetDoc,
    *,
    created_by: User | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportSummary:
    """Store ``doc``. Unchanged problems are left alone; a changed problem that sessions already use gets a new
    version (the old one stays for those sessions); a changed unused problem is replaced."""
    skills = _skills(doc)
    problem_set, _ = ProblemSet.objects.update_or_create(
        slug=doc.set.slug,
        defaults={
            "title": doc.set.title,
            "description": doc.set.description,
            "source": doc.set.source,
            "license": doc.set.license,
        },
    )
    if problem_set.created_by is None and created_by is not None:
        problem_set.created_by = created_by
        problem_set.save(update_fields=["created_by"])
    summary = ImportSummary(problem_set=problem_set, skills=len(skills))
    # 1. What is stored now: the current version of each problem, and which of those sessions use.
    current = {
        p.slug: p
        for p in Problem.objects.filter(problem_set=problem_set, is_current=True).only(
            "id", "slug", "version", "position", "content_hash"
        )
    }
    in_use = set(
        TutoringSession.objects.filter(problem__problem_set=problem_set, problem__is_current=True)
        .values_list("problem_id", flat=True)
        .distinct()
    )
    # 2. Sort every problem of the document into unchanged, versioned, replaced or new.
    moved: list[Problem] = []
    retire: list[int] = []
    replace: list[int] = []
    to_write: list[tuple[ProblemDoc, int, int, str]] = []
    for position, problem_doc in enumerate(doc.problems, start=1):
        summary.steps += len(problem_doc.steps)
        for step in problem_doc.steps:
            summary.hints += len(step.hints)
            summary.scaffolds += sum(1 for h in step.hints if h.kind == "scaffold")
        digest = content_hash(problem_doc)
        existing = current.get(problem_doc.slug)
        if existing is not None and existing.content_hash == digest:
            if existing.position != position:
                existing.position = position
                moved.append(existing)
            summary.problems_unchanged += 1
            continue
        version = 1
        if existing is not None:
            if existing.pk in in_use:
                retire.append(existing.pk)
                version = existing.version + 1
                summary.problems_versioned += 1
            else:
                replace.append(existing.pk)
                version = existing.version
                summary.problems_updated += 1
        else:
            summary.problems_created += 1
        to_write.append((problem_doc, position, version, digest))
    # 3. Retire and replace before inserting: one current row per slug, one row per (slug, version).
    for chunk in _chunks(retire, ID_CHUNK):
        Problem.objects.filter(pk__in=chunk).update(is_current=False)
    for chunk in _chunks(replace, ID_CHUNK):
        Problem.objects.filter(pk__in=chunk).delete()
    if moved:
        Problem.objects.bulk_update(moved, ["position"], batch_size=BATCH)
    # 4. Insert in batches of problems, so memory stays flat on large sets.
    for start in range(0, len(to_write), BATCH):
        _write_problems(problem_set, to_write[start : start + BATCH], skills)
        if progress is not None:
            progress(f"stored {min(start + BATCH, len(to_write)):,} of {len(to_write):,} new or changed problems")
    return summary
