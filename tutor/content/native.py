"""Reading a native problem-set file (YAML or JSON) into the validated schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .answers import AnswerNormalizer
from .base import ImportRequest, slugify
from .errors import ContentError, ImportReport
from .native_lint import cross_references, friendly_message, line_index, line_of, raw_answers
from .safety import parse_json, parse_yaml, read_text
from .schema import ProblemSetDoc

__all__ = ["ContentError", "NativeImporter", "load_native_file", "parse_native", "parse_native_data"]


# What a file holds when it is not a mapping, in an admin's words.
_KINDS = {list: "a list", str: "a line of text", int: "a number", float: "a number", bool: "a true/false value"}


def parse_native_data(text: str, *, source: str) -> Any:
    """The plain data of a native file: JSON when the name ends in ``.json``, otherwise YAML (safe loader)."""
    return parse_json(text, source=source) if source.endswith(".json") else parse_yaml(text, source=source)


def error_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top)"


def parse_native(text: str, *, source: str) -> ProblemSetDoc:
    """Parse YAML (a superset of JSON) with the safe loader and validate it."""
    data = parse_native_data(text, source=source)
    try:
        return ProblemSetDoc.model_validate(data)
    except ValidationError as exc:
        raise ContentError(source, [f"{error_path(err['loc'])}: {err['msg']}" for err in exc.errors()]) from exc


def load_native_file(path: Path) -> ProblemSetDoc:
    return parse_native(read_text(path, source=str(path)), source=str(path))


def make_checkable(doc: ProblemSetDoc, normalizer: AnswerNormalizer, *, location: str) -> None:
    """Normalize every answer of an authored document in place (an unreadable math answer becomes text)."""
    for i, problem in enumerate(doc.problems):
        where = f"problems.{i}"
        problem.answer, problem.answer_type = normalizer.normalize(  # type: ignore[assignment]
            problem.answer,
            problem.answer_type,
            role="problem",
            location=location,
            field=f"{where}.answer",
            choices=problem.choices,
        )
        for j, step in enumerate(problem.steps):
            step.answer, step.answer_type = normalizer.normalize(  # type: ignore[assignment]
                step.answer,
                step.answer_type,
                role="step",
                location=location,
                field=f"{where}.steps.{j}.answer",
                choices=step.choices,
            )
            for k, hint in enumerate(step.hints):
                if hint.kind == "scaffold" and hint.answer:
                    hint.answer, hint.answer_type = normalizer.normalize(  # type: ignore[assignment]
                        hint.answer,
                        hint.answer_type,
                        role="scaffold",
                        location=location,
                        field=f"{where}.steps.{j}.hints.{k}.answer",
                    )


class NativeImporter:
    """The native format, ``tutor-native/1``, in YAML or JSON (docs/formats.md)."""

    name = "native"
    label = "Native (YAML or JSON)"

    def detect(self, path: Path) -> bool:
        return path.is_file() and path.suffix.lower() in (".yaml", ".yml", ".json")

    def read(self, request: ImportRequest, report: ImportReport) -> ProblemSetDoc | None:
        source = request.source
        try:
            text = read_text(request.path, source=source)
            data = parse_native_data(text, source=source)
        except ContentError as exc:
            report.fail(exc)
            return None
        if not isinstance(data, dict):
            what = "empty" if data is None else f"{_KINDS.get(type(data), 'a single value')}"
            report.error(source, "", f"the file is {what}; a problem set is a mapping of format, set and problems")
            return None
        problems = data.get("problems")
        if isinstance(problems, list):
            if request.limit is not None:
                data["problems"] = problems = problems[: request.limit]
            report.records = len(problems)
        if request.set_name.strip() and isinstance(data.get("set"), dict):
            data["set"] = {**data["set"], "slug": slugify(request.set_name), "title": request.set_name.strip()}
        try:
            doc = ProblemSetDoc.model_validate(data)
        except ValidationError as exc:
            report_everything(data, text, exc, report, source=source)
            return None
        make_checkable(doc, AnswerNormalizer(report), location=source)
        return doc


def report_everything(data: Any, text: str, exc: ValidationError, report: ImportReport, *, source: str) -> None:
    """Report every problem of an invalid document at once, each at its line: field errors, cross-references
    (which pydantic checks only once every field is valid) and answers that cannot be checked."""
    lines = line_index(text)

    def at(path: tuple[str | int, ...]) -> str:
        line = line_of(lines, path)
        return f"{source}:{line}" if line else source

    for err in exc.errors():
        if err["loc"]:  # the document-level check's first complaint; cross_references lists them all below
            report.error(at(err["loc"]), error_path(err["loc"]), friendly_message(dict(err)), code="invalid")
    for path, message in cross_references(data):
        report.error(at(path), error_path(path), message, code="invalid")
    normalizer = AnswerNormalizer(report)
    for path, answer, answer_type, role in raw_answers(data):
        normalizer.normalize(answer, answer_type, role=role, location=at(path), field=error_path(path))
    if report.ok:  # only a document-level complaint, which the checks above did not restate
        for err in exc.errors():
            report.error(at(err["loc"]), error_path(err["loc"]), friendly_message(dict(err)), code="invalid")
