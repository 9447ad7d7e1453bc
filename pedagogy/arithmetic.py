"""Arithmetic written in a text ("6+6", "2 x 6", "24/2", "(3 + 3) * 2", "six times two"), found and evaluated exactly.

The reply guard uses this to see that "6+6" says 12 as surely as "12" does. Operands are whatever
:func:`pedagogy.numbers.find_numbers` reads (digits, fractions, number words), so the two readers agree on what a
number is; operators are the usual symbols and words. Evaluation is exact (fractions), never ``eval``, and bounded:
at most :data:`MAX_OPERANDS` operands and small integer powers, so no text can make it slow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from pedagogy.numbers import NumberMention, find_numbers, format_number

MAX_OPERANDS = 16
MAX_EXPONENT = 12
MAX_BITS = 512  # a value bigger than this many bits is nothing a reply needs; evaluation stops there

_OPERATORS = {
    "+": "+",
    "plus": "+",
    "-": "-",
    "\u2212": "-",
    "\u2013": "-",
    "minus": "-",
    "*": "*",
    "\u00d7": "*",
    "\u00b7": "*",
    "\u22c5": "*",
    "\u2217": "*",
    "x": "*",
    "times": "*",
    "multiplied by": "*",
    "/": "/",
    "\u00f7": "/",
    "\u2215": "/",
    "divided by": "/",
    "over": "/",
    "^": "^",
    "**": "^",
    "to the power of": "^",
}
_OP = (
    r"\*\*|[-+*/^\u2212\u2013\u00d7\u00b7\u22c5\u2217\u00f7\u2215]|[xX]|plus|minus|times|multiplied\s+by|divided\s+by|over"
    r"|to\s+the\s+power\s+of"
)
_GAP_RE = re.compile(rf"\s*(?P<close>[)\]\s]*?)\s*(?P<op>{_OP})?\s*(?P<open>[(\[\s]*?)\s*", re.IGNORECASE)
_OPEN_BEFORE_RE = re.compile(r"[(\[][(\[\s]*$")
_CLOSE_AFTER_RE = re.compile(r"^[\s)\]]*[)\]]")
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}


@dataclass(frozen=True)
class Expression:
    """One arithmetic expression: where it is, its exact value, and a canonical spelling to compare texts by."""

    start: int
    end: int
    text: str
    value: Fraction
    canonical: str  # "4*6", "(3+3)*2": operands as digits, operators as symbols, no spaces
    operators: tuple[str, ...]


class _Unevaluable(Exception):
    pass


def _operand_tokens(m: NumberMention) -> list[str | Fraction] | None:
    """A number as tokens: a written fraction ("24/2", "\\frac{24}{2}") is a division, so it is one too."""
    if m.percent:
        return None
    if m.form in ("fraction", "latex_fraction"):
        parts = re.findall(r"-?\d+(?:\.\d+)?", m.text)
        if len(parts) == 2:
            return [Fraction(parts[0]), "/", Fraction(parts[1])]
    return [m.value]


def find_expressions(text: str) -> list[Expression]:
    """Every arithmetic expression in ``text`` with at least one operator, longest first, in order of position."""
    mentions = find_numbers(text)
    found: list[Expression] = []
    i = 0
    while i < len(mentions):
        expression, used = _expression_from(text, mentions, i)
        if expression is not None:
            found.append(expression)
            i += used
        else:
            i += 1
    return found


def _expression_from(text: str, mentions: list[NumberMention], i: int) -> tuple[Expression | None, int]:
    first = _operand_tokens(mentions[i])
    if first is None:
        return None, 1
    opening = _OPEN_BEFORE_RE.search(text, 0, mentions[i].start)
    start = opening.start() if opening else mentions[i].start
    tokens: list[str | Fraction] = [ch for ch in (opening.group(0) if opening else "") if ch in "(["]
    tokens += first
    operands = 1
    j = i
    while j + 1 < len(mentions) and operands < MAX_OPERANDS:
        gap = text[mentions[j].end : mentions[j + 1].start]
        m = _GAP_RE.fullmatch(gap)
        nxt = _operand_tokens(mentions[j + 1])
        if m is None or nxt is None:
            break
        op = m.group("op")
        if op is None:
            # "18 -6" reads the second number as negative: the same as subtracting it.
            if not mentions[j + 1].text.startswith(("-", "\u2212")) or m.group("close") or m.group("open"):
                break
            symbol = "+"
        else:
            word = " ".join(op.lower().split())
            if word == "x" and gap.strip().lower() != "x":
                break  # "x" multiplies only standing alone between two numbers ("2 x 6"), not next to brackets
            symbol = _OPERATORS[word]
        tokens += [")" for ch in m.group("close") if ch in ")]"]
        tokens.append(symbol)
        tokens += ["(" for ch in m.group("open") if ch in "(["]
        tokens += nxt
        operands += 1
        j += 1
    end = mentions[j].end
    closing = _CLOSE_AFTER_RE.match(text[end:])
    if closing:
        tokens += [")" for ch in closing.group(0) if ch in ")]"]
        end += closing.end()
    operators = tuple(t for t in tokens if isinstance(t, str) and t in _PRECEDENCE)
    if not operators:
        return None, 1
    tokens = _balanced(tokens)
    try:
        value = _evaluate(tokens)
    except (_Unevaluable, ZeroDivisionError):
        return None, j - i + 1
    return Expression(start, end, text[start:end], value, _canonical(tokens), operators), j - i + 1


def _balanced(tokens: list[str | Fraction]) -> list[str | Fraction]:
    """Brackets that do not pair up inside the expression belong to the sentence around it: drop them."""
    out: list[str | Fraction] = []
    depth = 0
    for t in tokens:
        if t == ")" and depth == 0:
            continue
        depth += (t == "(") - (t == ")")
        out.append(t)
    while depth > 0:
        last_open = max(k for k, t in enumerate(out) if t == "(")
        del out[last_open]
        depth -= 1
    return out


def _canonical(tokens: list[str | Fraction]) -> str:
    parts = [format_number(t) if isinstance(t, Fraction) else t for t in tokens]
    # "6*4" and "4*6" are the same expression to a reader: one operator between two numbers is written sorted.
    if len(parts) == 3 and parts[1] in "+*":
        low, high = sorted((parts[0], parts[2]))
        parts = [low, parts[1], high]
    return "".join(parts)


def _evaluate(tokens: list[str | Fraction]) -> Fraction:
    """Shunting-yard evaluation with the usual precedence; powers only to small whole exponents."""
    values: list[Fraction] = []
    ops: list[str] = []

    def apply() -> None:
        op = ops.pop()
        if len(values) < 2:
            raise _Unevaluable
        b, a = values.pop(), values.pop()
        values.append(_combine(a, op, b))

    expect_operand = True
    for t in tokens:
        if isinstance(t, Fraction):
            if not expect_operand:
                raise _Unevaluable
            values.append(t)
            expect_operand = False
        elif t == "(":
            ops.append(t)
            expect_operand = True
        elif t == ")":
            while ops and ops[-1] != "(":
                apply()
            if not ops:
                raise _Unevaluable
            ops.pop()
        else:
            if expect_operand:
                raise _Unevaluable
            # "^" is right-associative; the rest are left-associative.
            while (
                ops
                and ops[-1] != "("
                and (_PRECEDENCE[ops[-1]] > _PRECEDENCE[t] or (_PRECEDENCE[ops[-1]] == _PRECEDENCE[t] and t != "^"))
            ):
                apply()
            ops.append(t)
            expect_operand = True
    while ops:
        if ops[-1] == "(":
            raise _Unevaluable
        apply()
    if len(values) != 1:
        raise _Unevaluable
    return values[0]


def _combine(a: Fraction, op: str, b: Fraction) -> Fraction:
    if op == "^":
        if b.denominator != 1 or abs(b) > MAX_EXPONENT or (a == 0 and b < 0):
            raise _Unevaluable
        result = a ** int(b)
    elif op == "+":
        result = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    else:
        result = a / b
    if max(result.numerator.bit_length(), result.denominator.bit_length()) > MAX_BITS:
        raise _Unevaluable
    return Fraction(result)
