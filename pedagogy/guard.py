"""The reply guard: checks a finished reply against its plan before the student sees it.

A reply fails when it
1. contains a value the plan must not reveal, in any surface form: digits, words, an equivalent fraction, decimal
   or percentage, inside an expression or LaTeX, or spelled out one digit at a time; or disguised (Roman numerals,
   other languages, letters spelled out, look-alike or invisible characters, TeX tricks, other bases, arithmetic
   that works out to it: see :mod:`pedagogy.disguise`);
2. contains a number that appears nowhere in the problem, the dialogue or the plan (a made-up number);
3. says "the answer is ..." before the problem is solved;
4. does not ask a question when the move asks one, or is empty or too long;
5. is written in another language than the session's (see :mod:`pedagogy.language`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from pedagogy import disguise
from pedagogy.answers import NormalizedAnswer, normalize_answer, number_matches
from pedagogy.foreign_numbers import WORDS as FOREIGN_NUMBER_WORDS
from pedagogy.language import foreign_sentence
from pedagogy.numbers import NUMBER_WORDS, NumberMention, find_numbers, format_number
from pedagogy.plan import TurnPlan

# Numbers ordinary speech uses ("one step", "two numbers"); never counted as made up.
ALWAYS_ALLOWED = frozenset({Fraction(0), Fraction(1), Fraction(2)})
_ANSWER_PHRASE_RE = re.compile(
    r"\bthe\s+(?:final\s+|correct\s+|right\s+|real\s+)?(?:answer|solution|result)\b"
    # "the answer to the question about the trays is ..." announces just as much as "the answer is".
    r"(?:\s+(?:to|for|of)\b[^.?!\n]{0,80}?)?\s+(?:is|was|would\s+be|will\s+be|equals|=|:)"
    r"|(?:^|\n)\s*(?:final\s+)?answer\s*[:=]",
    re.IGNORECASE,
)
# Words that carry no content when comparing a reply with the plan's own hint, feedback or question.
_FILLER = frozenset(
    [
        "about",
        "after",
        "again",
        "also",
        "another",
        "answer",
        "because",
        "been",
        "before",
        "could",
        "does",
        "each",
        "every",
        "from",
        "have",
        "here",
        "into",
        "just",
        "know",
        "like",
        "many",
        "more",
        "much",
        "need",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "thing",
        "think",
        "this",
        "those",
        "through",
        "want",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
    ]
)
#: Share of the content words of the plan's hint, feedback or question that a reply must keep.
MIN_CONTENT_KEPT = 0.4
_FRACTION_PARTS_RE = re.compile(r"(\d+)\s*/\s*(\d+)|\\[dt]?frac\s*\{\s*(-?[\d.]+)\s*\}\s*\{\s*([\d.]+)\s*\}")
_DIGIT_GAP_RE = re.compile(r"[\s,;:.\-\u2013\u2014/|*]*")
# A streamed reply is shown up to a sentence or clause end: punctuation and then a space. No number reads across
# one ("24. 5" and "1, 200" are two numbers each), so nothing later text adds can change what the shown part says.
_RELEASE_POINT_RE = re.compile(r"[.?!;:,][\s]+")
# Words that can still extend the number written before them: "three" may become "three quarters" or "three
# hundred", "24" may become "24 per cent", "6 plus" may become "6 plus 6", "vingt et" may become "vingt et un". The
# number readers' own vocabularies, so they always agree.
_OPERATOR_WORDS = frozenset({"plus", "minus", "times", "multiplied", "divided", "by", "over", "x"})
_EXTENDING_WORDS = frozenset(NUMBER_WORDS | FOREIGN_NUMBER_WORDS | _OPERATOR_WORDS | {"per", "cent", "percent"})
_STREAM_TOKEN_RE = re.compile(r"[A-Za-z]+|\d+|\s+|.", re.DOTALL)
# Characters inside or between the parts of one number or expression: "2-", "48/", "\\frac{3}{", "25 %", "$",
# "6+", "(3+3)*", "2^", a TeX command's backslash.
_EXTENDING_MARKS = frozenset("-\u2212\u2013/%${}+*()^\u00d7\u00b7\u00f7\\")


@dataclass(frozen=True)
class GuardContext:
    """What the reply may draw numbers from besides the plan: the problem text and the dialogue so far; and the
    language the session is held in (a reply in another one fails)."""

    problem_text: str
    dialogue: tuple[str, ...] = ()
    language: str = "english"


@dataclass(frozen=True)
class GuardVerdict:
    ok: bool
    reasons: tuple[str, ...] = ()


@lru_cache(maxsize=4096)
def _forbidden(value: str) -> NormalizedAnswer | None:
    return normalize_answer(value, "number")


def _is_unevaluated_division(mention: NumberMention) -> bool:
    """``48/2`` names a division still to be done (what a scaffold asks), not the value 24 itself."""
    if mention.form not in ("fraction", "latex_fraction") or mention.value.denominator != 1:
        return False
    m = _FRACTION_PARTS_RE.search(mention.text)
    if m is None:
        return False
    den = m.group(2) or m.group(4)
    return den is not None and Fraction(den) != 1


def revealed_values(text: str, values: Iterable[str]) -> list[tuple[str, str]]:
    """The forbidden values ``text`` reveals, as (value, the surface form that revealed it)."""
    wanted = [(v, _forbidden(v)) for v in values if v]
    if not wanted:
        return []
    mentions = find_numbers(text)
    found: list[tuple[str, str]] = []
    for raw, norm in wanted:
        if norm is None or norm.value is None:
            hit = _reveals_text_answer(text, raw)
            if hit:
                found.append((raw, hit))
            continue
        for m in mentions:
            if not _is_unevaluated_division(m) and number_matches(m.value, norm, percent=m.percent):
                found.append((raw, m.text))
                break
            if m.written is not None and number_matches(m.written, norm):
                found.append((raw, m.text))
                break
            parts = _FRACTION_PARTS_RE.search(m.text) if m.form in ("fraction", "latex_fraction") else None
            if parts and any(number_matches(Fraction(p), norm) for p in parts.groups() if p):
                # "24/2" still writes the 2 (and the 24) for anyone to read.
                found.append((raw, m.text))
                break
        else:
            spelled = _spelled_digits(text, mentions, norm.value)
            if spelled:
                found.append((raw, spelled))
    return found


def disguised_values(
    text: str, values: Iterable[str], *, kept: frozenset[str] = frozenset(), language: str | None = None
) -> list[tuple[str, str]]:
    """The forbidden values ``text`` reveals only in disguise, as (value, the form a reading of ``text`` showed it
    in and how that reading read the text).

    Kept apart from :func:`revealed_values`, which the planner also uses to vet authored hints: an authored hint
    such as "4 trays of 6" is the planner's to give, and is judged by what it writes, not by what it works out to.
    ``kept`` holds the arithmetic the plan and the problem write themselves (see :func:`disguise.expressions_in`).
    """
    return _revealed_in(disguise.readings(text, kept=kept, language=language), values)


def _revealed_in(readings: Iterable[disguise.Reading], values: Iterable[str]) -> list[tuple[str, str]]:
    """Each value the first reading that shows it reveals, with the form it was found in and how it was read."""
    remaining = list(dict.fromkeys(v for v in values if v))
    found: list[tuple[str, str]] = []
    for reading in readings:
        if not remaining:
            break
        for value, form in revealed_values(reading.text, remaining):
            found.append((value, f"{form!r} {reading.how}"))
            remaining.remove(value)
    return found


def _spelled_digits(text: str, mentions: list[NumberMention], value: Fraction) -> str | None:
    """Catch "seven, two" or "7 - 2" for 72: single digits in a row whose concatenation is the value."""
    if value.denominator != 1 or abs(value) < 10:
        return None
    target = str(abs(value.numerator))
    singles = [m for m in mentions if m.value.denominator == 1 and 0 <= m.value < 10 and not m.percent]
    for i in range(len(singles)):
        digits = str(singles[i].value.numerator)
        for j in range(i + 1, len(singles)):
            if not _DIGIT_GAP_RE.fullmatch(text[singles[j - 1].end : singles[j].start]):
                break
            digits += str(singles[j].value.numerator)
            if digits == target:
                return text[singles[i].start : singles[j].end]
            if not target.startswith(digits):
                break
    return None


def _reveals_text_answer(text: str, answer: str) -> str | None:
    """Non-numeric answers (expressions, choices, words): compare with spacing and case removed."""
    compact = re.sub(r"\s+", "", answer).lower()
    if len(compact) == 1 and compact.isalpha():
        m = re.search(
            rf"(?:\b(?:option|choice|answer|letter)\s*\(?|\(){re.escape(compact)}\b\)?|\bis\s+{re.escape(compact)}\b\W*$",
            text,
            re.IGNORECASE,
        )
        return m.group(0) if m else None
    if len(compact) < 2:
        return None
    haystack = re.sub(r"\s+", "", text).lower().replace("**", "^")
    return answer if compact.replace("**", "^") in haystack else None


def allowed_numbers(texts: Iterable[str]) -> set[Fraction]:
    """Every value written in ``texts``, with percentages also as proportions and fractions also by parts."""
    allowed: set[Fraction] = set()
    for text in texts:
        allowed |= _allowed_in(text)
    return allowed


# A turn checks its reply a clause at a time against the same problem, dialogue and plan: each text's values are
# worked out once, not once per clause.
@lru_cache(maxsize=4096)
def _allowed_in(text: str) -> frozenset[Fraction]:
    allowed: set[Fraction] = set()
    for m in find_numbers(text):
        allowed.add(m.value)
        allowed.add(abs(m.value))
        if m.percent:
            allowed.add(m.proportion)
        parts = _FRACTION_PARTS_RE.search(m.text) if m.form in ("fraction", "latex_fraction") else None
        if parts:
            allowed.update(Fraction(p) for p in parts.groups() if p)
    return frozenset(allowed)


def _kept_expressions(plan: TurnPlan, context: GuardContext) -> frozenset[str]:
    """The arithmetic the plan and the problem write themselves: a reply may repeat it ("4 x 6" from the worked step).
    Never the student's value or the dialogue: a reply that echoes "6+6" back to the student confirms an answer."""
    texts = [context.problem_text, plan.question, plan.hint, plan.feedback, plan.told, plan.concept, plan.example]
    texts += [plan.claim, plan.operand, *plan.credited, *plan.may_mention]
    kept: frozenset[str] = frozenset()
    for text in texts:
        if text:
            kept |= disguise.expressions_in(text)
    return kept


def _plan_texts(plan: TurnPlan) -> list[str]:
    texts = [plan.question, plan.hint, plan.feedback, plan.told, plan.concept, plan.student_value]
    # The student's own claims and the worked example's other numbers are the plan's too; only which numbers
    # count as made up changes here, never what must not be revealed.
    texts += [plan.claim, plan.operand, plan.example, *plan.credited]
    return [t for t in texts if t] + list(plan.may_mention)


_AFFIRM_RE = re.compile(
    r"^\W*(?:yes|yep|yeah|correct|right|exactly|perfect|that'?s (?:it|right|correct)|well done|great job|good job)\b",
    re.IGNORECASE,
)
_DENY_RE = re.compile(r"^\W*(?:no\b|nope|not quite|incorrect|wrong|that'?s not)", re.IGNORECASE)


def _without_question(text: str, question: str | None, *, partial: bool = False) -> str:
    """The reply minus the authored question it asks: a step value the question itself states is no leak.

    ("How many eighths make one quarter?" states one quarter, which equals the step's answer 2/8.) Never applied
    to the final answer: a sub-question may quote a given that equals it, and repeating that would still read as
    the answer. With ``partial``, a reply that ends part-way into the question is stating the question too: the
    finished reply will hold all of it, and judging its first half alone would withdraw a reply that is fine.
    """
    if not question:
        return text
    core = question.strip().rstrip("?.").strip()
    if len(core) < 12:
        return text
    text = re.sub(re.escape(core), " ", text, flags=re.IGNORECASE)
    if partial:
        start = _question_begun_at(text, core)
        if start is not None:
            text = text[:start] + " "
    return text


def _question_begun_at(text: str, core: str) -> int | None:
    """Where ``text`` ends part-way into ``core`` (the longest such ending that starts a word), if it does."""
    folded, wanted = text.rstrip().lower(), core.lower()
    for start in range(len(folded)):
        at_word = start == 0 or not folded[start - 1].isalnum()
        if at_word and folded[start] == wanted[0] and wanted.startswith(folded[start:]):
            return start
    return None


def settled_prefix(text: str) -> str:
    """The start of a streamed reply that later text cannot change: ``text`` less a number that may still grow.

    The last word or digit run may be cut mid-way ("one quar", the "2" of "24"), and a number, however written,
    may still be extended by what follows ("three" by "half-hours" or "quarters", "24" by "/2" or "%"). Both wait
    until a word or mark that no number continues with shows where the number ended.
    """
    tokens = [(m.start(), m.group(0)) for m in _STREAM_TOKEN_RE.finditer(text)]
    cut = len(text)
    if tokens and tokens[-1][1][0].isalnum():
        start, last = tokens.pop()
        cut = start
        after_command = text[start - 1 : start] == "\\"
        if last.isalpha() and not after_command and not any(w.startswith(last.lower()) for w in _EXTENDING_WORDS):
            return text[:cut]  # a word no number continues with: whatever came before it has ended
    while tokens:
        start, token = tokens[-1]
        follows = text[start + len(token) : start + len(token) + 1]
        extends = (
            token.isspace()
            or token.isdigit()
            or token in _EXTENDING_MARKS
            or token.lower() in _EXTENDING_WORDS
            # "0." may become "0.5" and "1," "1,200"; followed by a space they end a sentence or a clause instead.
            or (token in (".", ",") and not follows.isspace())
            # A TeX command ("\\mathbf" of "\\mathbf{1}\\mathbf{2}"), a character that shows nothing, or a digit drawn
            # another way ("¹" of "¹²", "①" of "①②") may still be inside a number.
            or (token.isalpha() and text[start - 1 : start] == "\\")
            or (len(token) == 1 and not token.isascii() and _may_continue_number(token))
        )
        if not extends:
            break
        cut = start
        tokens.pop()
    return text[:cut]


def _may_continue_number(ch: str) -> bool:
    return disguise.is_invisible(ch) or any(c.isdigit() for c in disguise.normalize_characters(ch))


def releasable_prefix(text: str) -> str:
    """How much of a streamed reply the page may show: up to its last sentence or clause end.

    Nothing after that point can change what the part before it says, so a prefix the partial check passes stays
    passed; the student never sees text appear and then vanish. The unfinished last sentence waits.
    """
    ends = [m.end() for m in _RELEASE_POINT_RE.finditer(text)]
    return text[: ends[-1]] if ends else ""


def check_reply(
    reply_text: str, plan: TurnPlan, context: GuardContext, *, partial: bool = False, phrased: bool = False
) -> GuardVerdict:
    """Check one reply against its plan; the verdict lists every reason it fails.

    With ``partial`` the text is the start of a reply still being streamed: only the rules that later text cannot
    repair apply (nothing revealed, invented or announced, no wrong verdict, not too long), so streaming can stop at
    the first broken one, and only what later text cannot change is judged (:func:`settled_prefix`): a start that
    fails belongs to a finished reply that fails. With ``phrased`` the text is a model's phrasing, which must also
    keep the plan's hint, feedback and question (the planner's own wording carries them by construction).
    """
    reasons: list[str] = []
    text = (settled_prefix(reply_text) if partial else reply_text).strip()
    if not text:
        return GuardVerdict(partial, () if partial else ("the reply is empty",))
    if len(text) > plan.max_chars:
        reasons.append(f"the reply is longer than {plan.max_chars} characters")
    if plan.verdict == "incorrect" and _AFFIRM_RE.search(text):
        reasons.append("affirms an answer the plan judged wrong")
    if plan.verdict == "correct" and _DENY_RE.search(text):
        reasons.append("rejects an answer the plan judged right")
    # must_not_reveal lists the final answer first: it is checked everywhere, step values outside the question.
    final, steps = plan.must_not_reveal[:1], plan.must_not_reveal[1:]
    outside_question = _without_question(text, plan.question, partial=partial)
    revealed = revealed_values(text, final) + revealed_values(outside_question, steps)
    for value, form in revealed:
        reasons.append(f"reveals {value} (as {form!r})")
    # What the plain reading did not find may still be there in disguise. The text is read once; step values are
    # looked for in each reading less the authored question, as they are in the text.
    foreign = foreign_sentence(text, context.language, complete_only=partial)
    plain = {v for v, _ in revealed}
    hidden_final, hidden_steps = [v for v in final if v not in plain], [v for v in steps if v not in plain]
    disguised: list[tuple[str, str]] = []
    if hidden_final or hidden_steps:
        kept = _kept_expressions(plan, context)
        readings = disguise.readings(text, kept=kept, language=foreign[0] if foreign else None)
        disguised = _revealed_in(readings, hidden_final)
        if hidden_steps:
            without = [
                disguise.Reading(_without_question(r.text, plan.question, partial=partial), r.how) for r in readings
            ]
            disguised += _revealed_in(without, hidden_steps)
    for value, form in disguised:
        reasons.append(f"reveals {value} (as {form})")
    revealed += disguised
    # A revealed value is reported once, as revealed, not again as made up.
    allowed = ALWAYS_ALLOWED | allowed_numbers(
        [context.problem_text, *context.dialogue, *_plan_texts(plan), *(v for v, _ in revealed)]
    )
    for m in find_numbers(text):
        if m.value in allowed or abs(m.value) in allowed or (m.percent and m.proportion in allowed):
            continue
        parts = _FRACTION_PARTS_RE.search(m.text) if m.form in ("fraction", "latex_fraction") else None
        if parts and all(Fraction(p) in allowed for p in parts.groups() if p):
            continue
        reasons.append(f"mentions {format_number(m.value)}, which appears nowhere in the problem, dialogue or plan")
    if not plan.solved and (
        _ANSWER_PHRASE_RE.search(text) or _ANSWER_PHRASE_RE.search(disguise.normalize_characters(text))
    ):
        reasons.append("announces the answer before the problem is solved")
    if foreign is not None:
        reasons.append(f"is written in {foreign[0].title()}, not {context.language.title()} ({foreign[1][:60]!r})")
    if not partial and plan.asks_question and "?" not in text:
        reasons.append(_ASKS_NONE)
    if phrased and not partial:
        reasons += _dropped_content(text, plan)
    return GuardVerdict(not reasons, tuple(reasons))


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _FILLER}


_DROPPED = "drops the plan's "
_ASKS_NONE = "the move asks a question but the reply asks none"


def says_too_little(reasons: Sequence[str]) -> bool:
    """Whether every reason a reply failed is something it left out (the plan's hint, feedback, worked example or
    question), not something it said: such a reply is completed, and nothing it said was wrong."""
    return all(reason.startswith(_DROPPED) or reason == _ASKS_NONE for reason in reasons)


def _dropped_content(text: str, plan: TurnPlan) -> list[str]:
    """The plan's hint, feedback, worked example and question must survive the phrasing (a hint is counted only
    when its content reaches the student): a reply that swaps them for pleasantries
    ("I'm here to help, what do you need?") passes every other rule and teaches nothing."""
    return [_DROPPED + label for label, _ in missing_content(text, plan)]


def missing_content(text: str, plan: TurnPlan) -> list[tuple[str, str]]:
    """The parts of the plan (label, the planner's wording) that ``text`` does not carry, in the order a reply says
    them: feedback, hint, worked example, question."""
    said = _content_words(text)
    missing = []
    for label, wanted in (
        ("feedback", plan.feedback),
        ("hint", plan.hint),
        ("worked example", plan.example),
        ("question", plan.question),
    ):
        if not wanted or (label == "question" and not plan.asks_question):
            continue
        words = _content_words(wanted)
        if len(words) >= 3 and len(words & said) < MIN_CONTENT_KEPT * len(words):
            missing.append((label, wanted))
    return missing


def first_passing(candidates: Sequence[str], plan: TurnPlan, context: GuardContext) -> tuple[int, GuardVerdict]:
    """The index of the first candidate reply that passes (or -1) and the verdict of the last one checked."""
    verdict = GuardVerdict(False, ("no candidate reply",))
    for i, candidate in enumerate(candidates):
        verdict = check_reply(candidate, plan, context)
        if verdict.ok:
            return i, verdict
    return -1, verdict
