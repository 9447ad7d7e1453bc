"""Storing a validated problem set: all or nothing, idempotent, and never editing content that sessions use."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from django.db import transaction

from knowledge_graph import services as kg_services
from knowledge_graph.models import Skill

from ..models import Hint, Misconception, Problem, ProblemSet, Step, TutoringSession, User
from .schema import ProblemDoc, ProblemSetDoc


@dataclass
class ImportSummary:
    problem_set: ProblemSet
    problems_created: int = 0
    problems_unchanged: int = 0
    problems_versioned: int = 0
    problems_updated: int = 0
    steps: int = 0
    hints: int = 0
    skills: int = 0
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.problem_set.slug}: {self.problems_created} new, {self.problems_updated} updated, "
            f"{self.problems_versioned} versioned, {self.problems_unchanged} unchanged problems; "
            f"{self.steps} steps, {self.hints} hints, {self.skills} skills, {len(self.warnings)} warnings"
        )


def content_hash(problem: ProblemDoc) -> str:
    return hashlib.sha256(json.dumps(problem.model_dump(), sort_keys=True).encode()).hexdigest()


def _write_problem(
    problem_set: ProblemSet, doc: ProblemDoc, *, position: int, version: int, skills: dict[str, Skill]
) -> Problem:
    problem = Problem.objects.create(
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
        content_hash=content_hash(doc),
    )
    problem.skills.set([skills[c] for c in doc.skills])
    for step_position, step_doc in enumerate(doc.steps, start=1):
        step = Step.objects.create(
            problem=problem,
            position=step_position,
            prompt=step_doc.prompt,
            answer=step_doc.answer,
            answer_type=step_doc.answer_type,
            choices=step_doc.choices,
        )
        step.skills.set([skills[c] for c in step_doc.skills])
        Hint.objects.bulk_create(
            Hint(
                step=step,
                position=i,
                kind=h.kind,
                text=h.text,
                answer=h.answer or "",
                answer_type=h.answer_type,
            )
            for i, h in enumerate(step_doc.hints, start=1)
        )
        Misconception.objects.bulk_create(
            Misconception(step=step, wrong=m.wrong, is_pattern=m.pattern, feedback=m.feedback)
            for m in step_doc.misconceptions
        )
    return problem


@transaction.atomic
def problem_set_import(doc: ProblemSetDoc, *, created_by: User | None = None) -> ImportSummary:
    """Store ``doc``. Unchanged problems are left alone; a changed problem that sessions already use gets a new
    version (the old one stays for those sessions); a changed unused problem is replaced."""
    skills = {
        s.code: kg_services.skill_upsert(code=s.code, name=s.name, description=s.description, source=doc.set.source)
        for s in doc.skills
    }
    kg_services.prerequisites_add(pairs=[(pre, s.code) for s in doc.skills for pre in s.prerequisites])
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
    for position, problem_doc in enumerate(doc.problems, start=1):
        current = Problem.objects.filter(problem_set=problem_set, slug=problem_doc.slug, is_current=True).first()
        summary.steps += len(problem_doc.steps)
        summary.hints += sum(len(s.hints) for s in problem_doc.steps)
        if current is not None and current.content_hash == content_hash(problem_doc):
            if current.position != position:
                Problem.objects.filter(pk=current.pk).update(position=position)
            summary.problems_unchanged += 1
            continue
        version = 1
        if current is not None:
            if TutoringSession.objects.filter(problem=current).exists():
                Problem.objects.filter(pk=current.pk).update(is_current=False)
                version = current.version + 1
                summary.problems_versioned += 1
            else:
                version = current.version
                current.delete()
                summary.problems_updated += 1
        else:
            summary.problems_created += 1
        _write_problem(problem_set, problem_doc, position=position, version=version, skills=skills)
    return summary
