"""Aligning a reading with the question tree: which step each claim works on, and whether it is right.

The second stage of a turn (read -> align -> decide -> realize), done once per message. A claim is aligned by its
operands and the value it states, never by its value alone, so "70 / 3 = 24" is an arithmetic slip even when 24
happens to be the answer of some step. The verdicts, in the order they are tried:
1. ``given``: a bare value the problem states ("Meg has 46 pencils"); never a wrong answer.
2. ``quantity`` / ``misread``: a calculation uses a number that is neither given, nor a step's value, nor one the
   student found earlier; ``misread`` when it is one digit off a given (72 read as 27 or 70).
3. ``arithmetic``: the student's own calculation does not give the value they wrote.
4. ``correct``: the stated value is a step's value (or a value a later right claim builds on: a valid other path).
5. ``misconception``: an authored wrong value or pattern of the step it works on.
6. ``unverified``: right arithmetic on numbers the student may use, but a value the solution never reaches. That is
   not a mistake by itself (students take other routes); it becomes one when the message's answer is wrong: then
   the earliest unverified claim the answer is built on is where the student left the solution's path (``operation``
   when it uses a step's own numbers, else ``wrong``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from pedagogy.answers import convert_units, is_unit, number_matches, same_unit
from pedagogy.chains import same_formula, worked_calculation, written_out
from pedagogy.domain import Misconception, Problem
from pedagogy.numbers import NumberMention, find_numbers, format_number
from pedagogy.reading import Claim, Reading, rate_after
from pedagogy.tree import QuestionTree, TreeNode, build_tree

Verdict = Literal[
    "correct",
    "given",
    "unverified",
    "quantity",
    "misread",
    "arithmetic",
    "misconception",
    "operation",
    "wrong",
    "off_path",
]
WRONG_VERDICTS: frozenset[str] = frozenset(
    {"quantity", "misread", "arithmetic", "misconception", "operation", "wrong", "off_path"}
)
# Numbers a calculation may use without the problem stating them: counting words, units of time and measure.
_CONSTANTS = frozenset(
    Fraction(n) for n in (*range(0, 13), 20, 24, 25, 30, 31, 52, 60, 100, 365, 1000, Fraction(1, 2), Fraction(1, 4))
)


@dataclass(frozen=True)
class AlignedClaim:
    claim: Claim
    verdict: Verdict
    node_id: str | None  # the tree node the claim works on, when one fits
    misconception: Misconception | None = None
    suspect: Fraction | None = None  # the operand to look at again (quantity, misread)

    @property
    def wrong(self) -> bool:
        return self.verdict in WRONG_VERDICTS


@dataclass(frozen=True)
class Alignment:
    reading: Reading
    claims: tuple[AlignedClaim, ...]

    @property
    def first_wrong(self) -> AlignedClaim | None:
        return next((a for a in self.claims if a.wrong), None)

    @property
    def credited(self) -> tuple[AlignedClaim, ...]:
        """The right claims before the first wrong one: what the student may be told they got right."""
        out: list[AlignedClaim] = []
        for a in self.claims:
            if a.wrong:
                break
            if a.verdict == "correct":
                out.append(a)
        return tuple(out)

    @property
    def answer(self) -> AlignedClaim | None:
        return self.claims[-1] if self.claims else None

    @property
    def shown_work(self) -> bool:
        return self.reading.shown_work


def align(
    reading: Reading,
    tree: QuestionTree,
    *,
    current: str,
    resolved: Iterable[str] = (),
    earlier_values: Iterable[Fraction] = (),
    example_values: Iterable[Fraction] = (),
) -> Alignment:
    """Align every claim of ``reading``. ``earlier_values`` are values the student stated in earlier turns;
    ``example_values`` the numbers of a similar case the tutor worked through (a message whose last calculation is
    done with them alone is about that case, not this problem's path)."""
    resolved_ids = frozenset(resolved)
    # Numbers the student may use: the problem's, the solution's values, every number the tutor may have said (its
    # questions and hints), and the student's own earlier values.
    totals = _list_totals(tree.problem)
    known = set(tree.given_values) | set(earlier_values) | _node_values(tree) | _tutor_values(tree.problem)
    known |= totals.keys()
    aligned: list[AlignedClaim] = []
    mentions = find_numbers(reading.text)
    # What the student's own right calculations in this message came to, and how; a list's total ("scores of 89, 71,
    # 92, 100 and 86": 438) is a sum the student may use without writing it out.
    found: dict[Fraction, str] = dict(totals)
    for claim in reading.claims:
        # A number the student wrote earlier in the message ("95% of them ... 0.95 x 50000") is theirs to use.
        said_before = {v for m in mentions if m.end <= claim.start for v in (m.value, m.proportion)}
        built_on = set(claim.operands) & found.keys()
        route = written_out(claim.expression, found, tree.given_values) if claim.expression and built_on else None
        if (
            claim.kind == "value"
            and claim.stated in totals
            and claim is not reading.answer
            and _SUM_WORDS_RE.search(_near(claim))
            and _node_for_value(claim.stated, tree, current, resolved_ids) is None
        ):
            # "a total of 438" on the way: the list's sum, said to be a sum. Offered as the answer, or as another
            # quantity ("the heaviest box weighs 30"), it is checked as any value is.
            aligned.append(AlignedClaim(claim, "correct", None))
        else:
            aligned.append(_align_claim(claim, tree, current, resolved_ids, frozenset(known | said_before), route))
        known.add(claim.stated)
        if claim.kind == "equation" and claim.arithmetic_ok and claim.expression:
            found.setdefault(claim.stated, claim.expression)
    # Naming first: a value credited as another route must still be what the student says it is.
    aligned = _check_answer_naming(aligned, reading, tree)
    aligned = _credit_other_paths(aligned)
    examples = frozenset(example_values)
    if not examples - tree.given_values - _node_values(tree):
        examples = frozenset()  # a case with only the problem's own numbers cannot be told from work on the problem
    return Alignment(reading, tuple(_locate_path_mistake(aligned, reading, examples)))


def _align_claim(
    claim: Claim,
    tree: QuestionTree,
    current: str,
    resolved: frozenset[str],
    known: frozenset[Fraction],
    route: str | None = None,
) -> AlignedClaim:
    if claim.kind == "value":
        restated = claim.stated in tree.given_values and not (claim.bare or claim.found)
        if (restated or _calendar_conversion(claim)) and _matching_node(claim, tree, current, resolved) is None:
            return AlignedClaim(claim, "given", None)
    else:
        odd = [
            v
            for v in claim.operands
            if v not in known and v not in _CONSTANTS and not _known_in_other_unit(v, claim, tree)
        ]
        if odd:
            verdict: Verdict = "misread" if any(_one_digit_off(odd[0], g) for g in tree.given_values) else "quantity"
            return AlignedClaim(claim, verdict, _node_by_operands(claim, tree, current, resolved), suspect=odd[0])
        if claim.arithmetic_ok is False:
            slip = _node_for_value(claim.computed, tree, current, resolved) if claim.computed is not None else None
            return AlignedClaim(claim, "arithmetic", slip or _node_by_operands(claim, tree, current, resolved))
    match = _matching_node(claim, tree, current, resolved, route)
    if match is not None:
        named = _named_node(claim, tree) if claim.kind == "value" else None
        if named is not None and named != match and not _value_matches(claim, tree.node(named), tree):
            # "He spent $4 on candy": 4 is a step's value, but not of the quantity the student names.
            return AlignedClaim(claim, "wrong", named)
        if _ANSWER_WORDS_RE.search(claim.context) and not tree.node(match).is_final:
            # "The answer is 60": a step's value offered as the problem's answer.
            return AlignedClaim(claim, "wrong", match)
        if _other_rate(claim, tree.node(match)):
            # "3 x 20 = 60 cups of feed per meal" where the step's 60 cups are per day.
            return AlignedClaim(claim, "wrong", match)
        return AlignedClaim(claim, "correct", match)
    node_id = _node_by_operands(claim, tree, current, resolved) if claim.operands else current
    misconception = tree.misconception_for(tree.node(node_id), claim.text, _mention(claim))
    value_only = misconception is not None and not misconception.pattern
    other_numbers = claim.kind == "equation" and not set(claim.operands) <= _operands_of(tree, node_id)
    if misconception is not None and not (
        value_only and ((claim.stated in tree.given_values and not claim.bare) or other_numbers)
    ):
        # A value misconception ("it looks like you added") never fires on a number the problem gives ("8 pounds" is
        # Joey's, not a slip), nor on a calculation with numbers other than the step's own: "200 x 0.5 = 100" on the
        # way to 200 + 100 is not the step done with another operation.
        return AlignedClaim(claim, "misconception", node_id, misconception=misconception)
    return AlignedClaim(claim, "unverified", node_id)


def _known_in_other_unit(value: Fraction, claim: Claim, tree: QuestionTree) -> bool:
    """Whether a number of a calculation done in another unit is a step's value in that step's unit: "1200 + 300 =
    1500 seconds" adds the icing step's 20 minutes as 1200 seconds. (Only steps' values: the problem's numbers carry
    units of their own, and 120 seconds is not the problem's "2 hours".)"""
    have = _claim_unit(claim)
    if have is None or not is_unit(have):
        return False
    for node in tree.nodes.values():
        want = _node_unit(node)
        if want is not None and not same_unit(have, want) and convert_units(value, have, want) == _value_of(node):
            return True
    return False


def _other_rate(claim: Claim, node: TreeNode) -> bool:
    """Whether the student gives the step's value per one thing ("per meal") where the step's own worked text gives
    it per another ("per day")."""
    end = _value_end(claim)
    said = rate_after(claim.context, end) if end is not None else None
    if said is None:
        return False
    for text, end in _worked_value_ends(node):
        worked = rate_after(text, end)
        if worked is not None:
            return worked != said
    return False


# How many of one unit make another: the conversions "which is ..." may restate an amount by.
_CALENDAR = {
    ("second", "minute"): 60,
    ("minute", "hour"): 60,
    ("hour", "day"): 24,
    ("day", "week"): 7,
    ("day", "month"): 30,
    ("day", "year"): 365,
    ("week", "month"): 4,
    ("week", "year"): 52,
    ("month", "year"): 12,
}
_TIME_WORD_RE = re.compile(r"\b(second|minute|hour|day|week|month|year)s?\b", re.IGNORECASE)


def _calendar_conversion(claim: Claim) -> bool:
    """ "$100 per month on medicine, which is $1200" said of a year: the same amount put in other units of time, by
    the factor between those units. By another factor, or without two units of time to compare ("5 sandwiches,
    which is 60 slices"), it is a claim to check."""
    if claim.restates is None or claim.restates == 0 or claim.stated == 0:
        return False
    source = claim.restates_rate
    end = _value_end(claim)
    target = rate_after(claim.context, end) if end is not None else None
    if target is None:  # "In a year, she spends $100 per month on medicine, which is $1200"
        others = {w.lower() for w in _TIME_WORD_RE.findall(claim.context)} - {source}
        target = others.pop() if len(others) == 1 else None
    if source is None or target is None or source == target:
        return False
    ratio = claim.stated / claim.restates
    factor = _CALENDAR.get((source, target)) or (
        1 / Fraction(_CALENDAR[(target, source)]) if (target, source) in _CALENDAR else None
    )
    return factor is not None and ratio == factor


def _credit_other_paths(aligned: list[AlignedClaim]) -> list[AlignedClaim]:
    """A value the tree does not know, computed rightly and then built on (directly or through other such values) by
    a right claim, is a valid other path (12 x 0.5 where the solution halves 12): it is not a mistake. A result equal
    to one of its own numbers ("50,000 x 100% = 50,000") is not told apart from that number: a later claim using
    it does not build on it."""
    out = list(aligned)
    changed = True
    while changed:
        changed = False
        for i, a in enumerate(out):
            if a.verdict != "unverified" or a.claim.stated in a.claim.operands:
                continue
            if any(b.verdict == "correct" and a.claim.stated in b.claim.operands for b in out[i + 1 :]):
                out[i] = replace(a, verdict="correct", node_id=None)
                changed = True
    return out


def _check_answer_naming(aligned: list[AlignedClaim], reading: Reading, tree: QuestionTree) -> list[AlignedClaim]:
    """The message's last words name what its answer is ("so Kenny started with 100 cards"): a step's right value
    offered as another step's quantity is wrong there."""
    answer = reading.answer
    index = next((i for i, a in enumerate(aligned) if a.claim is answer), None)
    if answer is None or index is None or aligned[index].verdict != "correct" or not reading.final_context:
        return aligned
    matched = aligned[index].node_id
    if matched is not None and _does_steps_calculation(answer, tree, matched):
        return aligned  # "12 x 40 = 480" is the step's own calculation, whatever the sentence calls it
    named = _named_node(replace(answer, context=reading.final_context), tree)
    if named is None or named == matched or _value_matches(answer, tree.node(named), tree):
        return aligned
    out = list(aligned)
    out[index] = replace(out[index], verdict="wrong", node_id=named)
    return out


def _does_steps_calculation(claim: Claim, tree: QuestionTree, node_id: str) -> bool:
    """Whether a calculation uses exactly a step's numbers with its operation."""
    operands = _calculation_operands(tree.problem).get(node_id, frozenset())
    operations = _calculation_operations(tree.problem).get(node_id, frozenset())
    return (
        claim.kind == "equation"
        and bool(operands)
        and set(claim.operands) == operands
        and set(claim.operations) <= operations
    )


def _locate_path_mistake(
    aligned: list[AlignedClaim], reading: Reading, example_numbers: frozenset[Fraction] = frozenset()
) -> list[AlignedClaim]:
    """When the message's answer is not a value of the solution, the student left the solution's path somewhere:
    at the earliest claim that is unverified (right arithmetic, a value the solution never reaches) or plainly wrong.
    A right answer leaves unverified claims alone: they were another route. So does working through the tutor's
    similar case (``_about_example``)."""
    answer = reading.answer
    index = next((i for i, a in enumerate(aligned) if a.claim is answer), None)
    if index is None or aligned[index].verdict in ("correct", "given"):
        return aligned
    if _about_example(aligned, example_numbers):
        return aligned
    plainly_wrong = [i for i, a in enumerate(aligned) if a.wrong]
    first = next(
        (
            i
            for i, a in enumerate(aligned)
            if a.wrong
            or (
                a.verdict == "unverified"
                and not (_gives_back_operand(a.claim) and plainly_wrong and plainly_wrong[-1] > i)
            )
        ),
        None,
    )
    if first is None or aligned[first].wrong:
        return aligned
    out = list(aligned)
    out[first] = replace(out[first], verdict="off_path")
    return out


def _gives_back_operand(claim: Claim) -> bool:
    """ "$50,000 x 100% = $50,000": a calculation whose result is one of its own two numbers. Where the student left
    the path it may be (x 100% where x 50% belongs), but a plain slip later in the message is the one to answer."""
    return len(claim.operands) == 2 and claim.stated in claim.operands and claim.arithmetic_ok is True


def _about_example(aligned: list[AlignedClaim], example_numbers: frozenset[Fraction]) -> bool:
    """Whether the message's work is on the tutor's similar case: its last calculation is done with that case's
    numbers only (or with results of earlier such calculations). A calculation that mixes the case's numbers into
    the problem's ("15 x 7" where 7 is from the case) is a mistake on the problem, not work on the case."""
    if not example_numbers:
        return False
    numbers = set(example_numbers)
    last_on_case = False
    for a in aligned:
        if a.claim.operands:
            last_on_case = set(a.claim.operands) <= numbers and bool(set(a.claim.operands) & example_numbers)
            if last_on_case:
                numbers.add(a.claim.stated)
    return last_on_case


def _mention(claim: Claim) -> NumberMention | None:
    """The claim's value as a number mention, for the authored-misconception matcher."""
    mentions = find_numbers(claim.said)
    return mentions[-1] if mentions else None


def _matching_node(
    claim: Claim, tree: QuestionTree, current: str, resolved: frozenset[str], route: str | None = None
) -> str | None:
    """The node whose answer the claim states: the current node first, then open nodes, preferring those whose own
    numbers the claim uses; a node already resolved last (the student restating a step they did). ``route``: the
    claim's calculation written out through the student's own earlier results in the message."""
    candidates = [
        n
        for n in _ordered_nodes(tree, current, resolved)
        if _value_matches(claim, n, tree) and same_quantity(claim, n, tree, route=route)
    ]
    if not candidates:
        return None
    if claim.operands:
        overlap = [n for n in candidates if set(claim.operands) & _operands_of(tree, n.id)]
        if overlap:
            return overlap[0].id
    return candidates[0].id


_MONEY_QUESTION_RE = re.compile(
    r"\$|\bhow\s+much\b(?!\s+(?:time|longer|more\s+time|water|flour|sugar|feed|weight))|\bdollars?\b|\bcents?\b|"
    r"\bcost\b|\bspend\b|\bspent\b|\bearn|\bpay\b|\bpaid\b|\bprice\b|\bprofit\b|\bsave\b",
    re.IGNORECASE,
)
_COUNT_QUESTION_RE = re.compile(r"\bhow\s+many\s+(?!dollars\b|cents\b)[a-z]", re.IGNORECASE)
_EACH_WORDS = frozenset({"each", "per", "every", "apiece"})
_ALL_WORDS = frozenset({"both", "total", "altogether", "together", "combined", "all"})


def same_quantity(claim: Claim, node: TreeNode, tree: QuestionTree, *, route: str | None = None) -> bool:
    """Whether a claim with the node's value can be about the node's quantity (align by more than the value):
    1. money cannot answer a count ("$150" is not 150 cards), nor a count money;
    2. "each" cannot answer "both" or "in total", nor the reverse;
    3. a calculation that shares no number with the step's own calculation reached the value by coincidence, unless
       built on the student's own earlier results (``route``, written out) it is the same formula in the problem's
       numbers as the step's ("(80+65+90+95)-65" for 80 + 90 + 95).
    A scaffold whose value is its step's ("What is 28 / 2?" for "How many fish are in both aquariums?") stands for
    the step's quantity, so the step's question counts too."""
    question = node.prompt
    parent = tree.node(node.parent) if node.kind == "scaffold" and node.parent else None
    if parent is not None and _value_of(parent) is not None and _value_of(parent) == _value_of(node):
        question += " " + parent.prompt
    if claim.money and _COUNT_QUESTION_RE.search(question) and not _MONEY_QUESTION_RE.search(question):
        return False
    if not _counts_thing_asked(claim, question, tree):
        return False  # "4 monkeys" does not answer "How many birds are left?"
    if claim.context:
        said = set(re.findall(r"[a-z]+", claim.context.lower()))
        asking = _asking_part(question)
        if node.is_final:
            # The last step answers the problem's own question; "What is 60 / 4?" does not say what is asked.
            asking = "" if _CALCULATION_PROMPT_RE.match(node.prompt) else asking
            asking += " " + _asking_part(_problem_question(tree.problem))
        asked = set(re.findall(r"[a-z]+", asking.lower()))
        if (said & _EACH_WORDS and asked & _ALL_WORDS and not asked & _EACH_WORDS) or (
            said & _ALL_WORDS - {"all"} and asked & _EACH_WORDS and not asked & _ALL_WORDS
        ):
            return False
    formula = _step_formulas(tree.problem).get(node.id) if route is not None else None
    if route is not None and formula is not None and same_formula(route, formula, tree.given_values):
        return True
    operands = _calculation_operands(tree.problem).get(node.id, frozenset())
    if claim.kind != "equation" or not claim.operands or not operands or _restates_value(claim, node, tree):
        return True
    shared = set(_operands_in_node_unit(claim, node, tree)) & operands
    if node.is_final or not shared:
        return bool(shared)
    # "5 + 5 + 10 = 20" is not the step "10 x 2 = 20": another operation on mostly other numbers.
    operations = _calculation_operations(tree.problem).get(node.id, frozenset())
    return not (operations and not set(claim.operations) & operations and len(shared) < 2)


def _restates_value(claim: Claim, node: TreeNode, tree: QuestionTree) -> bool:
    """Whether a calculation only restates the node's value: "4 rewards by $1 to get $4" (times 1, plus 0). Not when
    the problem gives the same number: "12 oranges x 1 = 12" restates the oranges, not the step's 12 apples."""
    value = _value_of(node)
    if value is None or len(claim.operands) != 2 or value not in claim.operands or len(claim.operations) != 1:
        return False
    if value in tree.given_values:
        return False
    other = claim.operands[1] if claim.operands[0] == value else claim.operands[0]
    identity = {"*": 1, "/": 1, "+": 0, "-": 0}.get(claim.operations[0])
    return identity is not None and other == identity


_CONDITION_WORDS = r"(?:if|when|since|once|given\s+that|suppose|assuming)"
_CONDITION_RE = re.compile(rf"\s*{_CONDITION_WORDS}\b[^,?]*,\s*(?=(?:how|what|which|who)\b)", re.IGNORECASE)
_TRAILING_CONDITION_RE = re.compile(rf"\s+{_CONDITION_WORDS}\b[^?]*(?=\?\s*$)", re.IGNORECASE)


def _asking_part(question: str) -> str:
    """The question without its conditions: in "If he sells each candle for $2.00 each, what is his net profit?" (or
    "How much does she pay in total if each pen costs $2?") the "each" belongs to the condition, and the profit is
    asked. Words before the question word that are not a condition ("In total, how many ...?") stay."""
    last = re.split(r"(?<=[.!?:])\s+", question.strip())[-1]
    condition = _CONDITION_RE.match(last)
    asked = last[condition.end() :] if condition else last
    return _TRAILING_CONDITION_RE.sub("", asked)  # "... in total if each pen costs $2?"


_ANSWER_WORDS_RE = re.compile(r"\b(?:the\s+(?:final\s+)?answer\s+(?:is|was|would\s+be)|my\s+answer)\b", re.I)
_NAME_STOP_TEXT = """
the a an of in on for to is are was were be he she they it his her their them how many much what does did do will
would there this that with and or so by from at as if then than more less
"""
_NAME_STOP = frozenset(_NAME_STOP_TEXT.split())
_IRREGULAR = {"spent": "spend", "bought": "buy", "sold": "sell", "left": "leave", "made": "make", "paid": "pay"}


def _content_words(text: str) -> set[str]:
    words = set()
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _NAME_STOP or len(w) < 3:
            continue
        w = _IRREGULAR.get(w, w)
        for suffix in ("ing", "ed", "es", "s"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                w = w[: -len(suffix)]
                break
        words.add(w)
    return words


def _near(claim: Claim, width: int = 6) -> str:
    """The words next to the claim's value in its clause: what the value is said to be. For a calculation, the
    words around the whole calculation ("the total savings ... is 2 + 2 = $4")."""
    context = claim.context
    value_end = _value_end(claim)
    if value_end is None:
        return context
    at, end = value_end - len(claim.stated_text), value_end
    if claim.kind == "equation" and claim.text in context:
        # What a calculation stands for is said before it, often at length ("the total savings for 2 tubs of ice
        # cream and 4 packets of milk is 2 + 2 = $4").
        at = context.rfind(claim.text)
        end = at + len(claim.text)
        width *= 2
    before = context[:at].split()[-width:]
    after = context[end:].split()[:width]
    return " ".join(before + after)


def _step_question(tree: QuestionTree, step_id: str) -> str:
    """A step's question, and for the last step the problem's own question too."""
    text = tree.node(step_id).prompt
    if step_id == tree.step_ids[-1]:
        text += " " + _problem_question(tree.problem)
    return text


def _problem_question(problem: Problem) -> str:
    """The problem's own (last) question, or "" when it asks none."""
    questions = [q for q in re.split(r"(?<=[.!?])\s+", problem.text) if q.strip().endswith("?")]
    return questions[-1] if questions else ""


def _step_words(tree: QuestionTree, step_id: str) -> set[str]:
    """The words a step's quantity goes by."""
    return _content_words(_step_question(tree, step_id))


def _named_node(claim: Claim, tree: QuestionTree) -> str | None:
    """The step whose question the claim's own words name most clearly (at least two content words in common,
    more than any other step, and not another kind of thing than the step asks for), or None."""
    if not claim.context:
        return None
    said = _content_words(_near(claim))
    steps = [sid for sid in tree.step_ids if _counts_what_is_asked(claim, _step_question(tree, sid))]
    scored = sorted(((len(said & _step_words(tree, sid)), sid) for sid in steps), reverse=True)
    if not scored or scored[0][0] < 2 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


_HOW_MANY_RE = re.compile(r"\bhow\s+many\s+([a-z]+)", re.IGNORECASE)
_ASKED_THING_RE = re.compile(r"\b(?:how\s+many|number\s+of)\s+([a-z]+)", re.IGNORECASE)  # also "the number of"
_MONEY_WORDS = frozenset({"dollar", "dollars", "cent", "cents"})
_AUXILIARIES = frozenset({"should", "could", "can", "must", "may", "might", "has", "have", "had", "need", "needs"})


def _counts_thing_asked(claim: Claim, question: str, tree: QuestionTree) -> bool:
    """Whether the things the student counts can be the things the question counts ("how many birds", "the number
    of birds"): "4 monkeys left" cannot, when the problem counts monkeys too; "18 female baby bunnies" can be
    bunnies."""
    asked = _ASKED_THING_RE.search(question)
    end = _value_end(claim)
    if asked is None or end is None:
        return True
    following = re.findall(r"[A-Za-z]+", claim.context[end:])[:3]
    thing = asked.group(1).lower()
    if not following or thing in _NAME_STOP or is_unit(thing) or is_unit(following[0]):
        return True  # "the number of them"; units are compared by their size (_value_matches)
    counted_in_problem = {frozenset(_content_words(word)) for _, word in tree.given_counts}
    first = frozenset(_content_words(following[0]))
    if not first or first not in counted_in_problem:
        return True  # not a thing the problem counts: "4 left", "4 more"
    wanted = _content_words(asked.group(1))
    return any(_content_words(word) == wanted for word in following)


def _counts_what_is_asked(claim: Claim, question: str) -> bool:
    """Whether the thing the student counts ("5 sandwiches") can be what the question asks for: "How much money
    would he spend?" asks for money, "How many glasses ...?" for glasses. A claim without a counted word, or a
    question that names none, can be either."""
    counted = "dollars" if claim.money else _claim_unit(claim)
    if counted is None or counted in _NAME_STOP:
        return True
    if _MONEY_QUESTION_RE.search(question) and not _COUNT_QUESTION_RE.search(question):
        return counted in _MONEY_WORDS
    asked = _HOW_MANY_RE.search(question)
    if asked is None or asked.group(1).lower() in _NAME_STOP | _AUXILIARIES:
        return True
    return _content_words(counted) == _content_words(asked.group(1))


def _value_of(node: TreeNode) -> Fraction | None:
    return node.expected.value if node.expected is not None else None


def _node_for_value(value: Fraction, tree: QuestionTree, current: str, resolved: frozenset[str]) -> str | None:
    for node in _ordered_nodes(tree, current, resolved):
        if node.expected is not None and node.expected.value is not None and node.expected.value == value:
            return node.id
    return None


def _node_by_operands(claim: Claim, tree: QuestionTree, current: str, resolved: frozenset[str]) -> str:
    """The open node whose numbers the claim shares most; the current node when none shares any."""
    best, best_overlap = current, 0
    for node in _ordered_nodes(tree, current, resolved):
        if node.id in resolved:
            continue
        overlap = len(set(claim.operands) & _operands_of(tree, node.id))
        if overlap > best_overlap:
            best, best_overlap = node.id, overlap
    return best


def _ordered_nodes(tree: QuestionTree, current: str, resolved: frozenset[str]) -> list[TreeNode]:
    """The current node, then open steps and their scaffolds in order, then resolved ones."""
    order = [current]
    for sid in tree.step_ids:
        order.append(sid)
        order.extend(tree.node(sid).children)
    seen = dict.fromkeys(order)
    open_nodes = [tree.node(n) for n in seen if n not in resolved]
    done = [tree.node(n) for n in seen if n in resolved]
    return open_nodes + done


def _value_matches(claim: Claim, node: TreeNode, tree: QuestionTree) -> bool:
    expected = node.expected
    if expected is None or expected.value is None:
        return False
    units = _units_to_compare(claim, node, tree)
    if units is not None:
        # "5700 seconds" answers a step asked in minutes: the same amount in another unit of the same kind; "12
        # days" does not answer 12 weeks, nor "3 kilograms" 3 pounds.
        converted = convert_units(claim.stated, *units)
        return converted is not None and number_matches(converted, expected, places=claim.places)
    return number_matches(claim.stated, expected, percent=claim.percent, places=claim.places)


def _units_to_compare(claim: Claim, node: TreeNode, tree: QuestionTree) -> tuple[str, str] | None:
    """The unit the student wrote and the unit the node's answer is in, when they differ (and both are units)."""
    have, want = _claim_unit(claim), _node_unit(node)
    if want is None and node.kind == "scaffold" and node.parent:
        want = _node_unit(tree.node(node.parent))  # "What is 20 + 5?" counts what its step counts
    if have is not None and want is not None and is_unit(have) and not same_unit(have, want):
        return have, want
    return None


def _operands_in_node_unit(claim: Claim, node: TreeNode, tree: QuestionTree) -> tuple[Fraction, ...]:
    """A calculation's numbers, and when the student works in another unit of the same kind, those numbers in the
    node's unit too: "5400 + 300 = 5700 seconds" adds the step's 90 and 5 minutes."""
    units = _units_to_compare(claim, node, tree)
    if units is None:
        return claim.operands
    converted = (convert_units(v, *units) for v in claim.operands)
    return (*claim.operands, *(v for v in converted if v is not None))


def said_with_unit(claim: Claim, node: TreeNode, tree: QuestionTree) -> str:
    """The claim's value for quoting back; when the student gave it in another unit than the node's, with both
    units ("5700 seconds (95 minutes)"), so a student who answered in seconds sees the amount they found."""
    units = _units_to_compare(claim, node, tree)
    converted = convert_units(claim.stated, *units) if units is not None else None
    if units is None or converted is None:
        return claim.said
    return f"{claim.said} {units[0]} ({format_number(converted)} {units[1]})"


def _value_end(claim: Claim) -> int | None:
    """Where the claim's value ends in its context: its last mention as a whole number, not inside another ("1500"
    is not found in "11500")."""
    if not claim.stated_text:
        return None
    found = list(re.finditer(rf"(?<![\d.,]){re.escape(claim.stated_text)}(?![\d])", claim.context))
    return found[-1].end() if found else None


def _claim_unit(claim: Claim) -> str | None:
    """The unit word the student wrote right after the claim's value ("5700 seconds")."""
    end = _value_end(claim)
    following = re.match(r"\s*([A-Za-z]+)", claim.context[end:]) if end is not None else None
    return following.group(1).lower() if following else None


def _node_unit(node: TreeNode) -> str | None:
    """The unit a node's answer is in: authored, asked for ("How many minutes will it take?"), or written after the
    value in its worked step ("... = 3 pounds a week"). Only units of measure count."""
    if node.expected is not None and node.expected.unit and is_unit(node.expected.unit):
        return node.expected.unit
    asked = _HOW_MANY_RE.search(node.prompt)
    if asked is not None and is_unit(asked.group(1)):
        return asked.group(1).lower()
    for text, end in _worked_value_ends(node):
        following = re.match(r"\s*([A-Za-z]+)", text[end:])
        if following and is_unit(following.group(1)):
            return following.group(1).lower()
    return None


def _worked_value_ends(node: TreeNode) -> Iterator[tuple[str, int]]:
    """Where the node's worked step (its bottom-out hint) writes the node's value: the text, and where the value
    ends in it, for reading what the value is said to be ("... = 60 cups of feed per day")."""
    value = _value_of(node)
    if value is None:
        return
    for hint in node.ladder:
        if hint.kind == "bottom_out":
            for mention in find_numbers(hint.text):
                if mention.value == value:
                    yield hint.text, mention.end


_SUM_WORDS_RE = re.compile(r"\b(?:total|sum|add(?:ed|ing)?|altogether|together|combined|in\s+all)\b", re.I)
_LIST_SEPARATOR_RE = re.compile(r"\s*(?:,|,?\s+and)\s*$")


@lru_cache(maxsize=256)
def _list_totals(problem: Problem) -> dict[Fraction, str]:
    """The sum of each list of three or more numbers the problem gives together ("scores of 89, 71, 92, 100 and
    86"), written out: a total a student may use without showing the addition."""
    mentions = find_numbers(problem.text)
    runs: list[list[NumberMention]] = []
    for mention in mentions:
        last = runs[-1][-1] if runs else None
        if last is not None and _LIST_SEPARATOR_RE.match(problem.text[last.end : mention.start]):
            runs[-1].append(mention)
        else:
            runs.append([mention])
    totals: dict[Fraction, str] = {}
    for run in runs:
        if len(run) >= 3 and not any(m.percent for m in run):
            totals.setdefault(sum((m.value for m in run), Fraction(0)), "+".join(_written(m.value) for m in run))
    return totals


def _written(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"({value.numerator}/{value.denominator})"


@lru_cache(maxsize=256)
def _tutor_values(problem: Problem) -> frozenset[Fraction]:
    tree = build_tree(problem)
    texts = [n.prompt for n in tree.nodes.values()] + [h.text for n in tree.nodes.values() for h in n.ladder]
    return frozenset(m.value for t in texts for m in find_numbers(t))


def _node_values(tree: QuestionTree) -> set[Fraction]:
    return {n.expected.value for n in tree.nodes.values() if n.expected is not None and n.expected.value is not None}


def _operands_of(tree: QuestionTree, node_id: str) -> frozenset[Fraction]:
    return _operand_table(tree.problem).get(node_id, frozenset())


@lru_cache(maxsize=256)
def _operand_table(problem: Problem) -> dict[str, frozenset[Fraction]]:
    """The numbers each node works with, read from its prompt, its scaffolds and its worked step (its own answer
    excluded): "What is 4 groups of 6?" works with 4 and 6."""
    tree = build_tree(problem)
    table: dict[str, frozenset[Fraction]] = {}
    for node in tree.nodes.values():
        texts = [node.prompt, *(h.text for h in node.ladder)]
        for child in node.children:
            texts.append(tree.node(child).prompt)
        values = {m.value for t in texts for m in find_numbers(t)}
        if node.expected is not None and node.expected.value is not None:
            values.discard(node.expected.value)
        table[node.id] = frozenset(values)
    return table


@lru_cache(maxsize=256)
def _step_formulas(problem: Problem) -> dict[str, str]:
    """Each node's calculation written out down to the problem's numbers, where its content shows it (a scaffold's
    "What is 12 - 5?", a worked step's "3*20 = 60"), through the values of the steps before it."""
    tree = build_tree(problem)
    earlier: dict[Fraction, str] = {}
    table: dict[str, str] = {}
    for step_id in tree.step_ids:
        for node_id in (*tree.node(step_id).children, step_id):
            node = tree.node(node_id)
            value = _value_of(node)
            if value is None:
                continue
            texts = [node.prompt, *(h.text for h in node.ladder if h.kind == "bottom_out")]
            texts = [t.rstrip("?") + f" = {value}" if _CALCULATION_PROMPT_RE.match(t) else t for t in texts]
            calculation = next((c for t in texts if (c := worked_calculation(t, value)) is not None), None)
            if calculation is None:
                continue
            table[node_id] = written_out(calculation.removeprefix("What is").strip(), earlier, tree.given_values)
            earlier.setdefault(value, table[node_id])
    return table


@lru_cache(maxsize=256)
def _calculation_operands(problem: Problem) -> dict[str, frozenset[Fraction]]:
    """The numbers of each step's own calculation, where the content shows one (its scaffold questions and worked
    step); empty for a step that only asks its question."""
    tree = build_tree(problem)
    table: dict[str, frozenset[Fraction]] = {}
    for node in tree.nodes.values():
        texts = [h.text for h in node.ladder if h.kind in ("scaffold", "bottom_out")]
        texts += [tree.node(child).prompt for child in node.children]
        if node.kind == "scaffold" or _CALCULATION_PROMPT_RE.match(node.prompt):
            texts.append(node.prompt)
        values = {m.value for t in texts for m in find_numbers(t)}
        if node.expected is not None and node.expected.value is not None:
            values.discard(node.expected.value)
        table[node.id] = frozenset(values)
    return table


_CALCULATION_PROMPT_RE = re.compile(r"\s*What is [\d.,]+\s*[-+\u2212\u00d7*\u00f7/]")
_OPERATION_SIGNS = {"+": "+", "-": "-", "\u2212": "-", "\u00d7": "*", "*": "*", "\u00f7": "/", "/": "/"}


@lru_cache(maxsize=256)
def _calculation_operations(problem: Problem) -> dict[str, frozenset[str]]:
    """The operations of each step's own calculation, read from its scaffold questions ("What is 10 x 2?")."""
    tree = build_tree(problem)
    table: dict[str, frozenset[str]] = {}
    for node in tree.nodes.values():
        texts = [tree.node(child).prompt for child in node.children]
        if node.kind == "scaffold" or _CALCULATION_PROMPT_RE.match(node.prompt):
            texts.append(node.prompt)
        signs = {_OPERATION_SIGNS[c] for t in texts for c in re.findall(r"(?<=\s)[-+\u2212\u00d7*\u00f7/](?=\s)", t)}
        table[node.id] = frozenset(signs)
    return table


def _one_digit_off(value: Fraction, given: Fraction) -> bool:
    """72 misread as 27, 70 or 82: the same digits swapped, or one digit changed."""
    if value.denominator != 1 or given.denominator != 1:
        return False
    a, b = str(abs(value.numerator)), str(abs(given.numerator))
    if len(a) != len(b) or a == b or len(a) < 2:
        return False
    if sorted(a) == sorted(b):
        return True
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1
