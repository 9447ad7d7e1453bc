"""GSM8K jsonl (``{"question": ..., "answer": "... #### 72"}`` per line), train, test and the socratic variant.

The tutoring content of one record (steps from the annotated calculations, scaffolds per operation, misconceptions
from swapped operations, the socratic sub-questions when present) comes from :mod:`pedagogy.gsm8k`; this module reads
the file, reports bad records by line (and, as warnings on the record's line, every calculation the builder had to
repair or leave out), and maps the result to the native format.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pedagogy.domain import Problem as DomainProblem
from pedagogy.gsm8k import build_problem, final_answer

from .answers import AnswerNormalizer
from .base import ImportRequest, build_document, jsonl_lines, set_meta, slugify
from .errors import ImportReport
from .schema import ProblemSetDoc

SKILL_NAMES = {
    "arith.add": "Addition",
    "arith.subtract": "Subtraction",
    "arith.multiply": "Multiplication",
    "arith.divide": "Division",
    "arith.multistep": "Multi-step arithmetic",
    "number.decimals": "Decimals",
}
_ANNOTATION_RE = re.compile(r"<<[^<>]*>>")
_NUMBER_RE = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def _whole_solution(solution: str) -> str:
    """The worked solution as a reader sees it: no calculator annotations, no ``####`` line, no socratic questions."""
    lines = []
    for line in solution.split("####")[0].splitlines():
        work = line.rpartition(" ** ")[2] if " ** " in line else line
        if work.strip():
            lines.append(_ANNOTATION_RE.sub("", work).strip())
    return "\n".join(lines)


class GSM8KImporter:
    name = "gsm8k"
    label = "GSM8K (jsonl)"

    def detect(self, path: Path) -> bool:
        if not (path.is_file() and path.suffix.lower() == ".jsonl"):
            return False
        try:
            with path.open("rb") as fh:
                first = json.loads(fh.readline() or b"null")
        except (OSError, ValueError):
            return False
        return isinstance(first, dict) and "question" in first and "answer" in first

    def read(self, request: ImportRequest, report: ImportReport) -> ProblemSetDoc | None:
        stem = request.path.stem
        normalizer = AnswerNormalizer(report)
        problems: list[dict[str, Any]] = []
        locations: list[str] = []
        skills: dict[str, None] = {}
        for lineno, location, record in jsonl_lines(request, report):
            report.records += 1
            if report.records % 1000 == 0:
                request.tick(f"read {report.records:,} problems")
            if record is None:
                continue
            problem = self._problem(record, location, f"{slugify(stem)}-{lineno}", normalizer, report)
            if problem is not None:
                problems.append(problem)
                locations.append(location)
                for step in problem["steps"]:
                    skills.update(dict.fromkeys(step["skills"]))
        meta = set_meta(
            request,
            fmt="gsm8k",
            stem=stem,
            title=f"GSM8K {stem.replace('_', ' ')}",
            description="Grade-school math word problems from GSM8K (Cobbe et al. 2021).",
            source="gsm8k",
            license="MIT",
        )
        skill_docs = [{"code": code, "name": SKILL_NAMES.get(code, code)} for code in skills]
        request.tick("validating")
        return build_document(meta=meta, skills=skill_docs, problems=problems, locations=locations, report=report)

    def _problem(
        self, record: Any, location: str, slug: str, normalizer: AnswerNormalizer, report: ImportReport
    ) -> dict[str, Any] | None:
        if not isinstance(record, dict):
            report.error(location, "", "a record must be a JSON object", code="type")
            return None
        ok = True
        for key in ("question", "answer"):
            value = record.get(key)
            if not isinstance(value, str) or not value.strip():
                report.error(location, key, "is missing" if value is None else "must be non-empty text", code="missing")
                ok = False
        if not ok:
            return None
        final = final_answer(record["answer"])
        if final is None:
            report.error(location, "answer", "has no final answer after '####'", code="missing")
            return None
        if not _NUMBER_RE.fullmatch(final):
            report.error(location, "answer", f"final answer {final[:60]!r} is not a number", code="invalid")
            return None
        built = build_problem(record, problem_id=slug)
        for warning in built.warnings:
            report.warn(location, "answer", warning.message, code=warning.code)
        domain = built.problem
        if domain is None:
            reason = "no usable calculation" if built.warnings else "no calculator annotations"
            report.warn(location, "answer", f"{reason}: imported as a single step", code="single-step")
            domain = self._single_step(record, slug, final)
        return self._to_native(domain, location, normalizer)

    @staticmethod
    def _single_step(record: dict[str, str], slug: str, final: str) -> DomainProblem:
        from pedagogy.domain import Hint, Step

        question = record["question"].strip()
        step = Step(
            id="s1",
            prompt=question.replace("$", "\\$"),
            answer=final,
            hints=(Hint("bottom_out", _whole_solution(record["answer"]).replace("$", "\\$") or final),),
        )
        return DomainProblem(
            id=slug, title=question[:60], text=question.replace("$", "\\$"), answer=final, steps=(step,)
        )

    @staticmethod
    def _to_native(problem: DomainProblem, location: str, normalizer: AnswerNormalizer) -> dict[str, Any]:
        answer, answer_type = normalizer.normalize(
            problem.answer, problem.answer_type, role="problem", location=location, field="answer"
        )
        steps = []
        for i, step in enumerate(problem.steps):
            where = f"steps[{i}]"
            step_answer, step_type = normalizer.normalize(
                step.answer, step.answer_type, role="step", location=location, field=f"{where}.answer"
            )
            hints: list[dict[str, Any]] = []
            for j, hint in enumerate(step.hints):
                entry: dict[str, Any] = {"kind": hint.kind, "text": hint.text}
                if hint.kind == "scaffold" and hint.answer:
                    entry["answer"], entry["answer_type"] = normalizer.normalize(
                        hint.answer,
                        hint.answer_type,
                        role="scaffold",
                        location=location,
                        field=f"{where}.hints[{j}].answer",
                    )
                hints.append(entry)
            steps.append(
                {
                    "prompt": step.prompt,
                    "answer": step_answer,
                    "answer_type": step_type,
                    "skills": list(step.skills),
                    "hints": hints,
                    "misconceptions": [
                        {"wrong": m.wrong, "feedback": m.feedback, "pattern": m.pattern} for m in step.misconceptions
                    ],
                }
            )
        return {
            "slug": problem.id,
            "title": problem.title or problem.text[:60],
            "text": problem.text,
            "answer": answer,
            "answer_type": answer_type,
            "skills": list(problem.all_skills()),
            "steps": steps,
        }
