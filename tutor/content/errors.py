"""What an import reports: errors that stop it, warnings that do not, and answer checkability figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# How many issues of one kind a report keeps in full; the rest are only counted (a 12,000-problem import can warn
# about every figure it cannot show, and nobody reads 5,000 lines of the same sentence).
MAX_ISSUES_KEPT = 2_000


def storable(text: str) -> str:
    """``text`` as it can be stored in a report: a NUL or an unpaired surrogate (from a file name or a quoted value)
    is written as its escape, since PostgreSQL's text and JSON columns refuse both."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class ContentError(ValueError):
    """Input that cannot be imported at all (not a zip, not UTF-8, too large), with every reason found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems) if source else "; ".join(problems))


@dataclass(frozen=True)
class Issue:
    """One bad or adapted record: where (file, line or path in an archive), which field (a JSON path or a CSV
    column), why, and a short code that groups issues of the same kind."""

    location: str
    field: str
    reason: str
    code: str = ""

    def text(self) -> str:
        return ": ".join(part for part in (self.location, self.field, self.reason) if part)

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "field": self.field, "reason": self.reason, "code": self.code}


@dataclass
class ImportReport:
    """Everything an importer found. Any error means nothing is written."""

    source: str
    format: str = ""
    records: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    warning_codes: Counter[str] = field(default_factory=Counter)
    # role ("problem", "step", "scaffold") -> answer type -> count, after normalization
    answer_types: dict[str, Counter[str]] = field(default_factory=dict)
    # Answers authored as math (a number, an expression, an equation): how many the checker can compare.
    math_answers: Counter[str] = field(default_factory=Counter)
    math_checkable: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def error(self, location: str, field_: str, reason: str, *, code: str = "invalid") -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ISSUES_KEPT:
            self.errors.append(Issue(storable(location), storable(field_), storable(reason), code))

    def warn(self, location: str, field_: str, reason: str, *, code: str) -> None:
        self.warning_count += 1
        if self.warning_codes[code] < MAX_ISSUES_KEPT:
            self.warnings.append(Issue(storable(location), storable(field_), storable(reason), code))
        self.warning_codes[code] += 1

    def fail(self, exc: ContentError) -> None:
        for problem in exc.problems:
            self.error(exc.source, "", problem)

    def count_answer(self, role: str, answer_type: str, *, math: bool, checkable: bool) -> None:
        self.answer_types.setdefault(role, Counter())[answer_type] += 1
        if math:
            self.math_answers[role] += 1
            self.math_checkable[role] += int(checkable)

    def checkable_share(self, role: str = "step") -> float | None:
        total = self.math_answers[role]
        return self.math_checkable[role] / total if total else None

    def checkability_line(self) -> str:
        parts = []
        for role in ("step", "scaffold"):
            total = self.math_answers[role]
            if total:
                done = self.math_checkable[role]
                parts.append(f"{done:,} of {total:,} math {role} answers checkable ({100 * done / total:.1f}%)")
        return "; ".join(parts) or "no math answers"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": storable(self.source),
            "format": self.format,
            "records": self.records,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "warning_codes": dict(self.warning_codes),
            "errors": [i.as_dict() for i in self.errors],
            "warnings": [i.as_dict() for i in self.warnings],
            "answer_types": {role: dict(c) for role, c in self.answer_types.items()},
            "math_answers": dict(self.math_answers),
            "math_checkable": dict(self.math_checkable),
            "checkability": self.checkability_line(),
        }
