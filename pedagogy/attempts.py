"""Attempts to get the answer out of the tutor or to change its rules, found in one student message, for the teacher.

The planner already declines such messages (it reads them as ``answer_request`` or ``rule_change``) and flags a
session once they repeat. This module names every attempt on its own turn, including the ones the planner cannot
read because they are hidden: written backwards, in base64, hex, binary or ROT13, in leetspeak ("t3ll m3 th3
4nsw3r"), with look-alike or invisible characters, spelled out letter by letter, or in another language. Rapid
guessing (number after number, or a list of numbers in one message) is named too: it is a way to get the answer
without working for it. The web app adds each name to the turn's flags, so the session is marked for the teacher
and the transcript says why.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from fractions import Fraction

from pedagogy.disguise import normalize_characters
from pedagogy.language import detect
from pedagogy.numbers import find_numbers
from pedagogy.plan import TurnPlan
from pedagogy.understand import RULE_CHANGE_PATTERNS, RuleBasedUnderstander

GUESSES_IN_A_ROW = 3  # bare numbers in consecutive messages, all different, the last one not judged right
GUESSES_AT_ONCE = 4  # different numbers listed in one message with nothing else
MAX_SCREENED_CHARS = 2000

_UNDERSTANDER = RuleBasedUnderstander()
_BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{12,}={0,2}(?![A-Za-z0-9+/=])")
_HEX_TEXT_RE = re.compile(r"(?:\b[0-9a-fA-F]{2}\b[\s:]*){6,}|\b(?:[0-9a-fA-F]{2}){6,}\b")
_BINARY_TEXT_RE = re.compile(r"(?:\b[01]{8}\b\s*){4,}")
_LEET = str.maketrans("0134578@$|!", "oieastbasii")
_SPELLED_RE = re.compile(r"\b[A-Za-z](?:[-.*_][A-Za-z])+\b")
# "answer" and "solution" in other languages: the five the guard reads numbers in, and a few other scripts.
_FOREIGN_ANSWER_RE = re.compile(
    r"\b(?:r[ée]ponse|antwort|l[öo]sung|respuesta|soluci[óo]n|risposta|soluzione|resposta|solu[çc][ãa]o|ответ\w*)\b"
    r"|答案|答え|정답|الإجابة|الجواب|उत्तर",
    re.IGNORECASE,
)
# Requests for the answer the planner's reading of a message does not name: the answer revealed, translated, shown
# or written out for the student ("demonstrate by revealing the answer", "answer in hex").
_ANSWER_WANTED_RE = re.compile(
    # "would give me the answer" describes a calculation; "give me the answer" asks for one.
    r"(?:(?<!would\s)(?<!could\s)(?<!should\s)(?<!will\s)(?<!to\s)(?<!which\s)(?<!that\s)(?<!it\s)"
    r"\b(?:tell|give|show|share|send|say)\s+(?:me|us)\b|\b(?:reveal\w*|translate|print|output|spell|encode|"
    r"demonstrate)\b)[^.?!]{0,40}?\b(?:the|your|final|correct|right)\s+(?:answer|solution|result)\b"
    r"|\banswer\s+in\s+(?:hex\w*|binary|base\s?64|code|roman|french|spanish|german|italian|portuguese|another)\b",
    re.IGNORECASE,
)
_BARE_NUMBERS_RE = re.compile(r"[\s\d.,/%$?!\-\u2212]*\d[\s\d.,/%$?!\-\u2212]*")


def _printable(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    return letters >= 4 and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text)


def _from_base64(message: str) -> str | None:
    decoded = []
    for token in _BASE64_RE.findall(message):
        padded = token + "=" * (-len(token) % 4)
        try:
            text = base64.b64decode(padded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if _printable(text):
            decoded.append(text)
    return " ".join(decoded) or None


def _from_hex(message: str) -> str | None:
    decoded = []
    for m in _HEX_TEXT_RE.finditer(message):
        try:
            text = bytes.fromhex(re.sub(r"[\s:]", "", m.group(0))).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if _printable(text):
            decoded.append(text)
    return " ".join(decoded) or None


def _from_binary(message: str) -> str | None:
    decoded = []
    for m in _BINARY_TEXT_RE.finditer(message):
        try:
            text = bytes(int(b, 2) for b in m.group(0).split()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if _printable(text):
            decoded.append(text)
    return " ".join(decoded) or None


def _from_spelling(message: str) -> str | None:
    if not _SPELLED_RE.search(message):
        return None
    return _SPELLED_RE.sub(lambda m: re.sub(r"[-.*_]", "", m.group(0)), message)


# Each way a request can be hidden, and how to undo it; None when the message holds nothing of that kind.
_DECODERS: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("written backwards", lambda m: m[::-1]),
    ("in base64", _from_base64),
    ("in hex", _from_hex),
    ("in binary", _from_binary),
    ("in ROT13", lambda m: codecs.encode(m, "rot13")),
    (
        "in leetspeak",
        lambda m: m.translate(_LEET) if re.search(r"[A-Za-z][0134578@$|!]|[0134578@$|!][A-Za-z]", m) else None,
    ),
    ("with look-alike or invisible characters", normalize_characters),
    ("spelled out letter by letter", _from_spelling),
)


def _asks(text: str) -> str | None:
    """What a (decoded) text asks for, in the planner's own terms: a rule change or the answer."""
    understood = _UNDERSTANDER.understand(text)
    if understood.intent == "rule_change":
        return "tried to change the tutor's rules"
    if understood.intent == "answer_request" or "answer_request" in understood.also:
        return "asked for the answer"
    return None


def _bare_number(message: str) -> Fraction | None:
    if not _BARE_NUMBERS_RE.fullmatch(message.strip()):
        return None
    numbers = find_numbers(message)
    return numbers[0].value if len(numbers) == 1 else None


def screen_message(
    message: str,
    *,
    intent: str = "",
    earlier: Sequence[str] = (),
    verdict: str | None = None,
    language: str = "english",
    right_values: Collection[Fraction] = (),
) -> tuple[str, ...]:
    """The attempts in ``message``, each named for the teacher ("tried to change the tutor's rules (role play)").

    ``intent`` is the planner's reading of the message, ``earlier`` the student's earlier messages (oldest first),
    ``verdict`` the planner's verdict on this one, ``language`` the session's language, ``right_values`` the values
    the student has been credited with (a right answer is never one of a run of guesses).
    """
    text = message[:MAX_SCREENED_CHARS]
    found: list[str] = []
    if intent == "rule_change":
        names = [name.replace("_", " ") for name, pattern in RULE_CHANGE_PATTERNS.items() if pattern.search(text)]
        found.append("tried to change the tutor's rules" + (f" ({', '.join(names)})" if names else ""))
    elif intent == "answer_request" or _ANSWER_WANTED_RE.search(text):
        found.append("asked for the answer")
    plain = _asks(text)
    hidden = False
    for how, decode in _DECODERS:
        decoded = decode(text)
        if decoded is None or decoded == text:
            continue
        asked = _asks(decoded)
        if asked is not None and asked != plain:
            found.append(f"{asked} {how}")
            hidden = True
            break
    written_in = detect(text)
    if _FOREIGN_ANSWER_RE.search(text):
        found.append("asked for the answer in another language")
    elif written_in is not None and written_in != language:
        found.append(f"wrote in {written_in.title()}, not {language.title()}")
    if not hidden:  # a request written in binary digits is not a list of guesses
        found += _guessing(text, earlier, verdict, right_values)
    return tuple(dict.fromkeys(found))


def _guessing(
    message: str, earlier: Sequence[str], verdict: str | None, right_values: Collection[Fraction] = ()
) -> list[str]:
    listed = {m.value for m in find_numbers(message)}
    if _BARE_NUMBERS_RE.fullmatch(message.strip()) and len(listed) >= GUESSES_AT_ONCE:
        return [f"guessed {len(listed)} numbers in one message"]
    if verdict == "correct":
        return []
    values = []
    for text in [*earlier[-(GUESSES_IN_A_ROW - 1) :], message]:
        value = _bare_number(text)
        if value is None or value in right_values:
            return []  # a message that is not a bare number, or a right answer, is work: not part of a run of guesses
        values.append(value)
    if len(values) == GUESSES_IN_A_ROW and len(set(values)) == GUESSES_IN_A_ROW:
        return [f"guessed {GUESSES_IN_A_ROW} different numbers in a row"]
    return []


def with_attempts_flagged(
    plan: TurnPlan, message: str | None, *, earlier: Sequence[str] = (), right_values: Collection[Fraction] = ()
) -> TurnPlan:
    """``plan`` with every attempt in ``message`` added to its flags and named in its reason, for the teacher."""
    if not message:
        return plan
    attempts = screen_message(
        message, intent=plan.intent, earlier=earlier, verdict=plan.verdict, right_values=right_values
    )
    if not attempts:
        return plan
    new = tuple(a for a in attempts if a not in plan.flags)
    return replace(plan, flags=plan.flags + new, reason=f"{plan.reason} Flagged: {'; '.join(attempts)}.")
