"""Worked examples of a similar case: the same operation as a step, with other small numbers, worked out in full.

A student who has used every hint of a step still gets something new on the next press: a case they can copy the
method from without being told the step. The numbers are chosen to share nothing with the step (its question, its
hints, the problem's givens) and never to state a value the reply must not reveal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction

from pedagogy.numbers import find_numbers, format_number
from pedagogy.tree import TreeNode

_OPERATION_BY_SKILL = {"arith.multiply": "*", "arith.divide": "/", "arith.add": "+", "arith.subtract": "-"}
_OPERATION_WORDS = (
    ("*", re.compile(r"[\u00d7*]|\btimes\b|\bgroups?\s+of\b|\bmultipl", re.I)),
    ("/", re.compile(r"[\u00f7]|\bdivid|\bshare|\bsplit|\beach\s+get", re.I)),
    ("-", re.compile(r"[\u2212]|\s-\s|\bsubtract|\bleft\b|\bdifference|\bhow\s+many\s+more\b", re.I)),
    ("+", re.compile(r"\+|\badd|\btotal|\baltogether|\bin\s+all\b|\bsum\b", re.I)),
)
_EXAMPLE_PAIRS: dict[str, tuple[tuple[int, int], ...]] = {
    "*": ((3, 5), (4, 7), (6, 3), (2, 9), (5, 8)),
    "/": ((15, 3), (28, 4), (18, 6), (35, 5), (27, 9)),
    "+": ((7, 5), (13, 8), (26, 9), (14, 17), (38, 6)),
    "-": ((12, 5), (20, 7), (31, 9), (16, 8), (45, 17)),
}
_EXAMPLE_TEXT = {
    "*": "{a} bags with {b} apples in each hold {a} \u00d7 {b} = {r} apples: the same amount, {a} times over.",
    "/": "{a} stickers shared equally by {b} friends is {a} \u00f7 {b} = {r} stickers each.",
    "+": "{a} marbles and {b} more marbles make {a} + {b} = {r} marbles altogether.",
    "-": "With {a} cookies, after giving {b} away you have {a} \u2212 {b} = {r} left.",
}


def operation_of(node: TreeNode) -> str | None:
    """The operation a node's step uses: from its skills first, else from the words of its question and ladder."""
    ops = {_OPERATION_BY_SKILL[s] for s in node.skills if s in _OPERATION_BY_SKILL}
    if len(ops) == 1:
        return ops.pop()
    text = " ".join([node.prompt, *(h.text for h in node.ladder if h.kind != "bottom_out")])
    for op, pattern in _OPERATION_WORDS:
        if pattern.search(text):
            return op
    return None


def _apply(op: str, a: int, b: int) -> Fraction:
    return {
        "*": Fraction(a * b),
        "/": Fraction(a, b),
        "+": Fraction(a + b),
        "-": Fraction(a - b),
    }[op]


def _numbers_in(*texts: str) -> list[Fraction]:
    return [m.value for t in texts for m in find_numbers(t)]


def worked_example(node: TreeNode, *, avoid: frozenset[Fraction], leaks: Callable[[str], bool]) -> str | None:
    """A similar case for ``node`` whose numbers are none of ``avoid`` and which ``leaks`` does not reject."""
    operation = operation_of(node)
    if operation is None:
        return None
    for a, b in _EXAMPLE_PAIRS[operation]:
        text = _EXAMPLE_TEXT[operation].format(a=a, b=b, r=format_number(_apply(operation, a, b)))
        if set(_numbers_in(text)) & avoid or leaks(text):
            continue
        return text
    return None
