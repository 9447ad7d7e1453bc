"""Whether a student's chain of calculations is a step's own calculation, done another way.

A student who writes "80+65+90+95 = 330, and 330 - 65 = 265" reaches a step whose calculation is 80 + 90 + 95 by
another route. Sharing numbers is not enough to tell such a route from a coincidence ("25 + 3 = 28, 28 x 2 = 56,
56 + 4 = 60" shares a 3 with the step 3 x 20 = 60), so both calculations are written out down to the problem's own
numbers and compared as formulas: with the problem's numbers replaced by other values, a route and the step still
agree; a coincidence does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction

from pedagogy.mathparse import ParseError, evaluate, parse
from pedagogy.numbers import find_numbers

_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_PERCENT_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_SIGNS = str.maketrans({"\u00d7": "*", "\u00f7": "/", "\u2212": "-", "x": "*", "X": "*"})
# Stand-ins for the problem's numbers: two draws, so that a formula equal by chance under one is caught by the other.
_DRAWS = ((Fraction(37, 10), Fraction(13, 7)), (Fraction(51, 11), Fraction(29, 13)))
MAX_DEPTH = 8


def written_out(
    expression: str, earlier: Mapping[Fraction, str], givens: frozenset[Fraction] = frozenset(), depth: int = 0
) -> str:
    """``expression`` with each number that is the result of an ``earlier`` calculation replaced by that calculation,
    recursively: "330-65" with 330 from "80+65+90+95" is "(80+65+90+95)-65". A number the problem gives
    (``givens``) is taken to be that number, whatever else came to the same value."""
    if depth > MAX_DEPTH:
        return expression

    def expand(match: re.Match[str]) -> str:
        value = Fraction(match.group(0))
        found = earlier.get(value)
        if found is None or value in givens:
            return match.group(0)
        rest = {v: e for v, e in earlier.items() if v != value}  # a result is never its own operand
        return f"({written_out(found, rest, givens, depth + 1)})"

    return _NUMBER_RE.sub(expand, expression.translate(_SIGNS).replace(",", ""))


def same_formula(first: str, second: str, givens: Iterable[Fraction]) -> bool:
    """Whether two calculations agree as formulas in the problem's numbers (``givens``), not only in value."""
    numbers = sorted(set(givens))
    if not numbers:
        return False
    for scale, shift in _DRAWS:
        stand_ins = {g: g * scale + shift + index for index, g in enumerate(numbers)}
        for g in numbers:
            if g * 100 in stand_ins:
                # A percentage the problem gives comes as both 5 and 0.05: one quantity, one stand-in.
                stand_ins[g] = stand_ins[g * 100] / 100
        values = [_evaluate_with(text, stand_ins) for text in (first, second)]
        if values[0] is None or values[0] != values[1]:
            return False
    return True


def _evaluate_with(expression: str, stand_ins: Mapping[Fraction, Fraction]) -> Fraction | None:
    def replace(match: re.Match[str]) -> str:
        value = Fraction(match.group(0))
        return f"({stand_ins[value]})" if value in stand_ins else match.group(0)

    try:
        # "5%*50000": five hundredths of 50000, written as the one number 0.05 (the problem's 5% stands in as such).
        plain = _PERCENT_RE.sub(lambda m: format(Decimal(m.group(1)) / 100, "f"), expression)
        return evaluate(parse(_NUMBER_RE.sub(replace, plain), latex=False))
    except (ParseError, ZeroDivisionError, ValueError, OverflowError):
        return None


def worked_calculation(text: str, value: Fraction) -> str | None:
    """The calculation a worked step writes for ``value`` ("... 3*20 = 60 cups ..." -> "3*20"), or None."""
    for mention in find_numbers(text):
        if mention.value != value:
            continue
        before = text[: mention.start].rstrip().rstrip("$").rstrip()
        if not before.endswith("="):
            continue
        found = re.search(r"[\d.,\s+\-*/\u00d7\u00f7\u2212()]+$", before[:-1])
        if found and _NUMBER_RE.search(found.group(0)) and re.search(r"[-+*/\u00d7\u00f7\u2212]", found.group(0)):
            return found.group(0).strip()
    return None
