"""Answer checking: what did the student commit to, and does it match the expected answer?

Numbers are compared exactly as fractions, with a tolerance that follows how the answer was authored (an answer
written ``3.33`` accepts ``10/3``) or is given explicitly. Algebraic expressions and equations are compared with sympy
after parsing with the safe parser in :mod:`pedagogy.mathparse`; sympy is imported only when such an answer is checked.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

from pedagogy import mathparse
from pedagogy.domain import AnswerType
from pedagogy.numbers import NumberMention, decimal_places, find_numbers, format_number

if TYPE_CHECKING:
    import sympy

MAX_ANSWER_CHARS = 400

# Units a student may answer in: (dimension, size in the dimension's base unit).
_UNIT_TABLE: dict[str, tuple[str, Fraction]] = {}
for _names, _dim, _size in (
    (("mm", "millimeter", "millimeters", "millimetre", "millimetres"), "length", Fraction(1, 1000)),
    (("cm", "centimeter", "centimeters", "centimetre", "centimetres"), "length", Fraction(1, 100)),
    (("m", "meter", "meters", "metre", "metres"), "length", Fraction(1)),
    (("km", "kilometer", "kilometers", "kilometre", "kilometres"), "length", Fraction(1000)),
    (("inch", "inches"), "length", Fraction("0.0254")),
    (("ft", "foot", "feet"), "length", Fraction("0.3048")),
    (("yd", "yard", "yards"), "length", Fraction("0.9144")),
    (("mi", "mile", "miles"), "length", Fraction("1609.344")),
    (("mg", "milligram", "milligrams"), "mass", Fraction(1, 1000)),
    (("g", "gram", "grams"), "mass", Fraction(1)),
    (("kg", "kilogram", "kilograms", "kilo", "kilos"), "mass", Fraction(1000)),
    (("lb", "lbs", "pound", "pounds"), "mass", Fraction("453.59237")),
    (("oz", "ounce", "ounces"), "mass", Fraction("28.349523125")),
    (("sec", "secs", "second", "seconds"), "time", Fraction(1)),
    (("min", "mins", "minute", "minutes"), "time", Fraction(60)),
    (("h", "hr", "hrs", "hour", "hours"), "time", Fraction(3600)),
    (("day", "days"), "time", Fraction(86400)),
    (("week", "weeks"), "time", Fraction(604800)),
    (("cent", "cents", "¢"), "money", Fraction(1, 100)),
    (("dollar", "dollars", "$", "usd"), "money", Fraction(1)),
):
    for _name in _names:
        _UNIT_TABLE[_name] = (_dim, _size)

_LEAD_IN_RE = re.compile(
    r"^\s*(?:(?:so|ok(?:ay)?|um+|well|then|i\s+think|i\s+guess|maybe|my\s+answer\s+is|the\s+answer\s+is|answer\s*:|"
    r"it'?s|it\s+is|is\s+it|i\s+got|i\s+get|that'?s|that\s+is|it\s+would\s+be|would\s+it\s+be|equals?)[\s,:]*)+",
    re.IGNORECASE,
)
_WH_START_RE = re.compile(r"^\s*(?:what|how|why|where|when|which|who|whats|what's)\b(?!\s+about\b)", re.IGNORECASE)
_COMMIT_CUE_RE = re.compile(
    r"(?:=|\bis\b|\bit'?s\b|\bequals?\b|\bget\b|\bgot\b|\bgives?\b|\bmakes?\b|\banswer\b|\bbe\b|\btotal\b|"
    r"\bcomes?\s+to\b|\bso\b|\bthat'?s\b|\bthen\b|\bleaves?\b|\bleft\b|:)",
    re.IGNORECASE,
)
_NEGATION_BEFORE_RE = re.compile(r"(?:\bnot|n't|\bnever)\s+(?:\w+\s+)?$", re.IGNORECASE)
_UNIT_AFTER_RE = re.compile(r"\s*([A-Za-z¢]+)")


@dataclass(frozen=True)
class NormalizedAnswer:
    """An authored answer in checkable form. ``value`` is set for numbers, ``canonical`` for every type."""

    answer_type: AnswerType
    canonical: str
    value: Fraction | None = None
    percent: bool = False
    places: int = 0
    unit: str | None = None


@dataclass(frozen=True)
class AnswerCheck:
    """The result of checking one student message against one expected answer."""

    is_correct: bool
    value: str | None
    reason: str
    parsed: bool = True


def normalize_answer(raw: str, answer_type: AnswerType, *, unit: str | None = None) -> NormalizedAnswer | None:
    """Return the checkable form of an authored answer, or None when this checker could not grade it.

    An importer uses this to reject content whose answers can never be matched (``"about twelve-ish"`` as a number).
    """
    text = raw.strip()
    if not text or len(text) > MAX_ANSWER_CHARS:
        return None
    if answer_type == "number":
        mentions = find_numbers(text)
        if len(mentions) != 1:
            return None
        m = mentions[0]
        rest = (text[: m.start] + text[m.end :]).strip(" $€£.").strip()
        if rest and not re.fullmatch(r"[A-Za-z¢ ]+", rest):
            return None
        detected_unit = unit or ("dollars" if "$" in text else (rest.lower() or None))
        return NormalizedAnswer(
            "number", format_number(m.value), m.value, m.percent, decimal_places(text), detected_unit
        )
    if answer_type == "expression":
        expr = _parse_sympy(text)
        return None if expr is None else NormalizedAnswer("expression", str(expr))
    if answer_type == "equation":
        eq = _parse_equation(text)
        return None if eq is None else NormalizedAnswer("equation", f"{eq[0]} = {eq[1]}")
    if answer_type == "multiple_choice":
        letter = _choice_letter(text, strict=True)
        return None if letter is None else NormalizedAnswer("multiple_choice", letter)
    canonical = " | ".join(f for f in (_normalize_text(part) for part in text.split("|")) if f)
    return NormalizedAnswer("text", canonical) if canonical else None


def extract_committed_value(text: str) -> NumberMention | None:
    """The number a message commits to, or None when it commits to none or hedges between several.

    "so it's 96?" -> 96; "4 x 6 = 24" -> 24; "I got 12 dollars" -> 12; "is it 24 or 25?" -> None;
    "it's not 24" -> None; "what is 4 times 6?" -> None (a question, not an answer).
    """
    if _WH_START_RE.match(text):
        return None
    mentions = [
        m
        for m in find_numbers(text)
        if not _NEGATION_BEFORE_RE.search(text[: m.start])
        and not (m.form == "words" and m.text.lower() == "half" and text[m.end : m.end + 3].lower() == " of")
        and not _loose_one(text, m)
    ]
    if not mentions:
        return None
    # Two candidates joined by "or" is a hedge, not a commitment.
    for a, b in itertools.pairwise(mentions):
        if re.fullmatch(r"\s*(?:,\s*)?or\s*(?:maybe\s*)?", text[a.end : b.start], re.IGNORECASE):
            return None
    if len(mentions) == 1:
        return mentions[0]
    cues = list(_COMMIT_CUE_RE.finditer(text))
    for cue in reversed(cues):
        after = [m for m in mentions if m.start >= cue.end()]
        if after:
            return after[0]
    if text.lstrip(" $").startswith(mentions[0].text):
        return mentions[0]
    tail = text[mentions[-1].end :].strip(" .!?")
    if len(tail.split()) <= 2:
        return mentions[-1]
    return None


def _loose_one(text: str, mention: NumberMention) -> bool:
    """The word "one" in "I took one away from the other" is a pronoun; it commits only after a cue or alone."""
    if mention.form != "words" or mention.text.lower() != "one":
        return False
    if len(text.split()) <= 3:
        return False
    return not re.search(r"(?:=|\bis|\bit'?s|\bgot|\bget|\bequals|\banswer|\bbe)\s*$", text[: mention.start], re.I)


def unit_of(text: str, mention: NumberMention) -> str | None:
    """The unit word written right after a number ("24 clips" -> "clips"), or dollars for "$24"."""
    m = _UNIT_AFTER_RE.match(text, mention.end)
    if m and m.group(1).lower() not in ("and", "or", "so", "is", "because", "in", "of", "to", "times", "plus"):
        return m.group(1).lower()
    before = text[: mention.start].rstrip()
    if before.endswith("$"):
        return "dollars"
    if text[mention.end : mention.end + 1] == "¢":
        return "cents"
    return None


def number_matches(
    value: Fraction,
    expected: NormalizedAnswer,
    *,
    percent: bool = False,
    places: int = 0,
    tolerance: Fraction | float | None = None,
) -> bool:
    """Whether a number equals the expected number answer.

    1. A percentage matches either its number or its proportion ("25%" matches 25 and 0.25), and an answer
       authored as a percentage accepts the proportion too.
    2. The default tolerance is half a unit of the authored answer's last decimal place, so an answer
       written ``3.33`` accepts ``10/3``; a student's own rounding to two or more places is accepted the same way.
    """
    if expected.value is None:
        return False
    target = expected.value
    candidates = [value]
    if percent:
        candidates.append(value / 100)
    if expected.percent:
        candidates.append(value * 100)
    if tolerance is not None:
        tol = Fraction(tolerance)
    elif expected.places:
        tol = Fraction(1, 2 * 10**expected.places)
    else:
        tol = Fraction(0)
    if places >= 2:
        tol = max(tol, Fraction(1, 2 * 10**places))
    return any(abs(c - target) <= tol for c in candidates)


def check_answer(
    student_text: str,
    expected: str | NormalizedAnswer,
    answer_type: AnswerType,
    *,
    tolerance: Fraction | float | None = None,
    unit: str | None = None,
) -> AnswerCheck:
    """Check a student's message against an expected answer of the given type."""
    norm = expected if isinstance(expected, NormalizedAnswer) else normalize_answer(expected, answer_type, unit=unit)
    if norm is None:
        return AnswerCheck(False, None, "the expected answer cannot be checked automatically", parsed=False)
    text = student_text.strip()[:MAX_ANSWER_CHARS]
    if answer_type == "number":
        return _check_number(text, norm, tolerance)
    if answer_type == "multiple_choice":
        letter = _choice_letter(text, strict=False)
        if letter is None:
            return AnswerCheck(False, None, "no choice letter found", parsed=False)
        same = letter == norm.canonical
        return AnswerCheck(same, letter, "matches" if same else "a different choice")
    if answer_type == "text":
        return _check_text(text, norm.canonical)
    if answer_type == "expression":
        return _check_expression(text, norm, expected, tolerance)
    return _check_equation(text, expected if isinstance(expected, str) else norm.canonical)


def is_unit(word: str) -> bool:
    """Whether ``word`` is a unit of measure a student may answer in ("pounds", "weeks", "dollars")."""
    return word.lower() in _UNIT_TABLE


def same_unit(first: str, second: str) -> bool:
    """Whether two unit words name the same unit ("minute" and "minutes", "lb" and "pounds")."""
    a, b = _UNIT_TABLE.get(first.lower()), _UNIT_TABLE.get(second.lower())
    return first.lower() == second.lower() or (a is not None and a == b)


def convert_units(value: Fraction, have: str, want: str) -> Fraction | None:
    """``value`` in unit ``have`` written in unit ``want`` ("5700" seconds is 95 minutes), or None when either is
    not a known unit or they measure different things."""
    have_unit, want_unit = _UNIT_TABLE.get(have.lower()), _UNIT_TABLE.get(want.lower())
    if have_unit is None or want_unit is None or have_unit[0] != want_unit[0]:
        return None
    return value * have_unit[1] / want_unit[1]


def _check_number(text: str, norm: NormalizedAnswer, tolerance: Fraction | float | None) -> AnswerCheck:
    mention = extract_committed_value(text)
    if mention is None:
        return AnswerCheck(False, None, "no single number found", parsed=False)
    value = mention.value
    said = format_number(value) + ("%" if mention.percent else "")
    student_unit = unit_of(text, mention)
    if norm.unit and student_unit and student_unit != norm.unit:
        want = _UNIT_TABLE.get(norm.unit)
        if want and student_unit in _UNIT_TABLE:
            converted = convert_units(value, student_unit, norm.unit)
            if converted is None:
                return AnswerCheck(False, said, f"{student_unit} is not a unit of {want[0]}")
            value = converted
    places = decimal_places(mention.text) if mention.form == "digits" else 0
    ok = number_matches(value, norm, percent=mention.percent, places=places, tolerance=tolerance)
    return AnswerCheck(ok, said, "matches" if ok else "a different value")


def _choice_letter(text: str, *, strict: bool) -> str | None:
    s = text.strip()
    m = re.fullmatch(r"\(?([A-Ha-h])[).:]?", s)
    if m:
        return m.group(1).upper()
    if strict:
        m = re.fullmatch(r"(?:option|choice)\s+\(?([A-Ha-h])\)?", s, re.IGNORECASE)
        return m.group(1).upper() if m else None
    # Lower-case letters only count after a cue word, so the article "a" is never read as choice A.
    patterns = (
        (r"\b(?:option|choice|answer|letter)\s*(?:is\s*)?:?\s*\(?([A-Ha-h])\b\)?", re.IGNORECASE),
        (r"\(([A-Ha-h])\)", 0),
        (r"\b(?:it'?s|is|pick|choose|go\s+with)\s+\(?([A-H])\)?(?:\W*$)", 0),
        (r"^\s*([A-H])\b[).:]?", 0),
    )
    found = {mm.group(1).upper() for p, flags in patterns for mm in re.finditer(p, s, flags)}
    return found.pop() if len(found) == 1 else None


# Words that mean the same answer: a text answer in any of these forms is the same answer.
_TEXT_SYNONYMS: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "yes yeah yep yup true correct right",
        "no nope false incorrect wrong",
        "monday mon",
        "tuesday tue tues",
        "wednesday wed",
        "thursday thu thur thurs",
        "friday fri",
        "saturday sat",
        "sunday sun",
        "greater larger bigger more",
        "less smaller fewer",
        "equal same",
    )
)
_TEXT_NEGATION_RE = re.compile(r"\b(?:not|isn'?t|no|never|wasn'?t|aren'?t)\s+(?:\w+\s+)?$", re.IGNORECASE)


def _text_forms(answer: str) -> list[str]:
    """The authored answer's accepted forms: alternatives written "Monday | Mon", and built-in synonyms."""
    forms = [_normalize_text(part) for part in answer.split("|")]
    extra = [w for form in forms for group in _TEXT_SYNONYMS if form in group for w in group]
    return list(dict.fromkeys(f for f in [*forms, *extra] if f))


def _check_text(text: str, canonical_answer: str) -> AnswerCheck:
    """A text answer matches, ignoring case and punctuation, when the message is the answer, or states it as
    whole words that are not negated ("Monday, because 12 is the biggest" answers "Monday"; "not Monday" does not)."""
    said = _normalize_text(_LEAD_IN_RE.sub("", text))
    if not said:
        return AnswerCheck(False, None, "no answer found", parsed=False)
    forms = _text_forms(canonical_answer)
    if said in forms:
        return AnswerCheck(True, said, "matches")
    # Inside a sentence only the authored forms count, as whole words, not negated, and not in a question or a
    # choice between options ("Monday or Tuesday?", "is that right?" are not answers); a synonym or a short answer
    # ("yes", "no") counts only as the whole message.
    if text.strip().endswith("?") or re.search(r"\bor\b", said):
        return AnswerCheck(False, said, "a question or a choice, not an answer")
    for form in (_normalize_text(part) for part in canonical_answer.split("|")):
        if len(form) < 4:
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", said):
            if not _TEXT_NEGATION_RE.search(said[: m.start()]):
                return AnswerCheck(True, form, "states the answer")
    return AnswerCheck(False, said, "a different answer")


def _normalize_text(text: str) -> str:
    s = re.sub(r"[^\w\s]", " ", text.casefold())
    s = re.sub(r"\b(?:the|a|an)\b", " ", s)
    return " ".join(s.split())


def _expression_part(text: str) -> str:
    s = _LEAD_IN_RE.sub("", text).strip().rstrip(".!?")
    return s.rsplit("=", 1)[-1] if "=" in s else s


@lru_cache(maxsize=512)
def _parse_sympy(text: str) -> sympy.Expr | None:
    try:
        return mathparse.to_sympy(mathparse.parse(text))
    except (mathparse.ParseError, TypeError, ValueError, ZeroDivisionError):
        return None


def _equivalent(a: sympy.Expr, b: sympy.Expr, tolerance: Fraction | float | None) -> bool:
    """Symbolic equivalence, falling back to agreement at a few fixed points when simplify is inconclusive."""
    import sympy

    diff = a - b
    try:
        if sympy.simplify(diff) == 0:
            return True
    except (TypeError, ValueError, RecursionError):
        pass
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    tol = float(tolerance) if tolerance is not None else 1e-9
    for point in (Fraction(7, 3), Fraction(-5, 4), Fraction(11, 2)):
        subs = {s: sympy.Rational(point.numerator + i, point.denominator) for i, s in enumerate(symbols)}
        try:
            value = complex(diff.subs(subs).evalf())
            scale = max(1.0, abs(complex(a.subs(subs).evalf())))
        except (TypeError, ValueError, ZeroDivisionError):
            return False
        if abs(value) > tol * scale:
            return False
    return bool(symbols) or tolerance is not None


def _check_expression(
    text: str, norm: NormalizedAnswer, expected: str | NormalizedAnswer, tolerance: Fraction | float | None
) -> AnswerCheck:
    said = _parse_sympy(_expression_part(text))
    if said is None:
        return AnswerCheck(False, None, "not an expression this checker can read", parsed=False)
    want = _parse_sympy(expected if isinstance(expected, str) else norm.canonical)
    if want is None:
        return AnswerCheck(False, str(said), "the expected answer cannot be checked automatically", parsed=False)
    ok = _equivalent(said, want, tolerance)
    return AnswerCheck(ok, str(said), "equivalent" if ok else "not equivalent")


def _parse_equation(text: str) -> tuple[sympy.Expr, sympy.Expr] | None:
    s = _LEAD_IN_RE.sub("", text).strip().rstrip(".!?")
    if s.count("=") != 1:
        return None
    left, right = (_parse_sympy(part) for part in s.split("="))
    if left is None or right is None:
        return None
    return left, right


def _check_equation(text: str, expected: str) -> AnswerCheck:
    import sympy

    want = _parse_equation(expected)
    if want is None:
        return AnswerCheck(False, None, "the expected answer cannot be checked automatically", parsed=False)
    said = _parse_equation(text)
    if said is None:
        # "x = 4" is answered by "4" alone.
        value = _parse_sympy(_expression_part(text))
        lhs, rhs = want
        if value is not None and isinstance(lhs, sympy.Symbol) and rhs.is_number:
            ok = _equivalent(value, rhs, None)
            return AnswerCheck(ok, str(value), "matches" if ok else "a different value")
        return AnswerCheck(False, None, "not an equation this checker can read", parsed=False)
    a = said[0] - said[1]
    b = want[0] - want[1]
    if a == 0 or b == 0:
        return AnswerCheck(False, f"{said[0]} = {said[1]}", "not an equation")
    ratio = sympy.simplify(a / b)
    ok = bool(ratio.is_number and ratio != 0)
    return AnswerCheck(ok, f"{said[0]} = {said[1]}", "equivalent" if ok else "not equivalent")
