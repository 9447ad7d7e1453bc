"""Finding numbers in free text, in every surface form a student or a tutor might write them.

The answer checker uses this to read what a student wrote ("twenty-four", "2 1/2", "$1,200", "25%"), and the reply
guard uses the very same reader to find a forbidden value in a reply however it is spelled, so the two can never
disagree about what counts as a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"thousand": 1000, "million": 10**6, "billion": 10**9}
_FRACTION_WORDS = {
    "half": 2,
    "halves": 2,
    "third": 3,
    "thirds": 3,
    "quarter": 4,
    "quarters": 4,
    "fourth": 4,
    "fourths": 4,
    "fifth": 5,
    "fifths": 5,
    "sixth": 6,
    "sixths": 6,
    "seventh": 7,
    "sevenths": 7,
    "eighth": 8,
    "eighths": 8,
    "ninth": 9,
    "ninths": 9,
    "tenth": 10,
    "tenths": 10,
    "hundredth": 100,
    "hundredths": 100,
}
# Every word that can be part of a number written in words (the guard reads a trailing one as unfinished).
NUMBER_WORDS = (
    set(_UNITS) | set(_TENS) | set(_SCALES) | set(_FRACTION_WORDS) | {"hundred", "dozen", "point", "and", "a", "an"}
)
# "this one", "which one": the word "one" used as a pronoun is not the number 1.
_PRONOUN_BEFORE_ONE = frozenset(
    {"this", "that", "which", "each", "every", "the", "any", "no", "another", "some", "other", "last", "next"}
)
_PRONOUN_AFTER_ONE = frozenset({"of", "another", "by", "more"})

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_DIGITS_RE = re.compile(
    rf"(?<![\d.])(?P<sign>(?<![\w)])[-\u2212])?(?P<num>{_NUM})(?![\d])"
    r"(?P<scale>\s+(?:thousand|million|billion)\b)?"
    r"(?P<and_frac>\s+and\s+(?:a|one)\s+(?:half|quarter|third)\b)?"
    r"(?P<pct>\s*%|\s*per\s?cent\b)?",
    re.IGNORECASE,
)
_FRACTION_RE = re.compile(r"(?<![\d.,/])(?P<sign>(?<![\w)])[-\u2212])?(?P<a>\d+)\s*/\s*(?P<b>\d+)(?![\d/]|\.\d)")
_MIXED_RE = re.compile(r"(?<![\d.,/])(?P<w>\d+)\s+(?P<a>\d+)\s*/\s*(?P<b>\d+)(?![\d/]|\.\d)")
_LATEX_FRAC_RE = re.compile(r"\\[dt]?frac\s*\{\s*(?P<a>-?\d+(?:\.\d+)?)\s*\}\s*\{\s*(?P<b>\d+(?:\.\d+)?)\s*\}")
_WORD_RE = re.compile(r"[A-Za-z]+")
_PCT_AFTER_RE = re.compile(r"\s*(?:%|per\s?cent\b)", re.IGNORECASE)


@dataclass(frozen=True)
class NumberMention:
    """One number found in a text. ``value`` is what was written (25 for "25%"); ``percent`` marks a percentage."""

    value: Fraction
    start: int
    end: int
    text: str
    form: str  # "digits", "fraction", "mixed", "latex_fraction" or "words"
    percent: bool = False
    # The digits as written when a word changes their value: "405 million" writes 405 for anyone to read.
    written: Fraction | None = None

    @property
    def proportion(self) -> Fraction:
        """The value as a plain quantity: 25% is 1/4."""
        return self.value / 100 if self.percent else self.value


def parse_decimal(text: str) -> Fraction:
    return Fraction(text.replace(",", ""))


def format_number(value: Fraction) -> str:
    """Canonical text of a value: ``24``, ``0.5``, ``-1.25``; a fraction with no finite decimal stays ``1/3``."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    whole, rest = divmod(magnitude.numerator, magnitude.denominator)
    digits = ""
    while rest:
        rest *= 10
        digit, rest = divmod(rest, magnitude.denominator)
        digits += str(digit)
    return f"{sign}{whole}.{digits}"


def decimal_places(text: str) -> int:
    """How many decimal places an authored value was written with ("3.33" -> 2); 0 for anything else."""
    m = re.fullmatch(r"\s*[-\u2212]?\$?\d[\d,]*\.(\d+)\s*%?\s*", text)
    return len(m.group(1)) if m else 0


# Where no number reads across: a sentence or clause end, punctuation and then a space ("24. 5" and "1, 200" are two
# numbers each, "one, two" two words). No form below matches across one, and none looks past one to decide, so a
# text is read a clause at a time and each clause's reading is kept: the guard reads a streamed reply again as each
# clause arrives, and the problem, the dialogue and the plan on every check, so nearly every clause is read once.
_CLAUSE_END_RE = re.compile(r"(?<=[.?!;:,])\s+")
_CLAUSES_KEPT = 8192


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text`` in order of position, without overlaps (see :func:`read_numbers` for the forms).

    A new list each call, of mentions that cannot change: a caller may sort or trim its list without touching the
    clauses kept for the next.
    """
    ends = [m.end() for m in _CLAUSE_END_RE.finditer(text)]
    clauses = [text[start:end] for start, end in zip([0, *ends], [*ends, len(text)], strict=True)]
    # Whether words are read as numbers at all is decided for the whole text (see _counts_in_words).
    in_words = any(_counts_in_words_kept(clause) for clause in clauses)
    found: list[NumberMention] = []
    offset = 0
    for clause in clauses:
        mentions = _read_clause(clause, in_words)
        if offset and mentions:
            mentions = tuple(
                NumberMention(m.value, m.start + offset, m.end + offset, m.text, m.form, m.percent, m.written)
                for m in mentions
            )
        found += mentions
        offset += len(clause)
    return found


@lru_cache(maxsize=_CLAUSES_KEPT)
def _read_clause(clause: str, in_words: bool) -> tuple[NumberMention, ...]:
    return tuple(_read(clause, in_words))


@lru_cache(maxsize=_CLAUSES_KEPT)
def _counts_in_words_kept(clause: str) -> bool:
    return _counts_in_words(clause)


def read_numbers(text: str) -> list[NumberMention]:
    """Every number in ``text`` in order of position, without overlaps, read afresh (:func:`find_numbers` reads the
    same, a clause at a time, and keeps what it read).

    Forms: digits with thousands separators and decimals (``1,200.50``, ``.5``), a sign, percentages, fractions
    (``3/4``), mixed numbers (``2 1/2``), LaTeX fractions (``\\frac{3}{4}``), scale words (``2 million``) and numbers
    written in words (``twenty-four``, ``one hundred and five``, ``three quarters``, ``two and a half``,
    ``a dozen``, ``four point five``).
    """
    return _read(text, _counts_in_words(text))


def _read(text: str, in_words: bool) -> list[NumberMention]:
    found: list[NumberMention] = []
    # Which characters a number already covers: checking a span costs its length, not the count of numbers so far.
    taken = bytearray(len(text) + 1)

    def free(start: int, end: int) -> bool:
        return not any(taken[start:end])

    def add(mention: NumberMention) -> None:
        found.append(mention)
        taken[mention.start : mention.end] = b"\x01" * (mention.end - mention.start)

    for m in _LATEX_FRAC_RE.finditer(text):
        latex_den = Fraction(m.group("b"))
        if latex_den != 0:
            add(_with_percent(text, Fraction(m.group("a")) / latex_den, m.start(), m.end(), "latex_fraction"))
    for m in _MIXED_RE.finditer(text):
        whole, num, den = int(m.group("w")), int(m.group("a")), int(m.group("b"))
        if 0 < num < den and free(m.start(), m.end()):
            add(NumberMention(Fraction(whole) + Fraction(num, den), m.start(), m.end(), m.group(0), "mixed"))
    for m in _FRACTION_RE.finditer(text):
        den = int(m.group("b"))
        if den != 0 and free(m.start(), m.end()):
            value = Fraction(int(m.group("a")), den)
            if m.group("sign"):
                value = -value
            add(_with_percent(text, value, m.start(), m.end(), "fraction"))
    for m in _DIGITS_RE.finditer(text):
        if not free(m.start(), m.end()):
            continue
        value = written = parse_decimal(m.group("num"))
        if m.group("scale"):
            value *= _SCALES[m.group("scale").strip().lower()]
        if m.group("and_frac"):
            value += Fraction(1, _FRACTION_WORDS[m.group("and_frac").split()[-1].lower()])
        if m.group("sign"):
            value = -value
        end = m.end("pct") if m.group("pct") else m.end()
        mention = NumberMention(value, m.start(), end, text[m.start() : end].strip(), "digits", bool(m.group("pct")))
        if written != abs(value):
            mention = NumberMention(
                mention.value, mention.start, mention.end, mention.text, "digits", mention.percent, written
            )
        add(mention)
    for mention in _word_numbers(text) if in_words else ():
        if free(mention.start, mention.end):
            add(mention)
    found.sort(key=lambda n: n.start)
    return found


def _with_percent(text: str, value: Fraction, start: int, end: int, form: str) -> NumberMention:
    pct = _PCT_AFTER_RE.match(text, end)
    if pct:
        end = pct.end()
    return NumberMention(value, start, end, text[start:end], form, bool(pct))


def _counts_in_words(text: str) -> bool:
    """Whether ``text`` has a word that names a number by itself ("two", "half", "dozen"): only then are its number
    words read at all (a text with none, "a hundred plates", reads no number in words)."""
    return any(_names_a_number(m.group(0).lower()) for m in _WORD_RE.finditer(text))


def _names_a_number(word: str) -> bool:
    return word in _UNITS or word in _TENS or word in _FRACTION_WORDS or word == "dozen"


def _word_numbers(text: str) -> list[NumberMention]:
    words = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    mentions: list[NumberMention] = []
    i = 0
    while i < len(words):
        # A run of number words joined only by spaces or hyphens.
        j = i
        while j < len(words) and words[j][0] in NUMBER_WORDS:
            if j > i and text[words[j - 1][2] : words[j][1]].strip(" -") != "":
                break
            j += 1
        if j == i:
            i += 1
            continue
        parsed = _parse_word_run([w for w, _, _ in words[i:j]])
        if not parsed:
            i = j
            continue
        for value, first, last in parsed:
            start, end = words[i + first][1], words[i + last][2]
            if _is_pronoun_one(text, words, i + first, i + last):
                continue
            mentions.append(_with_percent(text, value, start, end, "words"))
        i = j
    return mentions


def _is_pronoun_one(text: str, words: list[tuple[str, int, int]], first: int, last: int) -> bool:
    if first != last or words[first][0] != "one":
        return False
    # Only a word in the same phrase makes "one" a pronoun: "another. (one zero zero)" spells a number.
    before = words[first - 1][0] if first > 0 and _same_phrase(text, words[first - 1][2], words[first][1]) else ""
    after = (
        words[last + 1][0] if last + 1 < len(words) and _same_phrase(text, words[last][2], words[last + 1][1]) else ""
    )
    return before in _PRONOUN_BEFORE_ONE or after in _PRONOUN_AFTER_ONE


def _same_phrase(text: str, end: int, start: int) -> bool:
    return text[end:start].strip() == ""


def _parse_word_run(run: list[str]) -> list[tuple[Fraction, int, int]]:
    """Split a run of number words into numbers: "twenty four" is one, "two three" is two.

    Returns (value, index of first word, index of last word) for each number found.
    """
    out: list[tuple[Fraction, int, int]] = []
    k = 0
    while k < len(run):
        value, first, last = _parse_one(run, k)
        if value is None:
            k += 1
            continue
        out.append((value, first, last))
        k = last + 1
    return out


def _parse_one(run: list[str], k: int) -> tuple[Fraction | None, int, int]:
    """Parse the longest grammatical number starting at ``run[k]``; returns (value or None, first, last)."""
    while k < len(run) and run[k] in ("and", "point"):
        k += 1
    if k >= len(run):
        return None, k, k
    first = last = k
    total = current = Fraction(0)
    seen = False
    prev = ""  # class of the previous word: unit, teen, tens, hundred, scale, dozen, article, and
    while k < len(run):
        w = run[k]
        nxt = run[k + 1] if k + 1 < len(run) else ""
        if w in ("a", "an"):
            if seen or not (nxt in ("hundred", "dozen") or nxt in _SCALES or nxt in _FRACTION_WORDS):
                break
            current, prev = Fraction(1), "article"
        elif w == "and":
            if not seen:
                break
            # "two and a half", "three and two thirds": a whole number and a proper fraction.
            rest, _, rest_last = _parse_one(run, k + 1)
            if rest is not None and 0 < rest < 1 and run[rest_last] in _FRACTION_WORDS:
                return total + current + rest, first, rest_last
            # "one hundred and five"
            if prev in ("hundred", "scale") and (nxt in _UNITS or nxt in _TENS):
                prev = "and"
            else:
                break
        elif w in _UNITS:
            v = _UNITS[w]
            if prev in ("unit", "teen", "dozen", "article") or (prev == "tens" and (v >= 10 or v == 0)):
                break
            current += v
            prev, seen, last = ("teen" if v >= 10 else "unit"), True, k
        elif w in _TENS:
            if prev in ("unit", "teen", "tens", "dozen", "article"):
                break
            current += _TENS[w]
            prev, seen, last = "tens", True, k
        elif w == "hundred":
            if prev not in ("unit", "teen", "tens", "article"):
                break
            current *= 100
            prev, seen, last = "hundred", True, k
        elif w in _SCALES:
            if prev not in ("unit", "teen", "tens", "hundred", "dozen", "article"):
                break
            total += current * _SCALES[w]
            current = Fraction(0)
            prev, seen, last = "scale", True, k
        elif w == "dozen":
            if prev not in ("unit", "teen", "tens", "article"):
                break
            current *= 12
            prev, seen, last = "dozen", True, k
        elif w in _FRACTION_WORDS:
            den = _FRACTION_WORDS[w]
            if prev == "article":
                return total + current / den, first, k
            if prev in ("unit", "teen", "tens"):
                # "two thirds" or "one third" are fractions; "twenty third" is an ordinal, so stop before it.
                if current == 1 or w.endswith("s") or w == "half":
                    return total + current / den, first, k
                break
            if not seen and w in ("half", "halves"):
                return Fraction(1, 2), k, k
            break
        elif w == "point":
            digits = ""
            j = k + 1
            while j < len(run) and run[j] in _UNITS and _UNITS[run[j]] < 10:
                digits += str(_UNITS[run[j]])
                j += 1
            if not seen or not digits:
                break
            return total + current + Fraction(f"0.{digits}"), first, j - 1
        else:
            break
        k += 1
    if not seen:
        return None, first, first
    return total + current, first, last
