"""One interface for every input format: pick an importer by name (or by looking at the input), read, report.

    result = read_content(Path("content-pool"), fmt="oatutor")
    if result.doc is not None:           # no errors: store it
        problem_set_import(result.doc)
    print(result.report.as_dict())       # errors and warnings with their locations, answer checkability

Reading never writes to the database; :mod:`tutor.content.jobs` stores the result all or nothing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from .base import Importer, ImportRequest, Progress
from .csv_format import CSVImporter
from .errors import ContentError, ImportReport
from .gsm8k import GSM8KImporter
from .native import NativeImporter
from .oatutor import OATutorImporter
from .safety import extract_zip, nul_in_file
from .schema import ProblemSetDoc

IMPORTERS: dict[str, Importer] = {
    importer.name: importer for importer in (NativeImporter(), CSVImporter(), OATutorImporter(), GSM8KImporter())
}
FORMAT_NAMES = tuple(IMPORTERS)


@dataclass
class ImportResult:
    doc: ProblemSetDoc | None
    report: ImportReport


def importer_for(name: str) -> Importer:
    try:
        return IMPORTERS[name]
    except KeyError:
        raise ContentError("", [f"unknown format {name!r}; known formats: {', '.join(FORMAT_NAMES)}"]) from None


def detect_format(path: Path) -> str | None:
    """The format ``path`` looks like, trying the cheap checks (file suffixes) before opening anything."""
    for name in ("native", "csv", "gsm8k", "oatutor"):
        if IMPORTERS[name].detect(path):
            return name
    return None


def _content_root(folder: Path) -> Path:
    """What an extracted archive holds: one file alone is that file; otherwise the folder itself."""
    entries = [p for p in folder.rglob("*") if p.is_file()]
    if len(entries) == 1 and entries[0].suffix.lower() in (".yaml", ".yml", ".json", ".csv", ".jsonl"):
        return entries[0]
    return folder


def read_content(
    path: Path,
    *,
    fmt: str | None = None,
    set_name: str = "",
    limit: int | None = None,
    source: str | None = None,
    boundary: Path | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Read ``path`` (a file, a folder or a zip archive) in format ``fmt`` (detected when None).

    ``boundary`` bounds where companion files may be looked for (see :class:`ImportRequest`); it defaults to the
    folder holding ``path``. Zip archives are checked and extracted into a temporary folder that is removed after
    reading.
    """
    label = source or path.name
    report = ImportReport(source=label, format=fmt or "")
    try:
        if fmt is not None:
            importer_for(fmt)
        if not path.exists():
            raise ContentError(label, ["no such file or folder"])
        if path.is_file() and path.suffix.lower() == ".zip":
            with tempfile.TemporaryDirectory(prefix="tutor-import-") as tmp:
                folder = Path(tmp)
                if progress is not None:
                    progress("unpacking the archive")
                skipped = extract_zip(path, folder, source=label)
                for name in skipped:
                    report.warn(label, name, "not content; skipped", code="skipped")
                root = _content_root(folder)
                inner_label = label if root == folder else f"{label}/{root.relative_to(folder)}"
                return _read(root, fmt, set_name, limit, inner_label, folder, progress, report)
        return _read(path, fmt, set_name, limit, label, boundary or path.parent, progress, report)
    except ContentError as exc:
        if not exc.source:
            exc.source = label
        report.fail(exc)
        return ImportResult(None, report)


def _read(
    path: Path,
    fmt: str | None,
    set_name: str,
    limit: int | None,
    source: str,
    boundary: Path,
    progress: Progress | None,
    report: ImportReport,
) -> ImportResult:
    name = fmt or detect_format(path)
    if name is None:
        # A file full of NUL bytes (a UTF-16 export, a binary) looks like no format; say what is really wrong.
        nul = nul_in_file(path) if path.is_file() else None
        raise ContentError(source, [nul or f"cannot tell the format; choose one of {', '.join(FORMAT_NAMES)}"])
    report.format = name
    importer = importer_for(name)
    if path.is_dir() and name != "oatutor":
        raise ContentError(source, [f"{importer.label} is read from a file, not a folder"])
    if fmt is not None and not importer.detect(path):
        detected = detect_format(path)
        if detected is not None:
            raise ContentError(source, [f"this looks like {IMPORTERS[detected].label}, not {importer.label}"])
    request = ImportRequest(
        path=path, source=source, set_name=set_name, limit=limit, boundary=boundary, progress=progress
    )
    doc = importer.read(request, report)
    return ImportResult(doc if report.ok else None, report)
