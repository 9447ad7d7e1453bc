"""The native problem-set format (``tutor-native/1``), as pydantic models that validate a parsed document.

docs/formats.md describes every field with a complete example; this module is the machine-checkable version.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FORMAT_ID = "tutor-native/1"
# A step's hint ladder: hints, scaffold sub-questions and the bottom-out. Authored OATutor pathways reach about 45 rungs
# once their scaffolds' own hints are included, so the cap leaves room for those.
MAX_HINTS_PER_STEP = 60
AnswerTypeName = Literal["number", "expression", "equation", "multiple_choice", "text"]
SLUG = r"^[a-z0-9][a-z0-9._-]{0,119}$"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        """No NUL characters (JSON's ``\\u0000``, YAML's ``"\\0"``): PostgreSQL cannot store them in text."""
        if isinstance(value, str):
            has_nul = "\x00" in value
        elif isinstance(value, list):
            has_nul = any(isinstance(text, str) and "\x00" in text for text in value)
        else:
            return value
        if has_nul:
            raise ValueError("contains a NUL character (\\u0000), which cannot be stored as text; remove it")
        return value


class HintDoc(_Doc):
    kind: Literal["hint", "scaffold", "bottom_out"] = "hint"
    text: str = Field(min_length=1, max_length=4000)
    answer: str | None = Field(default=None, max_length=500)
    answer_type: AnswerTypeName = "number"

    @model_validator(mode="after")
    def _scaffolds_have_answers(self) -> HintDoc:
        if self.kind == "scaffold" and not self.answer:
            raise ValueError("a scaffold is a sub-question and needs its own answer")
        if self.kind != "scaffold" and self.answer:
            raise ValueError(f"only scaffolds have answers, not a {self.kind}")
        return self


class MisconceptionDoc(_Doc):
    wrong: str = Field(min_length=1, max_length=500)
    pattern: bool = False
    feedback: str = Field(min_length=1, max_length=4000)

    @model_validator(mode="after")
    def _pattern_compiles(self) -> MisconceptionDoc:
        if self.pattern:
            try:
                re.compile(self.wrong)
            except re.error as exc:
                raise ValueError(f"wrong is not a valid regular expression: {exc}") from exc
        return self


class StepDoc(_Doc):
    prompt: str = Field(min_length=1, max_length=4000)
    answer: str = Field(min_length=1, max_length=500)
    answer_type: AnswerTypeName = "number"
    choices: list[str] = Field(default_factory=list, max_length=26)
    skills: list[str] = Field(default_factory=list)
    hints: list[HintDoc] = Field(default_factory=list, max_length=MAX_HINTS_PER_STEP)
    misconceptions: list[MisconceptionDoc] = Field(default_factory=list, max_length=20)


class ProblemDoc(_Doc):
    slug: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=20_000)
    answer: str = Field(min_length=1, max_length=500)
    answer_type: AnswerTypeName = "number"
    unit: str = Field(default="", max_length=60)
    choices: list[str] = Field(default_factory=list, max_length=26)
    skills: list[str] = Field(default_factory=list)
    steps: list[StepDoc] = Field(min_length=1, max_length=50)

    @field_validator("choices")
    @classmethod
    def _choices_distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("choices must be distinct")
        return value


class SkillDoc(_Doc):
    code: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    prerequisites: list[str] = Field(default_factory=list)


class SetMetaDoc(_Doc):
    slug: str = Field(pattern=SLUG)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    source: str = Field(default="native", max_length=60)
    license: str = Field(default="", max_length=120)


class ProblemSetDoc(_Doc):
    format: Literal["tutor-native/1"]
    set: SetMetaDoc
    skills: list[SkillDoc] = Field(default_factory=list)
    problems: list[ProblemDoc] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> ProblemSetDoc:
        """Every skill a problem, step or prerequisite names is declared in this file, and slugs are unique."""
        declared = {s.code for s in self.skills}
        if len(declared) != len(self.skills):
            raise ValueError("skill codes must be unique")
        for skill in self.skills:
            for pre in skill.prerequisites:
                if pre not in declared:
                    raise ValueError(f"skill {skill.code}: prerequisite {pre!r} is not declared under skills")
        # Counted in one pass: a set can hold a hundred thousand problems.
        duplicates = sorted(slug for slug, n in Counter(p.slug for p in self.problems).items() if n > 1)
        if duplicates:
            raise ValueError(f"problem slugs must be unique; repeated: {', '.join(duplicates)}")
        for problem in self.problems:
            used = set(problem.skills).union(*(step.skills for step in problem.steps))
            unknown = sorted(used - declared)
            if unknown:
                raise ValueError(f"problem {problem.slug}: skills {', '.join(unknown)} are not declared under skills")
        return self


def json_schema() -> dict[str, object]:
    """The JSON Schema of a native problem-set document (committed as docs/native-format.schema.json)."""
    schema = ProblemSetDoc.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Socratic Tutor problem set (tutor-native/1)"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # python -m tutor.content.schema > docs/native-format.schema.json
    sys.stdout.write(json_schema_text())
