"""Reading a student message: every mathematical claim in it, with the student's own numbers and words.

This is the first stage of a turn (read -> align -> decide -> realize). It knows nothing of the problem's solution,
only of the numbers the problem gives (so that restating a given is not taken for a claim). A claim is
1. an equation or chain, in symbols or words: "10000-6000 = 4000 - 500 = 3500" (two claims), "70 divided by 3 is
   equal to 24", "half of 12 is 6", "I added 24 and 18 to get 42", "25% of 80 is 20";
2. a stated value: a conclusion or answer that is not the result of an equation in the same message ("so Julia
   bought 10 spoons", "I think it's nine"), with what it counts when the student says ("10 spoons").
Numbers the student says are not the answer ("not 7 weeks"), numbers inside a question the student asks, step
numbers, numbers used as operands in prose ("I multiplied it by 3"), hedges ("24 or 25?") and repeats of a result
already claimed are not claims. Each equation's arithmetic is checked exactly (``Fraction``), so "70 / 3 = 24" is
known to be wrong before anything is compared with the solution.

Separately, ``math_segments`` keeps the stretches of the message that look like algebra ("4n+7", "x + 5 = 9") so that an
expression answer is checked on those and prose is never parsed as algebra.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal

from pedagogy import mathparse
from pedagogy.answers import convert_units, is_unit, same_unit
from pedagogy.numbers import NumberMention, find_numbers, format_number

ClaimKind = Literal["equation", "value"]
MAX_READ_CHARS = 2000  # what a student can send in one message
_MAX_DEPTH = 12  # brackets a calculation may nest; deeper is not school arithmetic

# The words between numbers that carry meaning, longest first within each group. Everything else is a plain word.
_GAP_RE = re.compile(
    r"(?P<eq>=|\b(?:which|that|it|this)\s+(?:is|was|comes\s+to)\s+(?:equal\s+to|the\s+same\s+as)\b|"
    r"\bis\s+(?:equal\s+to|the\s+same\s+as)\b|\bequal\s+to\b|\bequals?\b|\bwhich\s+(?:is|gives|makes|equals)\b|"
    r"\bthat\s+(?:is|gives|makes)\b|\bto\s+(?:get|give|make)\b|\band\s+(?:got|get|gets|that\s+gives)\b|\bgives?(?:\s+(?:me|us|him|her|you))?\b|"
    r"\bgave(?:\s+(?:me|us|him|her))?\b|\bgiving(?:\s+(?:me|us))?\b|\bfor\s+a\s+total\s+of\b|"
    r"\bmakes?\b|\bcomes?\s+(?:to|out\s+to)\b|\bis\b|\bare\b|\bwould\s+be\b|\bwill\s+be\b|\bwas\b|\bgot\b|\bget\b|"
    r"\bleaves\b|\bresults?\s+in\b|\bthat'?s\b|\bit'?s\b)"
    r"|(?P<op>[+*/\u00d7\u00f7^]|[-\u2212\u2013](?!\d)|\bplus\b|\bminus\b|\btimes\b|\bmultiplied\s+by\b|"
    r"\bdivided\s+(?:by|into)\b|\bdivide\s+by\b|\bover\b|\btake\s+away\b|(?<![A-Za-z])x(?![A-Za-z]))"
    r"|(?P<of>\bof\b)"
    r"|(?P<open>\()|(?P<close>\))"
    r"|(?P<end>[.!?;:](?=\s|$)|\n|,(?=\s))"
    r"|(?P<word>[A-Za-z][A-Za-z']*(?:-[A-Za-z]+)*)",
    re.IGNORECASE,
)
_OP_SYMBOL = {
    "+": "+",
    "plus": "+",
    "-": "-",
    "\u2212": "-",
    "\u2013": "-",
    "minus": "-",
    "take away": "-",
    "*": "*",
    "x": "*",
    "\u00d7": "*",
    "times": "*",
    "multiplied by": "*",
    "/": "/",
    "\u00f7": "/",
    "divided by": "/",
    "divide by": "/",
    "over": "/",
    "^": "^",
}
# "I added 24 and 18", "subtracted 3 from 12", "multiplied 5 by 3", "divided 70 by 3", "the sum of 4 and 5".
_VERB_OPS: dict[str, tuple[str, frozenset[str], bool]] = {
    # verb: (operation, connectors between the two numbers, whether the operands are written in reverse)
    "add": ("+", frozenset({"and", "to", "with", "plus"}), False),
    "added": ("+", frozenset({"and", "to", "with", "plus"}), False),
    "adding": ("+", frozenset({"and", "to", "with", "plus"}), False),
    "sum": ("+", frozenset({"and", "plus"}), False),
    "subtract": ("-", frozenset({"from"}), True),
    "subtracted": ("-", frozenset({"from"}), True),
    "subtracting": ("-", frozenset({"from"}), True),
    "take": ("-", frozenset({"from"}), True),
    "took": ("-", frozenset({"from"}), True),
    "multiply": ("*", frozenset({"by", "and", "times", "with"}), False),
    "multiplied": ("*", frozenset({"by", "and", "times", "with"}), False),
    "multiplying": ("*", frozenset({"by", "and", "times", "with"}), False),
    "product": ("*", frozenset({"and"}), False),
    "divide": ("/", frozenset({"by"}), False),
    "divided": ("/", frozenset({"by"}), False),
    "dividing": ("/", frozenset({"by"}), False),
}
# Words before a number that make it an operand in prose, not a conclusion ("multiplied it by 3", "out of 20").
_OPERAND_CUES = frozenset(
    {
        "by",
        "from",
        "multiplied",
        "divided",
        "added",
        "subtracted",
        "multiply",
        "divide",
        "add",
        "subtract",
        "plus",
        "minus",
        "times",
        "of",
        "into",
        "than",
        "step",
        "part",
        "question",
        "problem",
        "line",
        "number",
        "per",
        "every",
    }
)
# Words in a clause before a number that make it a conclusion.
_CONCLUSION_CUES = frozenset(
    {
        "so",
        "is",
        "are",
        "was",
        "were",
        "be",
        "got",
        "get",
        "gets",
        "answer",
        "had",
        "has",
        "have",
        "bought",
        "left",
        "total",
        "makes",
        "make",
        "made",
        "gives",
        "costs",
        "cost",
        "spent",
        "spend",
        "earns",
        "earned",
        "pays",
        "paid",
        "needs",
        "need",
        "needed",
        "it's",
        "its",
        "that's",
        "thats",
        "equals",
        "therefore",
        "thus",
        "means",
        "altogether",
        "takes",
        "took",
        "will",
        "would",
        "can",
        "could",
        "holds",
        "hold",
        "store",
        "stores",
        "there",
        "think",
    }
)
_WH_WORDS = frozenset({"what", "how", "why", "where", "when", "which", "who", "whats", "what's"})
_NEGATIONS = frozenset({"not", "isn't", "isnt", "aren't", "wasn't", "never", "no", "don't", "doesn't", "didn't"})
_COUNT_STOP = frozenset(
    {
        "and",
        "or",
        "so",
        "is",
        "are",
        "was",
        "because",
        "in",
        "of",
        "to",
        "times",
        "plus",
        "minus",
        "then",
        "which",
        "that",
        "the",
        "for",
        "by",
        "from",
        "with",
        "each",
        "per",
        "on",
        "at",
        "if",
        "it",
        "i",
        "we",
        "she",
        "he",
        "they",
        "this",
        "but",
        "as",
        "a",
        "an",
        "x",
        "divided",
        "multiplied",
        "equals",
        "altogether",
        "total",
        "left",
        "now",
        "more",
        "less",
        "than",
    }
)
_MATH_SEGMENT_RE = re.compile(
    r"(?<![A-Za-z])(?:[\d.]+|[a-zA-Z](?![A-Za-z])|[-+*/^=()\u00d7\u00f7\u2212 ])+(?![A-Za-z])",
)


@dataclass(frozen=True)
class Claim:
    """One thing the student asserts: ``expression`` (``"70/3"``) comes to ``stated`` (24), or just ``stated``.

    ``computed`` is the exact value of ``expression``; ``counts`` is what the student says the value counts.
    """

    kind: ClaimKind
    text: str
    start: int
    end: int
    stated: Fraction
    expression: str | None = None
    operands: tuple[Fraction, ...] = ()
    operations: tuple[str, ...] = ()
    computed: Fraction | None = None
    undefined: bool = False  # the calculation has no value (a division by zero)
    counts: str | None = None
    percent: bool = False
    stated_text: str = ""
    places: int = 0  # decimal places the student wrote the stated value with
    money: bool = False  # written as money ("$150", "150 dollars")
    bare: bool = False  # the whole message is this value: an answer to the question, even a number the problem gives
    found: bool = False  # offered as a result ("the answer of 12", "8 weeks"), even when the problem gives the number
    restates: Fraction | None = None  # the number "which is ..." puts in other units ("$25 a week, which is $100")
    restates_rate: str | None = None  # the unit of time that number is given per ("week")
    context: str = ""  # the student's words around the value, for what it names ("fish in each aquarium")

    @property
    def arithmetic_ok(self) -> bool | None:
        """Whether the student's calculation gives the value they wrote (rounding as they rounded)."""
        if self.undefined:
            return False  # "5 / 0 = 3": no stated result can be right
        if self.computed is None:
            return None
        if self.computed == self.stated:
            return True
        if self.places:
            return abs(self.computed - self.stated) <= Fraction(1, 2 * 10**self.places)
        # A whole-number result of a division that does not come out even ("70 / 3 = 23 r 1") is a slip here: we ask.
        return False

    @property
    def shown(self) -> str:
        """The claim in the student's numbers, written plainly for quoting back: "70 / 3 = 24"."""
        if self.expression is None:
            return self.said
        spaced = re.sub(r"(?<=[\d)%])([-+*/])(?=[\d(])", r" \1 ", self.expression).replace("*", "\u00d7")
        return f"{spaced} = {self.said}"

    @property
    def said(self) -> str:
        """The value as the student wrote it, for quoting back; a number written in words is quoted in digits, so
        a reply never spells out a number (spelled numbers are how a model would hide an answer)."""
        if self.stated_text and not re.search(r"[A-Za-z]", self.stated_text):
            return self.stated_text
        return format_number(self.stated) + ("%" if self.percent else "")


@dataclass(frozen=True)
class Reading:
    """Everything read from one message."""

    text: str
    claims: tuple[Claim, ...] = ()
    # Numbers the student wrote that are not claims, with why: "given", "negated", "question", "operand", "repeat",
    # "hedge". Kept so that nothing the student wrote is silently ignored by the stages after this one.
    other_numbers: tuple[tuple[NumberMention, str], ...] = ()
    math_segments: tuple[str, ...] = ()
    hedged: bool = False
    described_work: bool = False  # says how a value was reached in words ("I added the two amounts")
    # The value the message ends on (its last claim, or a later restatement of an earlier one): its answer.
    final_value: Fraction | None = None
    final_context: str = ""  # the words around that last statement ("so Kenny started with 100 cards")

    @property
    def shown_work(self) -> bool:
        return self.described_work or any(c.kind == "equation" for c in self.claims)

    @property
    def answer(self) -> Claim | None:
        """The claim the message ends on: its answer, if it gives one."""
        if not self.claims:
            return None
        if self.final_value is not None:
            for claim in reversed(self.claims):
                if claim.stated == self.final_value:
                    return claim
        return self.claims[-1]


@dataclass
class _Token:
    kind: str  # num, op, eq, of, open, close, end, word
    start: int
    end: int
    text: str
    mention: NumberMention | None = None
    value: str = ""  # the operation symbol for op tokens
    # Of the sentence the token is in, worked out once per message: a question the student asks; doubt words.
    in_question: bool = False
    doubtful: bool = False
    sentence: int = 0  # which sentence of the message, counted from 0


@dataclass
class _Run:
    """A run of numbers and operations: "12 x 2 + 6"."""

    tokens: list[_Token] = field(default_factory=list)

    @property
    def numbers(self) -> list[_Token]:
        return [t for t in self.tokens if t.kind == "num"]

    @property
    def has_op(self) -> bool:
        return any(t.kind == "op" for t in self.tokens)


_MONEY_AFTER_RE = re.compile(r"\s*(?:dollars?|cents?|bucks)\b", re.IGNORECASE)


def _describe(text: str, claim: Claim) -> Claim:
    """Add what the claim's value is written as and names: money, and the words of its clause."""
    money = text[max(0, claim.end - len(claim.stated_text) - 1) : claim.end].lstrip().startswith("$") or bool(
        _MONEY_AFTER_RE.match(text, claim.end)
    )
    # The clause around the value, and the next one when it says what the value is (", which is the number of ...").
    start = max(text.rfind(ch, 0, claim.start) for ch in ".!?;,\n")
    end = _clause_end(text, claim.end)
    if re.match(r"\s*(?:which|that)\s+(?:is|was|are|were)\b", text[end + 1 : end + 20], re.IGNORECASE):
        end = _clause_end(text, end + 1)
    return replace(claim, money=money, context=text[start + 1 : end].strip()[:200])


def _clause_around(text: str, end: int) -> str:
    start = max(text.rfind(ch, 0, end) for ch in ".!?;,\n")
    return text[start + 1 : _clause_end(text, end)].strip()[:200]


_SUM_CUES = frozenset({"so", "total", "altogether", "all", "together", "combined", "overall"})


_LIST_REACH = 40  # tokens a listed total may look back over


def _guess_list(claims: list[Claim], tokens: list[_Token], described: bool) -> bool:
    values = [c for c in claims if c.kind == "value"]
    if described or len(values) < 2 or len(values) != len(claims):
        return False
    words = [t for t in tokens if t.kind == "word" and t.text.lower() not in _ANSWER_FILLER]
    return len(words) <= len(values)


_NONE_LEFT_RE = re.compile(
    r"\b(?:(?:none|nothing)\s+(?:(?:is|are|was|were|would\s+be|will\s+be)\s+)?(?:left|leftover|remaining)"
    r"|no\s+(?:\w+\s+)?(?:left|leftover|remaining)"
    r"|(?:won't|will\s+not|wouldn't|would\s+not|isn't|is\s+not|aren't|are\s+not|wasn't|weren't)\s+(?:be\s+)?any"
    r"(?:\s+\w+)?\s+(?:left|leftover|remaining))\b",
    re.IGNORECASE,
)


def _none_left(text: str, claims: list[Claim]) -> list[Claim]:
    """ "there won't be any leftover", "she has none left": an answer of 0 said in words, unless the sentence is a
    question the student asks or the message already says 0 in digits."""
    if any(c.stated == 0 for c in claims):
        return []
    out: list[Claim] = []
    for m in _NONE_LEFT_RE.finditer(text):
        stop = re.search(r"[.!?](?:\s|$)", text[m.end() :] + " ")
        if stop is not None and stop.group(0).startswith("?"):
            continue
        out.append(
            Claim(kind="value", text=m.group(0), start=m.start(), end=m.end(), stated=Fraction(0), stated_text="0")
        )
    return out


def _as_listed_sum(
    tokens: list[_Token], at: Mapping[int, int], claim: Claim, used: set[int]
) -> tuple[Claim, tuple[int, ...]]:
    """ "$5 for tokens, $5 for golf and $10 for rides, so it would cost $20": a total of the amounts listed before it
    in the sentence is an addition the student did, and is checked as one. ``at`` maps a number's start to its
    token."""
    if claim.kind != "value":
        return claim, ()
    k = at.get(claim.start)
    if k is None:
        return claim, ()
    listed: list[Fraction] = []
    starts: list[int] = []
    cue = False
    j = k - 1
    while j >= max(0, k - _LIST_REACH) and not (
        tokens[j].kind == "end" and tokens[j].text.strip() in (".", "!", "?", ";")
    ):
        t = tokens[j]
        if t.kind in ("eq", "op"):
            return claim, ()
        if t.kind == "word" and t.text.lower() in _SUM_CUES:
            cue = True
        mention = t.mention
        if t.kind == "num" and mention is not None and mention.form != "words" and id(t) not in used:
            listed.append(mention.value)
            starts.append(t.start)
        j -= 1
    if not cue or len(listed) < 2 or sum(listed) != claim.stated:
        return claim, ()
    operands = tuple(reversed(listed))
    summed = replace(
        claim,
        kind="equation",
        expression="+".join(format_number(v) for v in operands),
        operands=operands,
        operations=("+",) * (len(operands) - 1),
        computed=sum(operands, Fraction(0)),
    )
    return summed, tuple(starts)


def _worked_out_later(claims: list[Claim]) -> dict[Fraction, int]:
    """For each value a calculation states, where the last such calculation starts."""
    last: dict[Fraction, int] = {}
    for other in claims:
        if other.kind == "equation":
            last[other.stated] = max(last.get(other.stated, -1), other.start)
    return last


def _restated(claim: Claim, worked_out: Mapping[Fraction, int]) -> bool:
    """ "4 rewards, which is 80/20 = 4": a value the message then works out is one claim, the calculation."""
    return claim.kind == "value" and worked_out.get(claim.stated, -1) >= claim.end


def _clause_end(text: str, start: int) -> int:
    stops = [i for i in (text.find(ch, start) for ch in ".!?;,\n") if i >= 0]
    return min(stops) if stops else len(text)


def read_message(
    text: str,
    *,
    givens: frozenset[Fraction] = frozenset(),
    given_counts: frozenset[tuple[Fraction, str]] = frozenset(),
) -> Reading:
    """Read every claim in ``text``. ``givens`` are the numbers the problem states; ``given_counts`` pairs each with
    the word the problem writes after it ("8 pounds"), where it writes one."""
    text = text[:MAX_READ_CHARS]
    tokens = _tokenize(text)
    claims: list[Claim] = []
    used: set[int] = set()  # id() of the number tokens that belong to an equation claim
    i = 0
    while i < len(tokens):
        verbal = _verbal_operation(text, tokens, i)
        if verbal is not None:
            claim, consumed, last = verbal
            if claim is not None and not any(
                (o.expression, o.stated) == (claim.expression, claim.stated) for o in claims
            ):
                claims.append(claim)
            used.update(consumed)
            i = last + 1
            continue
        run, j = _run_at(tokens, i)
        if run is None:
            i += 1
            continue
        chain = [run]
        k = j
        while k < len(tokens) and tokens[k].kind == "eq":
            nxt, after = _run_at(tokens, k + 1)
            if nxt is None:
                break
            chain.append(nxt)
            k = after
        if len(chain) == 1 and run.has_op:
            # "I added 24 + 18 to get the total of pens, which is equal to 42": the result comes later in the sentence.
            late = _late_result(text, tokens, j)
            if late is not None:
                chain.append(late[0])
                # Numbers in the words between ("the total of two and a half dozens") only describe the result.
                used.update(id(t) for t in tokens[j : late[1]] if t.kind == "num")
                k = late[1]
        made = _chain_claims(text, chain)
        if made:
            claims.extend(
                c for c in made if not any((o.expression, o.stated) == (c.expression, c.stated) for o in claims)
            )
            for r in chain:
                used.update(id(t) for t in r.numbers)
            i = k
        else:
            # No run of this chain makes a claim, and none of its shorter tails would either.
            i = max(k, i + 1)
    # Work is shown by an operation described in words ("I multiplied the trays"), or by an operation or equals
    # sign between numbers or letters ("3 yards x 3 feet", "2x + 20 = 36"), outside a question the student asks.
    described = any(
        (t.kind == "word" and t.text.lower() in _VERB_OPS) or (t.kind == "op" and t.value != "^") or t.text == "="
        for k, t in enumerate(tokens)
        if not t.in_question
    ) or _reasons_with_numbers(tokens)
    claims, others, hedged = _add_value_claims(text, tokens, used, claims, givens, given_counts)
    claims += _none_left(text, claims)
    # "7 weeks? no wait, not 7": a value the student takes back later in the message is not claimed.
    taken_back: dict[Fraction, int] = {}
    for m, why in others:
        if why == "negated":
            taken_back[m.value] = max(taken_back.get(m.value, -1), m.start)
    claims = [c for c in claims if not (c.kind == "value" and taken_back.get(c.stated, -1) > c.start)]
    if _guess_list(claims, tokens, described):
        # "5 6 7 9 10" or "9, 10": several bare values with nothing to choose between them are guesses, not answers.
        others += [(m, "hedge") for c in claims for m in find_numbers(c.text)]
        claims, hedged = [], True
    at = {t.start: k for k, t in enumerate(tokens) if t.kind == "num"}
    summed = [_as_listed_sum(tokens, at, claim, used) for claim in claims]
    # The amounts a listed total adds up are its operands, not claims of their own.
    operand_starts = {start for claim, starts in summed for start in starts}
    claims = [claim for claim, _ in summed if claim.start not in operand_starts]
    worked_out = _worked_out_later(claims)
    ordered = [_describe(text, c) for c in sorted(claims, key=lambda c: c.start) if not _restated(c, worked_out)]
    ends = [(c.end, c.stated) for c in ordered] + [(m.end, m.value) for m, why in others if why == "repeat"]
    last_end = max(ends, key=lambda e: e[0])[0] if ends else None
    return Reading(
        text=text,
        claims=tuple(ordered),
        final_value=max(ends, key=lambda e: e[0])[1] if ends else None,
        final_context=_clause_around(text, last_end) if last_end is not None else "",
        other_numbers=tuple(others),
        math_segments=_math_segments(text),
        hedged=hedged,
        described_work=described,
    )


# -- tokens --------------------------------------------------------------------------------------------------------


_DOZEN_AFTER_RE = re.compile(r"\s+dozens?\b", re.IGNORECASE)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    for mention in find_numbers(text):
        if _full_stop_typed_against(text, mention):
            # "a fraction of a person.4": a full stop typed against the next number, not a decimal point.
            digits = mention.text[1:]
            mention = NumberMention(Fraction(digits), mention.start + 1, mention.end, digits, mention.form)
        dozen = _DOZEN_AFTER_RE.match(text, mention.end)
        if dozen and mention.form == "digits":
            # "3 dozen" is 36 items, as the words "three dozen" already are.
            mention = NumberMention(
                mention.value * 12, mention.start, dozen.end(), text[mention.start : dozen.end()], "words"
            )
        tokens.extend(_gap_tokens(text, pos, mention.start))
        tokens.append(_Token("num", mention.start, mention.end, mention.text, mention))
        pos = mention.end
    tokens.extend(_gap_tokens(text, pos, len(text)))
    # "x" is a times sign only between numbers ("2 x 12"); in "2x = 16" or "x = 8" it is the unknown.
    for k, token in enumerate(tokens):
        if token.kind == "op" and token.text.lower() == "x":
            nxt = tokens[k + 1] if k + 1 < len(tokens) else None
            if nxt is None or nxt.kind not in ("num", "open"):
                token.kind, token.value = "word", ""
    _mark_sentences(tokens)
    return tokens


def _full_stop_typed_against(text: str, mention: NumberMention) -> bool:
    starts_with_point = mention.text[:1] == "." and mention.text[1:].isdigit()
    return starts_with_point and mention.start > 0 and text[mention.start - 1].isalpha()


def _gap_tokens(text: str, start: int, end: int) -> list[_Token]:
    out: list[_Token] = []
    for m in _GAP_RE.finditer(text, start, end):
        kind = m.lastgroup or "word"
        raw = m.group(0)
        token = _Token(kind, m.start(), m.end(), raw)
        if kind == "op":
            token.value = _OP_SYMBOL.get(" ".join(raw.lower().split()), "*")
        out.append(token)
    return out


def _run_at(tokens: list[_Token], i: int) -> tuple[_Run | None, int]:
    """The arithmetic run starting at ``tokens[i]`` (a number, a bracket or "half of"), and the index after it."""
    run = _Run()
    k = i
    depth = 0
    expect_number = True
    while k < len(tokens):
        t = tokens[k]
        if expect_number:
            if t.kind == "open":
                if depth >= _MAX_DEPTH:
                    return None, i
                run.tokens.append(t)
                depth += 1
                k += 1
                continue
            if t.kind != "num":
                break
            run.tokens.append(t)
            k += 1
            # "half of 12", "25% of 80", "1/3 of 12": a fraction of a number is a multiplication.
            mention = t.mention
            if (
                mention is not None
                and k + 1 < len(tokens)
                and tokens[k].kind == "of"
                and (mention.percent or 0 < mention.value < 1)
            ):
                # "half of the 26 girls": an article may stand between.
                skip = 2 if tokens[k + 1].text.lower() in ("the", "these", "those", "his", "her", "their") else 1
                if k + skip < len(tokens) and tokens[k + skip].kind == "num":
                    run.tokens.append(_Token("op", tokens[k].start, tokens[k].end, "of", value="*"))
                    k += skip
                    continue
            while k < len(tokens) and tokens[k].kind == "close" and depth > 0:
                run.tokens.append(tokens[k])
                depth -= 1
                k += 1
            expect_number = False
        else:
            if t.kind == "word" and t.start == tokens[k - 1].end and t.text.lower() in _UNIT_SUFFIXES:
                k += 1  # "2kg x 7": a unit written against its number
                continue
            if (
                t.kind == "word"
                and len(t.text) > 1
                and k + 2 < len(tokens)
                and tokens[k + 1].kind == "op"
                and tokens[k + 1].value in "*/+-"
                and tokens[k + 2].kind in ("num", "open")
            ):
                # "0.4 kg x 5", "3 yards x 3 feet", "3 customers + (4 x 3)": the unit of a number in a calculation
                k += 1
                continue
            if (
                t.kind == "word"
                and len(t.text) > 1
                and depth > 0
                and k + 1 < len(tokens)
                and tokens[k + 1].kind == "close"
            ):
                k += 1  # "2(9 ft + 40 ft)": the unit of the last number in brackets
                while k < len(tokens) and tokens[k].kind == "close" and depth > 0:
                    run.tokens.append(tokens[k])
                    depth -= 1
                    k += 1
                continue
            if t.kind == "op" and not _frequency(tokens, k):
                run.tokens.append(t)
                expect_number = True
                k += 1
                continue
            if t.kind == "open" and t.start == tokens[k - 1].end:
                # "2(45)": a number against a bracket multiplies it.
                run.tokens.append(_Token("op", t.start, t.start, "*", value="*"))
                expect_number = True
                continue
            break
    if expect_number and run.tokens:
        # A dangling operator or bracket ("12 +"): keep the run up to its last number.
        while run.tokens and run.tokens[-1].kind in ("op", "open"):
            run.tokens.pop()
            k -= 1
    if not run.numbers:
        return None, i
    return run, k


_REASON_WORDS = frozenset({"because", "since", "therefore", "twice", "half", "double", "each", "per", "means"})


def _reasons_with_numbers(tokens: list[_Token]) -> bool:
    """ "60 cups, since each chicken needs 3 cups and there are 20 chickens": a reason built from several numbers."""
    numbers = {t.mention.value for t in tokens if t.kind == "num" and t.mention is not None}
    return len(numbers) >= 2 and any(t.kind == "word" and t.text.lower() in _REASON_WORDS for t in tokens)


def _against_letter(text: str, token: _Token) -> bool:
    """ "2/3x", "3x": a number written against a single letter is a coefficient."""
    return bool(re.match(r"(?:\s*[/*]\s*)?[a-zA-Z](?![a-zA-Z])", text[token.end : token.end + 5]))


def _as_division(run: _Run) -> _Run:
    """ "20 / 2 = 12": a fraction written before an equals sign is a division to check, not a value."""
    if len(run.tokens) != 1 or run.tokens[0].mention is None or run.tokens[0].mention.form != "fraction":
        return run
    token = run.tokens[0]
    m = re.fullmatch(r"\s*(-?\d+)\s*/\s*(\d+)\s*", token.text)
    mention = token.mention
    if m is None or mention is None:
        return run
    slash = token.start + token.text.index("/")
    top, bottom = (Fraction(int(g)) for g in m.groups())
    return _Run(
        [
            _Token("num", token.start, slash, m.group(1), NumberMention(top, token.start, slash, m.group(1), "digits")),
            _Token("op", slash, slash + 1, "/", value="/"),
            _Token(
                "num",
                slash + 1,
                token.end,
                m.group(2),
                NumberMention(bottom, slash + 1, token.end, m.group(2), "digits"),
            ),
        ]
    )


def _late_result(text: str, tokens: list[_Token], j: int) -> tuple[_Run, int] | None:
    """A result stated a few words after a calculation, before any other number and within the sentence."""
    k = j
    said = False  # "to get", "which was": the result is announced
    while k < len(tokens) and k - j <= 16:
        t = tokens[k]
        following = tokens[k + 1].mention if k + 1 < len(tokens) and tokens[k + 1].kind == "num" else None
        if (
            said
            and t.kind == "of"
            and following is not None
            and following.form == "digits"
            and _ends_noun_phrase(text, tokens[k + 1])
        ):
            # "to get the second bid of $250" (not "to get the total of two and a half dozens")
            run, after = _run_at(tokens, k + 1)
            return (run, after) if run is not None and not run.has_op else None
        if t.kind == "word" and t.text.lower() in ("since", "because", "as"):
            # "divided it by 2, since he buys 2 a day, which gave me 40": a reason, then the result.
            while k < len(tokens) and tokens[k].text.strip() != "," and tokens[k].kind != "end":
                k += 1
            continue
        if (t.kind == "end" and t.text.strip() != ",") or (
            t.kind == "num" and t.mention is not None and t.mention.form != "words"
        ):
            return None
        if t.kind == "eq" and k + 1 < len(tokens) and tokens[k + 1].kind == "num":
            run, after = _run_at(tokens, k + 1)
            if run is not None and not run.has_op:
                return run, after
            return None
        said = said or t.kind == "eq"
        k += 1
    return None


_UNIT_SUFFIXES = frozenset(
    {
        "kg",
        "g",
        "km",
        "m",
        "cm",
        "mm",
        "lb",
        "lbs",
        "oz",
        "ft",
        "mi",
        "h",
        "hr",
        "hrs",
        "min",
        "mins",
        "s",
        "sec",
        "l",
        "ml",
    }
)


def _frequency(tokens: list[_Token], k: int) -> bool:
    """ "3 times a day": "times" as how often, not as multiplication."""
    t = tokens[k]
    if t.text.lower() != "times" or k + 1 >= len(tokens):
        return False
    nxt = tokens[k + 1]
    return nxt.kind == "word" and nxt.text.lower() in ("a", "an", "per", "each", "every", "as", "more", "less", "over")


def _expression(run: _Run, *, percent_points: bool = False) -> tuple[str, Fraction | None, bool]:
    """The expression's display, exact value, and whether it has none (a division by zero). With ``percent_points``
    a percentage counts as its number, as when a student works in percentage points ("5% x 20 = 100%")."""
    parts: list[str] = []
    depth = 0
    for t in run.tokens:
        if t.kind == "num" and t.mention is not None:
            value = t.mention.value if percent_points else t.mention.proportion
            parts.append(f"({value.numerator}/{value.denominator})" if value.denominator != 1 else str(value))
        elif t.kind == "op":
            parts.append(t.value)
        elif t.kind == "open":
            parts.append("(")
            depth += 1
        elif t.kind == "close":
            parts.append(")")
            depth -= 1
    parts.extend(")" * max(depth, 0))
    source = "".join(parts)
    try:
        value = mathparse.evaluate(mathparse.parse(source, latex=False))
    except (mathparse.UndefinedError, ZeroDivisionError):
        return _display(run), None, True
    except (mathparse.ParseError, OverflowError):
        return _display(run), None, False
    return _display(run), value, False


def _display(run: _Run) -> str:
    """The expression in plain ASCII with the student's numbers: "70/3", "12*2+12*0.5"; unmatched brackets dropped."""
    out: list[str] = []
    open_at: list[int] = []
    for t in run.tokens:
        if t.kind == "num" and t.mention is not None:
            # A fraction stays as the student wrote it ("3/5", not 0.6).
            written = re.sub(r"\s+", "", t.mention.text) if t.mention.form == "fraction" else None
            out.append(written or format_number(t.mention.value) + ("%" if t.mention.percent else ""))
        elif t.kind == "op":
            out.append(t.value)
        elif t.kind == "open":
            open_at.append(len(out))
            out.append("(")
        elif t.kind == "close" and open_at:
            open_at.pop()
            out.append(")")
    for index in reversed(open_at):
        del out[index]
    return "".join(out)


def _chain_claims(text: str, chain: list[_Run]) -> list[Claim]:
    """Claims from "a op b = c", "a op b = c op d = e" and "a op b = c = d". Algebra ("1.5(2/3x) = 3x/2") is not
    arithmetic to check: a chain with a number written against a letter gives no claim."""
    if any(_against_letter(text, t) for run in chain for t in run.numbers):
        return []
    claims: list[Claim] = []
    for left, right in itertools.pairwise(chain):
        if not left.has_op:
            left = _as_division(left)
            if not left.has_op:
                continue
        stated_token = right.numbers[0]
        mention = stated_token.mention
        assert mention is not None
        display, computed, undefined = _expression(left, percent_points=mention.percent)
        stated, stated_text, end = mention.value, mention.text, stated_token.end
        if right.has_op:
            # One part worked out in place ("2(9 + 40) = 2(49)") is a claim of its own: 9 + 40 = 49, right or not.
            inner = _worked_in_place(text, left, right)
            if inner is not None:
                if not any((c.expression, c.stated) == (inner.expression, inner.stated) for c in claims):
                    claims.append(inner)
                continue
            right_value = _expression(right)[1]
            if right_value is not None and right_value == computed and right is not chain[-1]:
                continue  # "12x2 + 12x0.5 = 24 + 6 = 30": a rewriting; the next equals sign states the result
            goes_on = right.numbers[0].mention is not None and right.numbers[0].mention.value == computed
            if right_value is not None and (right_value == computed or (_shares_an_end(left, right) and not goes_on)):
                # "3/4 divided by 2 is 1.5/4": the result is written as an expression; "2 x 9 + 40 = 2 x 49": a
                # rewriting that does not hold, checked as the whole of each side. Otherwise the chain goes on
                # from its first number ("10000 - 6000 = 4000 - 500 = 3500" states 4000).
                end = right.tokens[-1].end
                stated, stated_text = right_value, text[right.tokens[0].start : end].strip()
        start = left.tokens[0].start
        if any((c.expression, c.stated) == (display, stated) for c in claims):
            continue
        claims.append(
            Claim(
                kind="equation",
                text=text[start:end].strip(),
                start=start,
                end=end,
                stated=stated,
                expression=display,
                operands=tuple(t.mention.value for t in left.numbers if t.mention is not None),
                operations=tuple(t.value for t in left.tokens if t.kind == "op"),
                computed=computed,
                undefined=undefined,
                counts=_counts_after(text, end),
                percent=mention.percent,
                stated_text=stated_text,
                places=_places(mention),
            )
        )
    return claims


def _same_token(a: _Token, b: _Token) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind == "num":
        return (
            a.mention is not None
            and b.mention is not None
            and (a.mention.value, a.mention.percent) == (b.mention.value, b.mention.percent)
        )
    return a.value == b.value


def _percent_of_previous(tokens: list[_Token], head: int, part: list[_Token]) -> list[_Token] | None:
    """For "80 - 25%" (a percentage added to or taken from the number before it), the calculation it stands for,
    25% x 80, as tokens; None for anything else."""
    if len(part) != 1 or part[0].mention is None or not part[0].mention.percent or head < 2:
        return None
    sign, number = tokens[head - 1], tokens[head - 2]
    if sign.kind != "op" or sign.value not in "+-" or number.kind != "num":
        return None
    return [part[0], _Token("op", part[0].end, part[0].end, "of", value="*"), number]


def _shares_an_end(left: _Run, right: _Run) -> bool:
    """Whether two sides of an equals sign begin or end alike ("2 x 9 + 40 = 2 x 49"): one rewritten as the other."""
    a, b = left.tokens, right.tokens
    return bool(a and b) and (_same_token(a[0], b[0]) or _same_token(a[-1], b[-1]))


def _worked_in_place(text: str, left: _Run, right: _Run) -> Claim | None:
    """ "2(9 + 40) = 2(49)": the one part of ``left`` that ``right`` replaces by a number, as the claim "9 + 40 =
    49"; None when the rewriting changes more than one part or the part is not a calculation. A part in brackets is
    a claim right or wrong ("3 x (4 + 5) = 3 x 10": the slip is 4 + 5 = 10). A part without brackets is one only
    when the rewriting holds and the part gives the number: "10 - 2 - 3 = 10 - 5" regroups (2 + 3, not 2 - 3), and
    "2 x 9 + 40 = 2 x 49" is the whole left side to check, not 9 + 40."""
    a, b = left.tokens, right.tokens
    head = 0
    while head < min(len(a), len(b)) and _same_token(a[head], b[head]):
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and _same_token(a[-1 - tail], b[-1 - tail]):
        tail += 1
    if head == 0 and tail == 0:
        return None  # nothing kept: not a part worked out, but a new expression
    part, result = a[head : len(a) - tail], b[head : len(b) - tail]
    bracketed = head > 0 and tail > 0 and a[head - 1].kind == "open" and a[len(a) - tail].kind == "close"
    if len(part) >= 2 and part[0].kind == "open" and part[-1].kind == "close":
        part = part[1:-1]  # "2 x (9 + 40) = 2 x 49": the brackets go with the part worked out
        bracketed = True
    if len(result) != 1 or result[0].kind != "num" or result[0].mention is None:
        return None
    mention = result[0].mention
    share = _percent_of_previous(a, head, part)
    if share is not None:
        # "80 - 25% = 80 - 20": shorthand for taking away 25% of 80; the part worked out is 25% of 80 = 20.
        part, bracketed = share, True
    elif any(t.kind in ("open", "close") for t in part) or not any(t.kind == "op" for t in part):
        return None
    run = _Run(list(part))
    display, computed, undefined = _expression(run, percent_points=mention.percent)
    if not bracketed:
        whole, rewritten = _expression(left)[1], _expression(right)[1]
        if whole is None or whole != rewritten or computed != mention.value:
            return None
    start, end = min(t.start for t in part), result[0].end
    return Claim(
        kind="equation",
        text=f"{text[start : max(t.end for t in part)].strip()} = {mention.text}",
        start=start,
        end=end,
        stated=mention.value,
        expression=display,
        operands=tuple(t.mention.value for t in run.numbers if t.mention is not None),
        operations=tuple(t.value for t in part if t.kind == "op"),
        computed=computed,
        undefined=undefined,
        counts=_counts_after(text, end),
        percent=mention.percent,
        stated_text=mention.text,
        places=_places(mention),
    )


def _places(mention: NumberMention) -> int:
    if mention.form != "digits":
        return 0
    m = re.search(r"\.(\d+)", mention.text)
    return len(m.group(1)) if m else 0


_REFERENTS = frozenset({"it", "that", "this", "them", "those", "these", "result", "total", "answer"})


def _verbal_operation(text: str, tokens: list[_Token], i: int) -> tuple[Claim | None, set[int], int] | None:
    """ "added 24 and 18 to get 42", "multiplied 13 sets by $15 each, which gave me $195", "divided it by 4 and
    got 2" (it: the number before), "subtracted 3 from 12 and got 9"."""
    t = tokens[i]
    if t.kind != "word" or t.text.lower() not in _VERB_OPS:
        return None
    op, connectors, reverse = _VERB_OPS[t.text.lower()]
    k = i + 1
    first: _Token | None = None
    for _ in range(3):  # "added the 24", "multiplied it", "divided the total"
        if k >= len(tokens):
            return None
        if tokens[k].kind == "num":
            first = tokens[k]
            break
        word = tokens[k].text.lower()
        if tokens[k].kind == "word" and word in _REFERENTS:
            first = _previous_number(tokens, i)
            break
        if tokens[k].kind not in ("word", "of") or word in connectors:
            return None
        k += 1
    if first is None:
        return None
    k += 1
    for _ in range(3):  # "13 sets by", "4 glasses per day by"
        if k < len(tokens) and tokens[k].kind == "word" and tokens[k].text.lower() not in connectors:
            k += 1
    if k >= len(tokens) or tokens[k].kind != "word" or tokens[k].text.lower() not in connectors:
        return None
    k += 1
    if k < len(tokens) and tokens[k].kind == "word" and tokens[k].text.lower() in ("it", "that", "this"):
        # "subtracted 4.50 from that": the number before
        earlier = _previous_number(tokens, i)
        if earlier is not None and earlier is not first:
            claim, consumed, end = _verbal_result(text, tokens, i, op, reverse, first, earlier, k)
            # "that" is a guess at the number meant: when the guess does not give the student's result, the
            # guess is what is wrong, not their arithmetic; the result is read on its own.
            if claim is not None and claim.arithmetic_ok:
                return claim, consumed - {id(earlier)}, end  # the earlier number keeps its own claim
        return None
    # "from 50", "from the 50", "from the total of 50"
    while k < len(tokens) and tokens[k].kind in ("word", "of") and tokens[k].text.lower() in _SECOND_OPERAND_LEAD:
        k += 1
    if k < len(tokens) and tokens[k].kind != "num":
        k = _named_then_said(text, tokens, k)  # "from the cost of the tickets, which was 6.75"
    if k >= len(tokens) or tokens[k].kind != "num":
        return None
    return _verbal_result(text, tokens, i, op, reverse, first, tokens[k], k)


def _verbal_result(
    text: str,
    tokens: list[_Token],
    i: int,
    op: str,
    reverse: bool,
    first: _Token,
    second: _Token,
    k: int,
) -> tuple[Claim | None, set[int], int]:
    """The claim of a verbal operation whose operands are read (``k``: the token of the second), with its result."""
    a, b = (second, first) if reverse else (first, second)
    consumed = {id(first), id(second)}
    # The result: "to get 42", "and got 42", ", which gave me 42", "= 42", "to get the food cost, which was 2.25".
    late = _late_result(text, tokens, k + 1)
    if late is not None:
        result = late[0].numbers[0]
        assert a.mention is not None and b.mention is not None and result.mention is not None
        run = _Run([a, _Token("op", 0, 0, op, value=op), b])
        display, computed, undefined = _expression(run)
        consumed.add(id(result))
        text_start = tokens[i].start
        claim = Claim(
            kind="equation",
            text=text[text_start : result.end].strip(),
            start=text_start,
            end=result.end,
            stated=result.mention.value,
            expression=display,
            operands=(a.mention.value, b.mention.value),
            operations=(op,),
            computed=computed,
            undefined=undefined,
            counts=_counts_after(text, result.end),
            stated_text=result.mention.text,
            places=_places(result.mention),
        )
        return claim, consumed, late[1]
    return None, consumed, k


def _named_then_said(text: str, tokens: list[_Token], k: int, limit: int = 8) -> int:
    """Where the number is in "the cost of the tickets, which was 6.75" or "the opening bid of $200", starting at
    ``k``: a few words naming a quantity, then "which was" (or "that is") or "of", and the number. ``k`` itself
    when the words are not followed so."""
    j = k
    while j + 1 < len(tokens) and j - k < limit:
        token, following = tokens[j], tokens[j + 1]
        if token.kind == "of" and following.kind == "num" and j > k and _ends_noun_phrase(text, following):
            return j + 1
        if token.kind == "eq" and following.kind == "num" and j > k:
            relative = token.text.lower().startswith(("which", "that")) or tokens[j - 1].text.lower() in (
                "which",
                "that",
            )
            return j + 1 if relative else k
        if token.kind not in ("word", "of"):
            break
        j += 1
    return k


_ADJUNCT_WORDS = frozenset({"in", "per", "for", "over", "within", "every", "each"})
_SECOND_OPERAND_LEAD = frozenset({"the", "a", "an", "total", "sum", "amount", "whole", "original", "of"})


def _ends_noun_phrase(text: str, number: _Token) -> bool:
    """Whether a number after "of" is the amount named ("the opening bid of $200", "a total of 50 pounds"), not a
    count inside the name ("the price of 3 shirts")."""
    if number.mention is None:
        return False
    counted = _counts_after(text, number.end)
    return counted is None or text[: number.start].rstrip().endswith("$") or is_unit(counted)


def _previous_number(tokens: list[_Token], i: int) -> _Token | None:
    """What "it" stands for: the last number before, passing over one that only says when or how often ("the 8
    pounds he lost in 4 weeks and divided it by 4" divides the 8)."""
    numbers = [j for j in range(i - 1, -1, -1) if tokens[j].kind == "num"]
    for j in numbers:
        if tokens[j].sentence != tokens[i].sentence:
            break
        if not (j > 0 and tokens[j - 1].text.lower() in _ADJUNCT_WORDS):
            return tokens[j]
    return tokens[numbers[0]] if numbers else None


def _counts_after(text: str, end: int) -> str | None:
    """What a number counts, from the words right after it: "24 pencils in each box" -> "pencils"."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text[end : end + 40])
    lead = text[end : end + 2]
    if not words or (lead and lead[0] not in " $" and not lead[0].isalpha()):
        return None
    noun = str(words[0]).lower()
    if noun in _COUNT_STOP or noun in _CONCLUSION_CUES:
        return None
    return noun


# -- stated values ---------------------------------------------------------------------------------------------------


_ANSWER_FILLER_TEXT = "so i think it it's its is maybe um umm uh ok okay the answer my got get guess would be was"
_ANSWER_FILLER = frozenset(_ANSWER_FILLER_TEXT.split())


def _add_value_claims(
    text: str,
    tokens: list[_Token],
    used: set[int],
    claims: list[Claim],
    givens: frozenset[Fraction],
    given_counts: frozenset[tuple[Fraction, str]] = frozenset(),
) -> tuple[list[Claim], list[tuple[NumberMention, str]], bool]:
    out = list(claims)
    others: list[tuple[NumberMention, str]] = []
    hedged = False
    numbers = [(k, t) for k, t in enumerate(tokens) if t.kind == "num" and t.mention is not None]
    # A bare answer ("25", "it's 25?") answers the question, even with a number the problem gives.
    content = [t.text.lower() for t in tokens if t.kind == "word" and t.text.lower() not in _ANSWER_FILLER]
    bare = len(numbers) == 1 and len(content) <= 1 and len(tokens) <= 8
    first_said: dict[Fraction, int] = {}  # where a claim first states each value
    for claim in claims:
        first_said[claim.stated] = min(first_said.get(claim.stated, claim.start), claim.start)
    for k, t in numbers:
        mention = t.mention
        assert mention is not None
        if id(t) in used:
            continue
        words_before = _words_before(tokens, k, 3)
        if t.in_question:
            others.append((mention, "question"))
            continue
        if any(w in _NEGATIONS or w.endswith("n't") for w in words_before[-3:]):
            others.append((mention, "negated"))
            continue
        if _hedge(tokens, k):
            hedged = True
            others.append((mention, "hedge"))
            continue
        prev = tokens[k - 1] if k > 0 else None
        cue = _word_before(tokens, k)
        if prev is not None and (
            (cue is not None and cue.text.lower() in _OPERAND_CUES) or prev.kind == "op" or _operand_of(tokens, k)
        ):
            others.append((mention, "operand"))
            continue
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        if _said_again_in_other_units(tokens, k):
            others.append((mention, "operand"))  # "1.5 minutes or 90 seconds": the second is the one worked with
            continue
        if nxt is not None and nxt.kind == "open" and nxt.start == t.end:
            others.append((mention, "operand"))  # "2(length + width)": a factor, not a value
            continue
        if _in_brackets(tokens, k):
            others.append((mention, "operand"))  # "the daily consumption (2kg)": a number named in passing
            continue
        if _algebra_side(tokens, k):
            others.append((mention, "algebra"))  # "2x + 20 = 36": a side of an equation, not a value found
            continue
        if nxt is not None and nxt.kind == "op" and _frequency(tokens, k + 1):
            others.append((mention, "operand"))  # "3 times a day"
            continue
        if mention.form == "words" and prev is not None and prev.text.lower() in _DETERMINERS:
            others.append((mention, "operand"))  # "the two days", "both three"
            continue
        if (
            nxt is not None
            and nxt.kind == "of"
            and (mention.percent or 0 < mention.value < 1)
            and _of_number(tokens, k)
        ):
            others.append((mention, "operand"))  # "25% of 80", "half of the 26 girls": part of a calculation
            continue
        if nxt is not None and nxt.kind == "of" and _share_worked_with(mention, tokens, k, claims):
            others.append((mention, "operand"))  # "1% of them will explode, which is 0.01 x 47500 = 475"
            continue
        if re.match(r"[A-Za-z](?![A-Za-z])", text[t.end : t.end + 2]):
            others.append((mention, "algebra"))  # "4n + 7": a coefficient, not a value
            continue
        if _is_subject(tokens, k):
            others.append((mention, "subject"))
            continue
        if _quoted(text, t.start):
            others.append((mention, "quoted"))  # the student quoting the problem
            continue
        if _unit_fact(text, t.end, mention.value):
            others.append((mention, "unit fact"))  # "there are 3 feet in a yard": known, not found
            continue
        # A number the problem gives, offered as the answer or in another unit, is one the student found; so is one
        # that restates an earlier number in other units ("$25 each week, which is $100 per month"), even when the
        # problem happens to give the same number elsewhere.
        found = _offered_as_answer(tokens, k) or _counts_other_than_given(
            mention.value, _counts_after(text, t.end), given_counts
        )
        restated = _restated_from(tokens, k)
        if (mention.value in givens or mention.proportion in givens) and not (
            restated is not None or _solved_for(tokens, k) or bare or found
        ):
            others.append((mention, "given"))
            continue
        if first_said.get(mention.value, t.start) < t.start:
            others.append((mention, "repeat"))
            continue
        if mention.form == "words" and mention.value <= 12 and not _right_after_eq(tokens, k) and len(tokens) > 3:
            others.append((mention, "count word"))  # "in one meal", "two rides": counting words, not results
            continue
        first_said[mention.value] = min(first_said.get(mention.value, t.start), t.start)
        out.append(
            Claim(
                kind="value",
                bare=bare,
                text=text[t.start : t.end],
                start=t.start,
                end=t.end,
                stated=mention.value,
                counts=_counts_after(text, t.end),
                percent=mention.percent,
                stated_text=mention.text,
                places=_places(mention),
                found=found,
                restates=restated.mention.value if restated is not None and restated.mention else None,
                restates_rate=rate_after(text, restated.end) if restated is not None else None,
            )
        )
    return out, others, hedged


_DETERMINERS = frozenset({"the", "those", "these", "both", "all", "first", "last", "next", "other", "every"})
_UNIT_FACT_RE = re.compile(r"\s*([A-Za-z]+)\s+(?:in|per|to)\s+(?:a|an|one|each|every|1)\s+([A-Za-z]+)\b")


def _unit_fact(text: str, end: int, value: Fraction) -> bool:
    """ "3 feet in a yard", "60 minutes in an hour": how many of one unit make one of another, a fact the student
    recalls rather than a value they found."""
    m = _UNIT_FACT_RE.match(text, end)
    return m is not None and convert_units(Fraction(1), m.group(2), m.group(1)) == value


_PART_WORDS = frozenset(
    {"each", "some", "all", "most", "rest", "part", "half", "third", "quarter", "fraction", "percent", "share", "out"}
)


def _operand_of(tokens: list[_Token], k: int) -> bool:
    """ "half of 12", "each of the 3", "out of 20": the number after "of" is what a part is taken of. ("A total of
    14" or "a package of 4 spoons" state a value.)"""
    j = k - 1
    while j >= 0 and tokens[j].kind == "word" and tokens[j].text.lower() in _ARTICLES:
        j -= 1
    if j < 1 or tokens[j].kind != "of":
        return False
    before = tokens[j - 1]
    return before.kind == "word" and before.text.lower() in _PART_WORDS


def _said_again_in_other_units(tokens: list[_Token], k: int) -> bool:
    return (
        k + 3 < len(tokens)
        and tokens[k + 1].kind == "word"
        and tokens[k + 2].text.lower() == "or"
        and tokens[k + 3].kind == "num"
        and k + 4 < len(tokens)
        and tokens[k + 4].kind == "word"
        and tokens[k + 4].text.lower() != tokens[k + 1].text.lower()
    )


_ARTICLES = frozenset(
    {"the", "a", "an", "his", "her", "their", "its", "my", "our", "your", "that", "this", "these", "those"}
)


def _quoted(text: str, at: int) -> bool:
    """Inside a quotation the student opened before ``at`` and has not closed."""
    before = text[:at]
    return before.count('"') % 2 == 1 or before.count("\u201c") > before.count("\u201d")


def _word_before(tokens: list[_Token], k: int) -> _Token | None:
    """The word before a number, looking past articles: "from the $195" -> "from"."""
    j = k - 1
    while j >= 0 and tokens[j].kind == "word" and tokens[j].text.lower() in _ARTICLES:
        j -= 1
    return tokens[j] if j >= 0 and tokens[j].kind == "word" else None


def _of_number(tokens: list[_Token], k: int) -> bool:
    """ "25% of 80" or "half of the 26": the fraction takes a number ("95% of the candles" names a share instead)."""
    for j in (k + 2, k + 3):
        if j < len(tokens) and tokens[j].kind == "num":
            return True
        if j < len(tokens) and tokens[j].text.lower() not in ("the", "these", "those", "his", "her", "their"):
            return False
    return False


def _share_worked_with(mention: NumberMention, tokens: list[_Token], k: int, claims: list[Claim]) -> bool:
    """A share ("1% of them", "the 1% of those candles") that a later calculation of the message multiplies by, and
    that no conclusion word presents as a finding ("that means 95% of the candles ..." is one): the student names
    what they are about to work with."""
    if not (mention.percent or 0 < mention.value < 1):
        return False
    if any(w in _CONCLUSION_CUES for w in _words_before(tokens, k, 3)):
        return False
    shares = {mention.value, mention.proportion}  # "1% x 2500" keeps the 1 as written, "0.01 x 2500" the proportion
    named = k > 0 and tokens[k - 1].text.lower() == "the"  # "the 1% of those candles": one already in mind
    ends = (t.start for t in tokens[k:] if t.kind == "end" and t.text.strip() in (".", "!", "?", ";"))
    sentence_end = next(ends, tokens[-1].end)
    return any(
        c.kind == "equation"
        and tokens[k].start < c.start
        and (named or c.start < sentence_end)
        and shares & set(c.operands)
        for c in claims
    )


def _in_brackets(tokens: list[_Token], k: int) -> bool:
    before = tokens[k - 1] if k > 0 else None
    j = k + 1
    if j < len(tokens) and tokens[j].kind == "word" and tokens[j].start == tokens[k].end:
        j += 1  # "(2kg)"
    after = tokens[j] if j < len(tokens) else None
    return before is not None and before.kind == "open" and after is not None and after.kind == "close"


def _algebra_side(tokens: list[_Token], k: int) -> bool:
    """The number after "=" in "2x + 20 = 36" or "2x = 16": the other side has an unknown and an operation."""
    if k < 2 or tokens[k - 1].text != "=":
        return False
    j = k - 2
    letters = ops = 0
    while j >= 0 and tokens[j].kind not in ("end", "eq"):
        t = tokens[j]
        if t.kind == "word" and len(t.text) == 1 and t.text.lower() not in ("a", "i"):
            letters += 1
        if t.kind == "op":
            ops += 1
        if t.kind == "num" and t.mention is not None and tokens[j + 1].kind == "word":
            letters += int(tokens[j + 1].start == t.end and len(tokens[j + 1].text) == 1)
        j -= 1
    return letters > 0 and (
        ops > 0
        or any(
            tokens[i].kind == "num"
            and i + 1 < k
            and tokens[i + 1].start == tokens[i].end
            and tokens[i + 1].kind == "word"
            for i in range(j + 1, k - 1)
        )
    )


def _right_after_eq(tokens: list[_Token], k: int) -> bool:
    return k > 0 and tokens[k - 1].kind == "eq"


def given_counts(problem_text: str) -> frozenset[tuple[Fraction, str]]:
    """What each number of a problem counts, where a word follows it: "Joey loses 8 pounds" -> (8, "pounds")."""
    out = set()
    for mention in find_numbers(problem_text):
        counted = _counts_after(problem_text, mention.end)
        if counted is not None:
            out.add((mention.value, counted))
    return frozenset(out)


def _counts_other_than_given(
    value: Fraction, counted: str | None, given_counts: frozenset[tuple[Fraction, str]]
) -> bool:
    """ "it will take her 8 weeks" where the problem's 8 is pounds: the same number in another unit, so a value the
    student found, not one they read. Only units count: "2 times" or "4 onions" say too little."""
    if counted is None or not is_unit(counted):
        return False
    given = [word for v, word in given_counts if v == value and is_unit(word)]
    return bool(given) and not any(same_unit(counted, word) for word in given)


_ANSWER_CUE_RE = re.compile(r"\b(?:answer|solution)\s+(?:is|was|of|would\s+be)\s*$", re.IGNORECASE)


def _offered_as_answer(tokens: list[_Token], k: int) -> bool:
    """ "This gave me the answer of 12": a number offered as the answer, even one the problem gives."""
    before = " ".join(t.text for t in tokens[max(0, k - 4) : k])
    return bool(_ANSWER_CUE_RE.search(before))


def _solved_for(tokens: list[_Token], k: int) -> bool:
    """ "x = 100": the value found for an unknown."""
    return k >= 2 and tokens[k - 1].text == "=" and tokens[k - 2].kind == "word" and len(tokens[k - 2].text) == 1


_RATE_NOUNS = frozenset({"second", "minute", "hour", "day", "week", "month", "year", "meal", "person"})
_RATE_AFTER_RE = re.compile(r"^[\s$]*(?:[A-Za-z]+\s+){0,4}?(?:per|each|every|a|an|for\s+the|in\s+a)\s+([A-Za-z]+)")


def rate_after(text: str, end: int) -> str | None:
    """The rate an amount is given at, from the words right after it (``end``): "60 cups of feed per day" -> "day"."""
    found = _RATE_AFTER_RE.match(text[end : end + 60])
    if found is None:
        return None
    noun = found.group(1).lower().removesuffix("s")
    return noun if noun in _RATE_NOUNS else None


def _restated_from(tokens: list[_Token], k: int) -> _Token | None:
    """The earlier number of the sentence that "which is ..." restates ("$25 each week, which is $100 per month" ->
    25), or None."""
    if k < 1 or tokens[k - 1].kind != "eq" or not tokens[k - 1].text.lower().startswith(("which", "that")):
        return None
    j = k - 2
    while j >= 0 and not (tokens[j].kind == "end" and tokens[j].text.strip() in (".", "!", "?", ";")):
        mention = tokens[j].mention
        if tokens[j].kind == "num" and mention is not None and mention.form != "words":
            return tokens[j]
        if tokens[j].text.lower() in ("number", "amount"):
            return None  # "by the number of chickens, which is 20": the problem's number, named
        j -= 1
    return None


def _is_subject(tokens: list[_Token], k: int) -> bool:
    """ "two dozens is equal to 2 x 12 = 24": the number a statement is about, not the value it states."""
    j = k + 1
    while j < len(tokens) and j - k <= 3 and tokens[j].kind == "word":
        j += 1
    return j < len(tokens) and tokens[j].kind == "eq" and j + 1 < len(tokens) and tokens[j + 1].kind in ("num", "open")


def _words_before(tokens: list[_Token], k: int, count: int) -> list[str]:
    """The last ``count`` words before ``tokens[k]`` in its clause, in order."""
    out: list[str] = []
    j = k - 1
    while j >= max(0, k - 4 * count) and tokens[j].kind != "end" and len(out) < count:
        if tokens[j].kind == "word":
            out.append(tokens[j].text.lower())
        j -= 1
    return out[::-1]


_DOUBT_WORDS = frozenset({"maybe", "either", "perhaps", "sure", "unsure", "think", "guess"})


def _mark_sentences(tokens: list[_Token]) -> None:
    """Mark every token with what its sentence is (one pass, so reading stays linear in the message's length)."""

    def boundary(t: _Token) -> bool:
        return (t.kind == "end" and t.text.strip() in (".", "!", "?", ";", "")) or t.text == "\n"

    start = number = 0
    for k in range(len(tokens) + 1):
        if k < len(tokens) and not boundary(tokens[k]):
            continue
        sentence = tokens[start : k + 1]
        question = _is_question(sentence)
        doubtful = bool(sentence) and (
            sentence[-1].text.strip() == "?" or any(t.text.lower() in _DOUBT_WORDS for t in sentence)
        )
        for t in sentence:
            t.in_question, t.doubtful, t.sentence = question, doubtful, number
        number += 1
        start = k + 1


def _is_question(sentence: list[_Token]) -> bool:
    if not sentence or sentence[-1].text.strip() != "?":
        return False
    first = next((t.text.lower() for t in sentence if t.kind == "word"), "")
    return first in _WH_WORDS or first in ("can", "could", "do", "does", "should", "would")


def _hedge(tokens: list[_Token], k: int) -> bool:
    """ "is it 24 or 25?": two candidate values joined by "or", asked or doubted. "1.5 minutes or 90 seconds" is the
    same amount said twice, not a hedge."""
    after = tokens[k + 1 : k + 4]
    before = tokens[max(0, k - 3) : k]
    joined_after = len(after) >= 2 and after[0].text.lower() == "or" and any(t.kind == "num" for t in after[1:])
    joined_before = len(before) >= 2 and before[-1].text.lower() == "or" and any(t.kind == "num" for t in before[:-1])
    if not (joined_after or joined_before):
        return False
    # "1.5 minutes or 90 seconds": the same amount in two units, not two guesses.
    span = range(k + 1, min(len(tokens), k + 4)) if joined_after else range(k - 1, max(-1, k - 4), -1)
    other = next((j for j in span if tokens[j].kind == "num"), k)
    unit, other_unit = _unit_word(tokens, k), _unit_word(tokens, other)
    return not (unit and other_unit and unit != other_unit)


def _unit_word(tokens: list[_Token], k: int) -> str | None:
    nxt = tokens[k + 1] if k >= 0 and k + 1 < len(tokens) else None
    return nxt.text.lower() if nxt is not None and nxt.kind == "word" and nxt.text.lower() != "or" else None


def _math_segments(text: str) -> tuple[str, ...]:
    """Stretches that read as algebra: digits, single letters and operators, with at least an operator or a
    letter next to a digit. Ordinary words break a segment, so "3/4 divided by 2" is never read as algebra."""
    out: list[str] = []
    for m in _MATH_SEGMENT_RE.finditer(text):
        seg = m.group(0).strip()
        if not seg or not re.search(r"\d|[a-zA-Z]", seg):
            continue
        letters = re.findall(r"[A-Za-z]", seg)
        has_op = bool(re.search(r"[-+*/^=\u00d7\u00f7\u2212]", seg))
        if has_op or (letters and re.search(r"\d", seg) and re.search(r"\d[a-zA-Z]|[a-zA-Z]\d", seg)):
            if letters and all(ch in "aAI" for ch in letters) and not re.search(r"\d", seg):
                continue  # "a" and "I" are words
            out.append(seg)
    return tuple(out)
