"""What every importer shares: the request it reads, slugs, and turning built records into a validated document."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from .errors import ImportReport
from .native_lint import friendly_message
from .safety import MAX_FILE_BYTES, nested_too_deep, nul_in_text, too_deep_message
from .schema import FORMAT_ID, ProblemSetDoc

Progress = Callable[[str], None]
# Stands for a JSON line too deep for the parser's stack.
_TOO_DEEP = object()
_SLUG_BAD = re.compile(r"[^a-z0-9._-]+")


def slugify(text: str, *, max_length: int = 120) -> str:
    """A slug the native format accepts: lower case letters, digits, ``.``, ``_`` and ``-``, starting with a letter
    or digit. Other characters (spaces, apostrophes, accents) become ``-``."""
    slug = _SLUG_BAD.sub("-", text.strip().lower()).lstrip("._-")
    return slug[:max_length].rstrip("-") or "set"


def humanize(code: str) -> str:
    """A readable name for a code such as ``solve_linear_equations`` (OATutor's knowledge components)."""
    words = re.sub(r"[_\s]+", " ", code).strip()
    return (words[:1].upper() + words[1:])[:200] if words else code[:200]


@dataclass
class ImportRequest:
    """One import: what to read and how to name the set.

    ``path`` is a file or a folder (an uploaded zip has already been extracted into a folder); ``source`` names it in
    the report; ``boundary`` is the outermost folder an importer may look in for companion files such as OATutor's
    ``skillModel.json`` (the extraction folder for an upload, the parent of the path for a local import).
    """

    path: Path
    source: str
    set_name: str = ""
    limit: int | None = None
    boundary: Path | None = None
    progress: Progress | None = None

    def tick(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)


class Importer(Protocol):
    """Reads one input format into the native schema, reporting every bad record instead of stopping at the first."""

    name: str
    label: str

    def detect(self, path: Path) -> bool:
        """Whether ``path`` (a file or a folder) looks like this format."""

    def read(self, request: ImportRequest, report: ImportReport) -> ProblemSetDoc | None:
        """The validated document, or None when the report holds errors."""


def set_meta(request: ImportRequest, *, fmt: str, stem: str, title: str, **extra: str) -> dict[str, str]:
    """The set's slug and title: from ``--set`` when given, else from the file or folder name, prefixed with the
    format (``gsm8k-train``) so imports of different sources do not collide."""
    if request.set_name.strip():
        name = request.set_name.strip()
        return {"slug": slugify(name), "title": name[:200], **extra}
    base = slugify(stem)
    slug = base if base.startswith(fmt) else slugify(f"{fmt}-{base}")
    return {"slug": slug, "title": title[:200], **extra}


def build_document(
    *,
    meta: dict[str, str],
    skills: list[dict[str, Any]],
    problems: list[dict[str, Any]],
    locations: list[str],
    report: ImportReport,
) -> ProblemSetDoc | None:
    """Validate built records as one native document; each validation error is reported at its record's location.

    ``locations[i]`` says where ``problems[i]`` came from (``train.jsonl:12``, ``a005bd5real1/a005bd5real1.json``).
    """
    if not report.ok:
        return None
    if not problems:
        report.error(report.source, "", "no problems found", code="empty")
        return None
    data = {"format": FORMAT_ID, "set": meta, "skills": skills, "problems": problems}
    try:
        return ProblemSetDoc.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            if len(loc) >= 2 and loc[0] == "problems" and isinstance(loc[1], int) and loc[1] < len(locations):
                where, path = locations[loc[1]], ".".join(str(p) for p in loc[2:])
            else:
                where, path = report.source, ".".join(str(p) for p in loc)
            report.error(where, path, friendly_message(dict(err)), code="invalid")
        return None


def jsonl_lines(request: ImportRequest, report: ImportReport) -> Iterator[tuple[int, str, Any]]:
    """Each non-empty line of a JSON-lines file as ``(line number, location, parsed value)``, up to the request's
    limit. A line that is not UTF-8 or not JSON is reported and comes through as ``None``; an oversize file is
    reported and yields nothing."""
    size = request.path.stat().st_size
    if size > MAX_FILE_BYTES:
        report.error(request.source, "", f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}", code="too-large")
        return
    count = 0
    with request.path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if request.limit is not None and count >= request.limit:
                return
            location = f"{request.source}:{lineno}"
            try:
                line = raw.decode("utf-8-sig").strip()
            except UnicodeDecodeError:
                report.error(location, "", "not UTF-8 text", code="encoding")
                continue
            if not line:
                continue
            count += 1
            nul = nul_in_text(line, first_line=lineno)
            if nul is not None:
                report.error(location, "", nul, code="encoding")
                yield lineno, location, None
                continue
            try:
                value = json.loads(line)
            except RecursionError:
                value = _TOO_DEEP
            except ValueError as exc:
                report.error(location, "", f"not valid JSON: {exc}", code="syntax")
                yield lineno, location, None
                continue
            if value is _TOO_DEEP or nested_too_deep(value):
                report.error(location, "", too_deep_message(), code="too-deep")
                yield lineno, location, None
                continue
            yield lineno, location, value
