"""Everything wrong with a native document in one report, with line numbers.

pydantic stops short of cross-record checks (repeated slugs, undeclared skills) while any field is invalid, and
answers are normalized only once the document validates. An author fixing a file should not meet its errors one
round at a time, so these checks also run on the raw data, and each issue is placed at its line in the file.
"""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]

# pydantic's wording, for an author: keyed by error type, then by the field name when it matters.
_FRIENDLY = {
    "missing": "is required",
    "too_short": "needs at least one item",
    "string_too_short": "must not be empty",
    "extra_forbidden": "is not a field of the native format (check its spelling in docs/formats.md)",
    "literal_error": None,  # pydantic's "Input should be 'a', 'b' or 'c'" is already clear
    "string_unicode": "is not valid Unicode text (an unpaired surrogate escape such as \\ud800); remove it",
}
_SLUG_FIELDS = {"slug", "code"}
# libyaml's loader when PyYAML was built with it: composing a 120,000-problem file only to find line numbers takes a
# minute in pure Python. The text has already been parsed (and its depth and aliases bounded) by then.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def friendly_message(error: dict[str, Any]) -> str:
    """An author-facing message for one pydantic error."""
    kind, loc, msg = error.get("type", ""), error.get("loc", ()), str(error.get("msg", ""))
    if kind == "string_pattern_mismatch" and loc and loc[-1] in _SLUG_FIELDS:
        return (
            "must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (like 'muffin-trays')"
        )
    friendly = _FRIENDLY.get(kind)
    if friendly:
        return friendly
    return msg.removeprefix("Value error, ")


def line_index(text: str) -> dict[Path, int]:
    """The line (from 1) where each value of a YAML or JSON document starts, by its path."""
    if "\n" not in text.strip():
        return {(): 1}  # JSON written on one line: every value is on it, no need to compose the document
    try:
        root = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, RecursionError):
        return {}
    lines: dict[Path, int] = {}

    def walk(node: yaml.Node, path: Path) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []


def cross_references(data: Any) -> list[tuple[Path, str]]:
    """Repeated slugs and skill codes, and skills used or required but never declared, found in raw data."""
    if not isinstance(data, dict):
        return []
    issues: list[tuple[Path, str]] = []
    skills = _dicts(data.get("skills"))
    declared: dict[str, int] = {}
    for i, skill in skills:
        code = skill.get("code")
        if isinstance(code, str):
            if code in declared:
                issues.append((("skills", i, "code"), f"repeats the skill code of skills.{declared[code]}"))
            declared.setdefault(code, i)
    for i, skill in skills:
        for pre in skill.get("prerequisites") or []:
            if isinstance(pre, str) and pre not in declared:
                issues.append((("skills", i, "prerequisites"), f"prerequisite {pre!r} is not declared under skills"))
    slugs: dict[str, int] = {}
    for i, problem in _dicts(data.get("problems")):
        slug = problem.get("slug")
        if isinstance(slug, str):
            if slug in slugs:
                issues.append((("problems", i, "slug"), f"repeats the slug of problems.{slugs[slug]}"))
            slugs.setdefault(slug, i)
        used: list[tuple[Path, Any]] = [(("problems", i, "skills"), problem.get("skills"))]
        used += [
            (("problems", i, "steps", j, "skills"), step.get("skills")) for j, step in _dicts(problem.get("steps"))
        ]
        for path, codes in used:
            for code in codes if isinstance(codes, list) else []:
                if isinstance(code, str) and code not in declared:
                    issues.append((path, f"skill {code!r} is not declared under skills"))
    return issues


def raw_answers(data: Any) -> list[tuple[Path, str, str, str]]:
    """(path, answer, answer type, role) of every answer written as text, for checking before validation."""
    found: list[tuple[Path, str, str, str]] = []
    if not isinstance(data, dict):
        return found
    for i, problem in _dicts(data.get("problems")):
        if isinstance(problem.get("answer"), str | int | float):
            found.append(
                (
                    ("problems", i, "answer"),
                    str(problem["answer"]),
                    str(problem.get("answer_type", "number")),
                    "problem",
                )
            )
        for j, step in _dicts(problem.get("steps")):
            if isinstance(step.get("answer"), str | int | float):
                found.append(
                    (
                        ("problems", i, "steps", j, "answer"),
                        str(step["answer"]),
                        str(step.get("answer_type", "number")),
                        "step",
                    )
                )
    return found
