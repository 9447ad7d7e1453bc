"""Making imported answers checkable: each answer is put in a form the pedagogy answer checker can compare.

The checker (:func:`pedagogy.answers.normalize_answer`) reads numbers, fractions, LaTeX expressions and equations
through sympy. An importer calls :meth:`AnswerNormalizer.normalize` for every answer it stores; an answer authored as
math that the checker cannot read is kept as text (the tutor compares it word for word) and reported with its
location, never dropped.
"""

from __future__ import annotations

import re
from typing import get_args

from pedagogy.answers import normalize_answer
from pedagogy.domain import AnswerType

from .errors import ImportReport

MATH_TYPES = frozenset({"number", "expression", "equation"})
CHOICE_LETTERS = "ABCDEFGH"  # the letters the checker reads as a choice
ANSWER_TYPES: tuple[str, ...] = get_args(AnswerType)

_PLAIN_NUMBER_RE = re.compile(r"[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|[-\u2212]?\.\d+%?")
# Notation authors use that means the same to the checker once rewritten: a degree sign after a number is a unit,
# the Greek letter is pi, ``\%`` is a percent sign, ``\operatorname{f}`` is just ``f``.
_REWRITES = (
    (re.compile(r"\s*(?:\^\s*\{?\\circ\}?|\*\*\{\\circ\}|\\degree|°)"), ""),
    (re.compile("\u03c0"), r"\\pi "),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\\operatorname\{([a-z]+)\}"), r"\1"),
    (re.compile(r"\\(?:displaystyle|,|;|!|quad)"), " "),
)


def unwrap_math(raw: str) -> str:
    """An answer without the ``$$...$$`` (or ``$...$``) around it, when the delimiters wrap the whole answer."""
    s = raw.strip()
    for delim in ("$$", "$"):
        if len(s) > 2 * len(delim) and s.startswith(delim) and s.endswith(delim):
            inner = s[len(delim) : -len(delim)]
            if "$" not in inner:
                return inner.strip()
    return s


class AnswerNormalizer:
    """Normalizes answers for one import run and counts the outcome in its report.

    Results are cached per run: importers ask about the same answer text many times (a problem's answer is its last
    step's; scaffolds repeat), and parsing LaTeX through sympy is the slow part of an import.
    """

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self._cache: dict[tuple[str, str], tuple[str, str] | None] = {}

    def _try(self, text: str, answer_type: str) -> bool:
        return normalize_answer(text, answer_type) is not None  # type: ignore[arg-type]

    def _math(self, raw: str, declared: str) -> tuple[str, str] | None:
        """The checkable (answer, type) of a math answer, trying the declared type first, then the others."""
        key = (raw, declared)
        if key in self._cache:
            return self._cache[key]
        result: tuple[str, str] | None = None
        candidates = [unwrap_math(raw)]
        rewritten = candidates[0]
        for pattern, repl in _REWRITES:
            rewritten = pattern.sub(repl, rewritten)
        rewritten = rewritten.strip()
        if rewritten != candidates[0]:
            candidates.append(rewritten)
        for text in candidates:
            if _PLAIN_NUMBER_RE.fullmatch(text.replace(" ", "")) and self._try(text, "number"):
                result = (text, "number")
            elif declared == "number" and self._try(text, "number") and not self._try(text, "expression"):
                result = (text, "number")  # "12 dollars", "$1,200": a number with its unit
            elif text.count("=") == 1 and self._try(text, "equation"):
                result = (text, "equation")
            elif "=" not in text and self._try(text, "expression"):
                result = (text, "expression")
            if result is not None:
                break
        self._cache[key] = result
        return result

    def normalize(
        self,
        raw: str,
        declared: str,
        *,
        role: str,
        location: str,
        field: str,
        choices: list[str] | None = None,
    ) -> tuple[str, str]:
        """Return the (answer, answer_type) to store for ``raw``, authored as ``declared``."""
        text = raw.strip()
        if declared not in ANSWER_TYPES:
            return text, declared  # validation reports the unknown type where it was written
        if declared in MATH_TYPES:
            found = self._math(text, declared)
            if found is not None:
                self.report.count_answer(role, found[1], math=True, checkable=True)
                return found
            self.report.count_answer(role, "text", math=True, checkable=False)
            self.report.warn(
                location,
                field,
                f"answer {text[:120]!r} cannot be read as a number, expression or equation; kept as text",
                code="answer-kept-as-text",
            )
            return text, "text"
        if declared == "multiple_choice":
            letter = self.choice_letter(text, choices or [])
            if letter is not None:
                self.report.count_answer(role, "multiple_choice", math=False, checkable=True)
                return letter, "multiple_choice"
            self.report.count_answer(role, "text", math=False, checkable=bool(text))
            self.report.warn(
                location,
                field,
                f"choice answer {text[:120]!r} is not one of the first {len(CHOICE_LETTERS)} choices; kept as text",
                code="choice-kept-as-text",
            )
            return text, "text"
        checkable = self._try(text, "text")
        self.report.count_answer(role, "text", math=False, checkable=checkable)
        if not checkable:
            self.report.warn(
                location, field, f"answer {text[:120]!r} has no words to compare", code="answer-unreadable"
            )
        return text, "text"

    @staticmethod
    def choice_letter(answer: str, choices: list[str]) -> str | None:
        """The checker's letter for a choice answer: the answer itself when it is a letter, or the letter of the
        choice it repeats (the first one, when choices repeat)."""
        if len(answer) == 1 and answer.upper() in CHOICE_LETTERS[: max(len(choices), 1)]:
            return answer.upper()
        for i, choice in enumerate(choices[: len(CHOICE_LETTERS)]):
            if choice.strip() == answer:
                return CHOICE_LETTERS[i]
        return None
