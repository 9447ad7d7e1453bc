"""The flat CSV variant of the native format: one row per step, rows of the same problem one after another.

Columns (docs/formats.md): ``slug, title, text, answer, answer_type, unit, step_prompt, step_answer,
step_answer_type, skills, hint, scaffold, scaffold_answer, bottom_out, misconception, feedback``. Problem columns are
read from a problem's first row; ``skills`` lists skill codes separated by ``;``. Skills are declared by use.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .answers import AnswerNormalizer
from .base import ImportRequest, build_document, humanize, set_meta
from .errors import ContentError, ImportReport
from .safety import read_text
from .schema import ProblemSetDoc

REQUIRED = ("slug", "title", "text", "answer", "step_prompt", "step_answer")
OPTIONAL = (
    "answer_type",
    "unit",
    "step_answer_type",
    "skills",
    "hint",
    "scaffold",
    "scaffold_answer",
    "bottom_out",
    "misconception",
    "feedback",
)
MAX_FIELD_CHARS = 20_000


class CSVImporter:
    name = "csv"
    label = "CSV (one row per step)"

    def detect(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() == ".csv"

    def read(self, request: ImportRequest, report: ImportReport) -> ProblemSetDoc | None:
        source = request.source
        try:
            text = read_text(request.path, source=source)
        except ContentError as exc:
            report.fail(exc)
            return None
        csv.field_size_limit(MAX_FIELD_CHARS)
        reader = csv.DictReader(io.StringIO(text, newline=""), restval=None, restkey="_extra")
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
        except csv.Error as exc:
            report.error(f"{source}:1", "", f"not valid CSV: {exc}", code="syntax")
            return None
        reader.fieldnames = header
        missing = [c for c in REQUIRED if c not in header]
        unknown = [c for c in header if c not in REQUIRED and c not in OPTIONAL]
        if missing:
            report.error(f"{source}:1", "", f"missing columns: {', '.join(missing)}", code="missing")
        if unknown:
            report.error(f"{source}:1", "", f"unknown columns: {', '.join(unknown)}", code="invalid")
        if not report.ok:
            return None
        normalizer = AnswerNormalizer(report)
        problems: dict[str, dict[str, Any]] = {}
        locations: dict[str, str] = {}
        skills: dict[str, None] = {}
        try:
            for row in reader:
                line = reader.line_num
                location = f"{source}:{line}"
                if row.get("_extra"):
                    report.error(location, "", "more values than columns", code="syntax")
                    continue
                if any(row.get(c) is None for c in header):
                    report.error(location, "", "fewer values than columns", code="syntax")
                    continue
                values = {k: (v or "").strip() for k, v in row.items() if k != "_extra"}
                if not any(values.values()):
                    continue
                slug = values["slug"]
                if slug not in problems:
                    if request.limit is not None and len(problems) >= request.limit:
                        break
                    report.records += 1
                    problems[slug] = self._problem(values, location, normalizer)
                    locations[slug] = location
                step = self._step(values, location, normalizer)
                problems[slug]["steps"].append(step)
                skills.update(dict.fromkeys(step["skills"]))
                skills.update(dict.fromkeys(problems[slug]["skills"]))
        except csv.Error as exc:
            report.error(f"{source}:{reader.line_num}", "", f"not valid CSV: {exc}", code="syntax")
            return None
        stem = request.path.stem
        meta = set_meta(request, fmt="", stem=stem, title=stem.replace("-", " ").replace("_", " ").capitalize())
        skill_docs = [{"code": code, "name": humanize(code)} for code in skills]
        return build_document(
            meta=meta,
            skills=skill_docs,
            problems=list(problems.values()),
            locations=[locations[s] for s in problems],
            report=report,
        )

    @staticmethod
    def _problem(values: dict[str, str], location: str, normalizer: AnswerNormalizer) -> dict[str, Any]:
        declared = values.get("answer_type") or "number"
        answer, answer_type = (
            normalizer.normalize(values["answer"], declared, role="problem", location=location, field="answer")
            if values["answer"]
            else ("", declared)
        )
        return {
            "slug": values["slug"],
            "title": values["title"],
            "text": values["text"],
            "answer": answer,
            "answer_type": answer_type,
            "unit": values.get("unit", ""),
            "skills": _codes(values.get("skills", "")),
            "steps": [],
        }

    @staticmethod
    def _step(values: dict[str, str], location: str, normalizer: AnswerNormalizer) -> dict[str, Any]:
        declared = values.get("step_answer_type") or "number"
        answer, answer_type = (
            normalizer.normalize(values["step_answer"], declared, role="step", location=location, field="step_answer")
            if values["step_answer"]
            else ("", declared)
        )
        hints: list[dict[str, Any]] = []
        if values.get("hint"):
            hints.append({"kind": "hint", "text": values["hint"]})
        if values.get("scaffold") or values.get("scaffold_answer"):
            scaffold: dict[str, Any] = {"kind": "scaffold", "text": values.get("scaffold", "")}
            if values.get("scaffold_answer"):
                scaffold["answer"], scaffold["answer_type"] = normalizer.normalize(
                    values["scaffold_answer"], declared, role="scaffold", location=location, field="scaffold_answer"
                )
            hints.append(scaffold)
        if values.get("bottom_out"):
            hints.append({"kind": "bottom_out", "text": values["bottom_out"]})
        misconceptions = []
        if values.get("misconception") or values.get("feedback"):
            misconceptions.append({"wrong": values.get("misconception", ""), "feedback": values.get("feedback", "")})
        return {
            "prompt": values["step_prompt"],
            "answer": answer,
            "answer_type": answer_type,
            "skills": _codes(values.get("skills", "")),
            "hints": hints,
            "misconceptions": misconceptions,
        }


def _codes(text: str) -> list[str]:
    return list(dict.fromkeys(c.strip() for c in text.split(";") if c.strip()))
