"""Reading a native problem-set file (YAML or JSON) into the validated schema."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from .schema import ProblemSetDoc


class ContentError(ValueError):
    """A problem-set file that cannot be imported, with every reason and where it was found."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def parse_native(text: str, *, source: str) -> ProblemSetDoc:
    """Parse YAML (a superset of JSON) with the safe loader and validate it."""
    try:
        data = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ContentError(source, [f"not valid {'JSON' if source.endswith('.json') else 'YAML'}: {exc}"]) from exc
    try:
        return ProblemSetDoc.model_validate(data)
    except ValidationError as exc:
        raise ContentError(
            source,
            [f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()],
        ) from exc


def load_native_file(path: Path) -> ProblemSetDoc:
    return parse_native(path.read_text(encoding="utf-8"), source=str(path))
