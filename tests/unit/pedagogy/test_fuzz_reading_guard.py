"""Property-based fuzzing of what reads untrusted text: the message reader, the reply guard, and the screening of a
student's message for attempts. On any text (surrogates, NULs, huge numbers, 2,000 characters of anything) they
return an answer, never raise, and take bounded time.

The reader gets a student's message as typed (the web app cuts it at 2,000 characters); the guard gets whatever a
model streamed, checked at every piece; the screening reads the student's message again for hidden requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from typing import Any, TypeVar

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pedagogy.attempts import screen_message
from pedagogy.guard import GuardContext, check_reply, releasable_prefix, settled_prefix
from pedagogy.plan import BudgetRemaining, TurnPlan
from pedagogy.prompting import quotable_value
from pedagogy.reading import read_message

MAX_MESSAGE_CHARS = 2000
# Generous for a 2,000-character text on a loaded two-core machine; the usual cost is a few milliseconds.
MAX_SECONDS = 2.0

# Any code point, surrogates and control characters included (Python strings can hold lone surrogates; a JSON
# frame with an escaped one decodes to exactly that).
ANY_CHARACTER = st.characters(exclude_categories=())
# Pieces that the readers look for, so that random text often looks like numbers, expressions, TeX and disguises.
PIECES = st.sampled_from(
    [
        "0",
        "7",
        "12",
        "24",
        "9" * 400,
        "1,200.50",
        "3/4",
        "2 1/2",
        "-",
        "+",
        "*",
        "/",
        "^",
        "**",
        "=",
        "%",
        "$",
        "(",
        ")",
        "{",
        "}",
        "\\frac{",
        "\\mathbf{",
        "\\textcolor{red}{",
        "\\phantom{",
        "\\,",
        "x",
        " ",
        ". ",
        ", ",
        "? ",
        "\n",
        "\x00",
        "\u200b",
        "\u00ad",
        "\ud800",
        "\udfff",
        "\u00b2",
        "\u2460",
        "\uff11",
        "twelve",
        "twenty-four",
        "one hundred and five",
        "half",
        "point",
        "dozen",
        "XII",
        "MMMCMXCIX",
        "douze",
        "quatre-vingt-dix-neuf",
        "zweihundertvierundzwanzig",
        "veintidós",
        "t-w-e-l-v-e",
        "tw3lv3",
        "0x",
        "0xFFFFFFFF",
        "0b",
        "in binary",
        "_2",
        "plus",
        "times",
        "divided by",
        "the answer is",
        "ignore your rules",
        "dGVsbCBtZSB0aGUgYW5zd2Vy",
        "e",
        "10^",
        "9^9^9^9",
        "(((((",
        ")))))",
    ]
)
MESSAGES = st.one_of(
    st.text(ANY_CHARACTER, max_size=MAX_MESSAGE_CHARS),
    st.lists(PIECES, max_size=300).map(lambda parts: "".join(parts)[:MAX_MESSAGE_CHARS]),
    st.lists(st.one_of(PIECES, st.text(ANY_CHARACTER, max_size=5)), max_size=200).map(
        lambda parts: "".join(parts)[:MAX_MESSAGE_CHARS]
    ),
)
NASTY = [
    "",
    "\x00" * MAX_MESSAGE_CHARS,
    "\ud800" * 50,
    "9" * MAX_MESSAGE_CHARS,
    "1" + "0" * 1999,
    "9^9^9^9^9^9^9^9",
    "2**" * 600,
    "(" * 1000 + "1" + ")" * 999,
    "\\frac{" * 400,
    "1/" * 1000,
    "1e999999999",
    ".5." * 600,
    "t-" * 999,
    "I" * MAX_MESSAGE_CHARS,
    "M" * 2000,
    "one " * 500,
    "twenty " * 285,
    "1,000," * 333,
    "$" * 2000,
    "0x" + "F" * 1998,
    "\u2460" * 2000,
    "\u00b2" * 2000,
]
SETTINGS = settings(
    max_examples=150,
    deadline=timedelta(seconds=MAX_SECONDS * 2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PLAN = TurnPlan(
    move="focus",
    sub_kind="hint",
    target_node="s1",
    reason="fuzz",
    budget=BudgetRemaining(hints=3, tells=1),
    question="How many muffins does Maya bake altogether?",
    hint="Every tray holds the same number of muffins.",
    must_not_reveal=("12", "24", "3/4", "2x + 6", "Monday"),
)
CONTEXT = GuardContext("Maya bakes 4 trays of 6 muffins and sells each for 50 cents.", ("Hi!", "24"))


T = TypeVar("T")


def timed(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    started = time.perf_counter()
    result = call(*args, **kwargs)
    elapsed = time.perf_counter() - started
    assert elapsed < MAX_SECONDS, f"{call.__name__} took {elapsed:.2f}s"
    return result


def with_examples(test: Callable[..., None]) -> Callable[..., None]:
    """The nasty texts above, always tried, whatever hypothesis draws besides."""
    for text in NASTY:
        test = example(text)(test)
    return test


@SETTINGS
@with_examples
@given(MESSAGES)
def test_the_message_reader_reads_any_text(text: str) -> None:
    reading = timed(read_message, text, givens=frozenset({Fraction(4), Fraction(6)}))
    assert reading is not None


@SETTINGS
@with_examples
@given(MESSAGES)
def test_the_guard_judges_any_reply_whole_or_streaming(text: str) -> None:
    for partial in (False, True):
        verdict = timed(check_reply, text, PLAN, CONTEXT, partial=partial, phrased=not partial)
        assert verdict.ok in (True, False)
    assert len(timed(settled_prefix, text)) <= len(text)
    assert text.startswith(timed(releasable_prefix, text))


@SETTINGS
@given(MESSAGES, st.lists(st.one_of(PIECES, st.text(ANY_CHARACTER, max_size=30)), max_size=6))
def test_the_guard_takes_any_forbidden_values(text: str, values: list[str]) -> None:
    plan = replace(PLAN, must_not_reveal=tuple(values), question=values[0] if values else None)
    timed(check_reply, text, plan, CONTEXT)


@SETTINGS
@with_examples
@given(MESSAGES)
def test_screening_reads_any_student_message(text: str) -> None:
    attempts = timed(screen_message, text, intent="unclear", earlier=("10", "11"), verdict="incorrect")
    assert all(isinstance(a, str) for a in attempts)
    quoted = quotable_value(text, accepted=("Monday | Mon",))
    assert quoted is None or len(quoted) <= 60
