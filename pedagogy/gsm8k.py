"""GSM8K word problems as tutoring content.

A GSM8K record is a question and a worked solution whose calculations carry calculator annotations
(``48/2 = <<48/2=24>>24``), ending with ``#### 72``. Each annotated calculation becomes a step. Its prompt is, in
order of preference: the record's Socratic sub-question (``Q? ** line``), a question for the quantity the line names
("Natalia sold 24 clips in May" -> "How many clips did Natalia sell in May?", see :mod:`pedagogy.step_questions`), or
the calculation itself ("What is 48 ÷ 2?"). Its hint ladder is an operation hint, one scaffold sub-question per
arithmetic operation (so ``100-50-30-15`` becomes three single-operation questions), and the worked sentence as the
bottom-out. Swapping the operation gives the typical misconceptions (added instead of multiplied).

Annotations are not always right (a few are wrong in the data, and solutions annotated by pattern matching, such as
MathDial's, misread chained or fractional calculations), so every calculation is checked with exact arithmetic
before anything is built from it: a step is never taught with arithmetic that does not hold. What had to be
repaired, dropped or skipped comes back as warnings for the import report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal

from pedagogy import mathparse
from pedagogy.domain import Hint, Misconception, Problem, Step
from pedagogy.numbers import find_numbers, format_number
from pedagogy.step_questions import quantity_question

PromptKind = Literal["socratic", "quantity", "arithmetic"]

_ANNOTATION_RE = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
# The result as the line writes it after an annotation: a number, maybe a fraction ("2/3") or a percentage.
_RESULT_AFTER_RE = re.compile(r"[ \t]*(?P<num>-?\d[\d,]*(?:\.\d+)?|-?\.\d+)(?P<frac>/\d+(?![\d.,]))?(?P<pct>[ \t]*%)?")
# Where a sentence ends: a stop, then space and a capital, a digit or "$" (never a decimal point).
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z$\d])")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "vs.", "approx.", "etc.", "Jr.", "Sr.", "lbs.", "oz.", "ft.")
_SYMBOL = {"+": "+", "-": "\u2212", "*": "\u00d7", "/": "\u00f7", "^": "^"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 3}
_SKILL = {"+": "arith.add", "-": "arith.subtract", "*": "arith.multiply", "/": "arith.divide"}
_OP_HINT = {
    "+": "This step puts amounts together.",
    "-": "This step finds what is left, or how far apart the amounts are.",
    "*": "This step is about equal groups: the same amount several times.",
    "/": "This step splits an amount into equal parts, or asks how many times an amount fits into another.",
}
_SWAPS: dict[str, tuple[tuple[str, str], ...]] = {
    "*": (("+", "It looks like you added. Does this step combine equal groups, or just put amounts together?"),),
    "+": (("-", "It looks like you subtracted. Is this step taking something away, or putting amounts together?"),),
    "-": (("+", "It looks like you added. Does this step put amounts together, or find what is left?"),),
    "/": (
        ("*", "It looks like you multiplied. Is this step making groups bigger, or splitting an amount up?"),
        ("-", "It looks like you subtracted. Splitting into equal parts is a different operation; which is it?"),
    ),
}
MAX_SCAFFOLDS = 4
_BLANK_RE = re.compile(r"_{2,}")
_QUOTED_RE = re.compile(r"[“\"]([^“”\"]*)[”\"]")


@dataclass(frozen=True)
class BuildWarning:
    """Something the builder repaired, dropped or skipped; ``code`` groups warnings of one kind in a report."""

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class GsmBuild:
    """The problem built from one record (None when nothing usable is left), what happened on the way, and which
    kind of prompt each step asks (aligned with ``problem.steps``)."""

    problem: Problem | None
    warnings: tuple[BuildWarning, ...] = ()
    prompt_kinds: tuple[PromptKind, ...] = ()


def final_answer(solution: str) -> str | None:
    m = re.search(r"####\s*(.+?)\s*$", solution.strip())
    return m.group(1).replace(",", "").strip() if m else None


def problem_from_gsm8k(record: Mapping[str, str], *, problem_id: str) -> Problem | None:
    """The tutoring problem for one GSM8K record, or None when the record has no usable annotated steps."""
    return build_problem(record, problem_id=problem_id).problem


def build_problem(record: Mapping[str, str], *, problem_id: str) -> GsmBuild:
    """The tutoring problem for one GSM8K record with the warnings an import report should show."""
    question = record.get("question", "").strip()
    solution = record.get("answer", "")
    answer = final_answer(solution)
    final = _number(answer) if answer is not None else None
    if not question or final is None:
        return GsmBuild(None)
    context = _Context(given=_values([question]), final=final)
    steps: list[Step] = []
    kinds: list[PromptKind] = []
    warnings: list[BuildWarning] = []
    lines = [ln for ln in solution.split("####")[0].splitlines() if ln.strip()]
    for lineno, line in enumerate(lines, start=1):
        socratic, _, work = line.rpartition(" ** ")
        annotations = list(_ANNOTATION_RE.finditer(work))
        for k in range(len(annotations)):
            where = f"solution line {lineno}, calculation {annotations[k].group(0)!r}"
            built = _step(work, annotations, k, socratic.strip() or None, f"s{len(steps) + 1}", context, where)
            warnings.extend(built.warnings)
            if built.step is not None and built.kind is not None:
                steps.append(built.step)
                kinds.append(built.kind)
                context.found.add(Fraction(built.step.answer))
    if not steps:
        return GsmBuild(None, tuple(warnings))
    # A "misconception" value that is some step's right answer is a student restating that step, not a mistake.
    answers = {step.answer for step in steps}
    steps = [
        replace(step, misconceptions=tuple(m for m in step.misconceptions if m.wrong not in answers)) for step in steps
    ]
    skills = tuple(dict.fromkeys(s for step in steps for s in step.skills))
    problem = Problem(
        id=problem_id,
        title=question[:60],
        text=question.replace("$", "\\$"),
        answer=format_number(final),
        answer_type="number",
        steps=tuple(steps),
        skills=skills,
    )
    return GsmBuild(problem, tuple(warnings), tuple(kinds))


def malformed_prompt_reasons(step: Step) -> tuple[str, ...]:
    """Why a step's prompt would read badly to a student; empty when it reads well."""
    return malformed_question_reasons(step.prompt, step.answer)


def malformed_question_reasons(text: str, answer: str | None) -> tuple[str, ...]:
    """Why a question shown to a student is malformed: more than one blank, a blank in a quote that runs over more
    than one sentence, an empty quote, a blank that leaves part of its result showing (``___/8``, ``$___``,
    ``___%``), or the question's own answer written in it."""
    reasons: list[str] = []
    blanks = _BLANK_RE.findall(text)
    if len(blanks) > 1:
        reasons.append("more than one blank")
    for quoted in _QUOTED_RE.findall(text):
        if not _BLANK_RE.sub("", quoted).strip(" .,;:!?\u2026"):
            reasons.append("an empty quote")
        elif _BLANK_RE.search(quoted) and _SENTENCE_END_RE.search(quoted.strip()):
            reasons.append("a blank in a quote of more than one sentence")
    if re.search(r"\$\s*_{2,}|_{2,}\s*(?:%|/\s*\d|[.,]\d)|\d\s*[/.,]\s*_{2,}", text):
        reasons.append("a blank that leaves part of its result showing")
    value = _number(answer) if answer else None
    if value is not None and any(value in (m.value, m.written) for m in find_numbers(text)):
        reasons.append("contains its own answer")
    return tuple(dict.fromkeys(reasons))


# --- one step --------------------------------------------------------------------------------------------------------


@dataclass
class _Context:
    """What the questions of one record may mention: the problem's givens and the results found so far."""

    given: set[Fraction]
    final: Fraction
    found: set[Fraction] = field(default_factory=set)

    def may_mention(self, value: Fraction) -> bool:
        # The final answer is never said before it is found, even where a given happens to equal it.
        if value == self.final:
            return False
        return value in self.given or value in self.found or value in (0, 1, 2)


@dataclass(frozen=True)
class _Built:
    step: Step | None
    kind: PromptKind | None
    warnings: tuple[BuildWarning, ...] = ()


@dataclass(frozen=True)
class _Located:
    """Where one calculation sits in its line as a reader sees it (annotations removed)."""

    sentence: str  # the sentence that holds the result
    calc_start: int  # in ``sentence``: where the displayed calculation (or the bare result) starts
    result_start: int
    result_end: int
    money: bool
    percent: bool
    displayed: Fraction | None  # the result as written after the annotation ("2/3" even when annotated "2")
    display_expr: str  # the calculation as written before the annotation ("2 students * 3 - 1")
    last_in_sentence: bool


def _step(
    work: str,
    annotations: list[re.Match[str]],
    k: int,
    socratic: str | None,
    step_id: str,
    context: _Context,
    where: str,
) -> _Built:
    ann = annotations[k]
    located = _locate(work, annotations, k)
    checked = _checked_calculation(ann.group(1), _number(ann.group(2)), located, where)
    if checked.node is None or checked.value is None:
        return _Built(None, None, checked.warnings)
    node, result = checked.node, checked.value
    warnings = list(checked.warnings)
    ops = mathparse.binary_operations(node)
    socratic = socratic if k == len(annotations) - 1 else None  # the sub-question belongs to the line's last step
    prompt, kind = _prompt(node, result, checked.places, located, socratic, context)
    if prompt is None or kind is None:
        warnings.append(BuildWarning("no-question", f"{where}: no question could be written for it; step skipped"))
        return _Built(None, None, tuple(warnings))
    skills = tuple(dict.fromkeys(_SKILL[o] for _, o, _, _ in ops if o in _SKILL)) or ("arith.multistep",)
    if any(v.denominator != 1 for a, _, b, r in ops for v in (a, b, r)) or "." in ann.group(1):
        skills += ("number.decimals",)
    hints: list[Hint] = []
    if ops and ops[-1][1] in _OP_HINT:
        hints.append(Hint("hint", _OP_HINT[ops[-1][1]]))
    for scaffold in _scaffolds(ops, result, checked.places, where, warnings):
        if scaffold.text != prompt:  # the prompt already asks this very calculation
            hints.append(scaffold)
    hints.append(Hint("bottom_out", _told(located)))
    step = Step(
        id=step_id,
        prompt=prompt,
        answer=format_number(result),
        skills=skills,
        hints=tuple(hints),
        misconceptions=_misconceptions(ops, result),
    )
    return _Built(step, kind, tuple(warnings))


def _prompt(
    node: mathparse.Node,
    result: Fraction,
    places: int | None,
    located: _Located,
    socratic: str | None,
    context: _Context,
) -> tuple[str | None, PromptKind | None]:
    """The step's question: the Socratic sub-question, the quantity question or the calculation, in that order,
    each only when it does not state the step's answer (a quantity question also no value the student has not
    met yet: a later result or the final answer)."""
    if socratic and not _mentions(socratic, result):
        return socratic, "socratic"
    for before, after, money, percent in _readings(located, result):
        quantity = quantity_question(before, after, money=money, percent=percent, one=result == 1)
        if quantity is not None and _mentions_only_known(quantity, result, context):
            return quantity, "quantity"
    arithmetic = arithmetic_question(node, places)
    if arithmetic is not None and not _mentions(arithmetic, result):
        return arithmetic, "arithmetic"
    return None, None


def _readings(located: _Located, result: Fraction) -> list[tuple[str, str, bool, bool]]:
    """Ways to read the sentence as (words before the result, words after it, money, percent).

    Besides the calculation where it stands, a sentence that states its result first and works it out after
    "because" ("They make $150 a month because 400 - 250 = 150") reads from that first statement.
    """
    sentence = located.sentence
    readings = [
        (sentence[: located.calc_start], sentence[located.result_end :], located.money, located.percent),
    ]
    if sentence[located.result_end :].strip(" .!?") == "":
        main, found, _ = sentence[: located.calc_start].partition(" because ")
        if found:
            for m in reversed(find_numbers(main)):
                if result in (m.value, m.written) and m.form == "digits":
                    start = m.start - 1 if m.start > 0 and main[m.start - 1] == "$" else m.start
                    readings.append((main[:start], main[m.end :], start != m.start, m.percent))
                    break
    return readings


def _mentions(text: str, value: Fraction) -> bool:
    return any(value in (m.value, m.written) for m in find_numbers(text))


def _mentions_only_known(text: str, result: Fraction, context: _Context) -> bool:
    """Whether every number in ``text`` is a given or an earlier result, and none is this step's result."""
    for m in find_numbers(text):
        if result in (m.value, m.written):
            return False
        if not (context.may_mention(m.value) or (m.percent and context.may_mention(m.proportion))):
            return False
    return True


def _told(located: _Located) -> str:
    """The worked sentence up to this calculation's result (all of it when no later calculation follows)."""
    sentence = located.sentence
    text = sentence if located.last_in_sentence else sentence[: located.result_end] + " \u2026"
    return re.sub(r"\s+", " ", text).strip()


def _misconceptions(ops: list[tuple[Fraction, str, Fraction, Fraction]], result: Fraction) -> tuple[Misconception, ...]:
    if not ops or ops[-1][1] not in _SWAPS:
        return ()
    a, op, b, _ = ops[-1]
    found: list[Misconception] = []
    for swap, feedback in _SWAPS[op]:
        wrong = _evaluate(mathparse.Bin(swap, mathparse.Num(a), mathparse.Num(b)))
        if wrong is not None and wrong != result and wrong >= 0:
            found.append(Misconception(format_number(wrong), feedback))
    return tuple(found)


# --- scaffolds and the arithmetic question ---------------------------------------------------------------------------


def _scaffolds(
    ops: list[tuple[Fraction, str, Fraction, Fraction]],
    result: Fraction,
    places: int | None,
    where: str,
    warnings: list[BuildWarning],
) -> list[Hint]:
    """One "What is a op b?" per operation (the last few), each checked against exact arithmetic.

    The last operation states the step's result: rounded when the line rounds (and then says so). A scaffold whose
    stated answer is not the value of its own arithmetic is dropped and reported, never taught.
    """
    hints: list[Hint] = []
    first = max(0, len(ops) - MAX_SCAFFOLDS)
    for i, (a, op, b, value) in enumerate(ops):
        last = i == len(ops) - 1
        stated = result if last else value
        rounding = places if last else None
        if i < first or op not in _SYMBOL:
            continue
        exact = _evaluate(mathparse.Bin(op, mathparse.Num(a), mathparse.Num(b)))
        left, right = _operand_text(a), _operand_text(b, _PRECEDENCE[op])
        text = f"What is {left} {_SYMBOL[op]} {right}{_rounding_note(rounding)}?"
        if exact is None or not _agrees(exact, stated, rounding):
            shown = "nothing" if exact is None else format_number(exact)
            note = f"scaffold {text!r} would expect {format_number(stated)} but the arithmetic gives {shown}; dropped"
            warnings.append(BuildWarning("wrong-scaffold", f"{where}: {note}"))
            continue
        hints.append(Hint("scaffold", text, format_number(stated)))
    return hints


def _agrees(exact: Fraction, stated: Fraction, places: int | None) -> bool:
    if places is None:
        return exact == stated
    return abs(exact - stated) <= Fraction(1, 2 * 10**places)


def arithmetic_question(node: mathparse.Node, places: int | None = None) -> str | None:
    """The question that asks for the calculation itself, or None for a bare number (nothing to work out).

    With ``places`` the expected answer is rounded, and the question says to how many decimal places."""
    if isinstance(node, mathparse.Num):
        return None
    try:
        return f"What is {_expression_text(node)}{_rounding_note(places)}?"
    except mathparse.ParseError:
        return None


def _rounding_note(places: int | None) -> str:
    if places is None:
        return ""
    return f", to {places} decimal place{'s' if places > 1 else ''}"


def _operand_text(value: Fraction, right_of: int = 0) -> str:
    """An operand as a question shows it; a fraction or a negative number right of a times or division sign is
    bracketed, because "100 divided by 2/3" written without brackets reads as 100 divided by 2, then by 3."""
    text = _display_number(value)
    if right_of >= _PRECEDENCE["*"] and ("/" in text or value < 0):
        return f"({text})"
    return text


def _display_number(value: Fraction) -> str:
    """A number as a question shows it: thousands separated from ten thousand up ("250,000"), else canonical."""
    text = format_number(value)
    if value.denominator == 1 and abs(value) >= 10_000:
        return f"{value.numerator:,}"
    return text


def _expression_text(node: mathparse.Node, parent: int = 0, right: bool = False) -> str:
    """The calculation as a student reads it: times and division signs, a minus sign, brackets only where the order
    needs them, and small fractions inside a longer calculation written as fractions."""
    if isinstance(node, mathparse.Num):
        return _operand_text(node.value, parent if right else 0)
    if isinstance(node, mathparse.Unary):
        inner = _expression_text(node.arg, 4)
        if node.op == "%":
            return f"{inner}%"
        return f"(\u2212{inner})" if right else f"\u2212{inner}"
    if not isinstance(node, mathparse.Bin):
        raise mathparse.ParseError("not plain arithmetic")
    left, right_node = node.left, node.right
    # A small fraction inside a longer calculation reads as a fraction ("3/5 of 5000"), not as a division.
    if (
        parent
        and node.op == "/"
        and isinstance(left, mathparse.Num)
        and isinstance(right_node, mathparse.Num)
        and left.value.denominator == right_node.value.denominator == 1
        and 0 < left.value <= 1000
        and 1 < right_node.value <= 100
    ):
        fraction = f"{left.value}/{right_node.value}"
        return f"({fraction})" if right and parent >= _PRECEDENCE["*"] else fraction
    precedence = _PRECEDENCE[node.op]
    text = f"{_expression_text(left, precedence)} {_SYMBOL[node.op]} {_expression_text(right_node, precedence, True)}"
    if precedence < parent or (right and precedence == parent):
        return f"({text})"
    return text


# --- checking the calculation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Checked:
    node: mathparse.Node | None
    value: Fraction | None
    places: int | None = None  # decimal places when the line rounds the exact value
    warnings: tuple[BuildWarning, ...] = ()


def _checked_calculation(expr: str, annotated: Fraction | None, located: _Located, where: str) -> _Checked:
    """The calculation a step teaches and its value, checked with exact arithmetic.

    1. The annotation's own expression, when its exact value is the annotated result (or that result rounded to
       the decimal places written, or, for a sum of percentages, that result counted in percent).
    2. Otherwise the calculation as the line displays it, when that gives the annotated result (an annotation that
       kept only the end of a chain: ``220+23-80 = <<23-80=163>>163``).
    3. Otherwise the annotation's expression with the result the line displays, when that is its exact value (an
       annotation that cut a fraction short: ``<<1-(1/3)=2>>2/3``).
    4. Otherwise the arithmetic is wrong and the step is skipped: teaching it would teach the mistake.
    """
    node = _parse(expr)
    exact = _evaluate(node)
    if node is None or exact is None:
        return _Checked(
            None, None, warnings=(_warning("unreadable-calculation", where, "cannot be read; step skipped"),)
        )
    if annotated is not None:
        if exact == annotated:
            return _Checked(node, exact)
        places = _rounded_places(exact, annotated)
        if places is not None:
            return _Checked(node, annotated, places)
        # "10% + 40% = 50": percentages added as numbers of percent, which the result is written in.
        points = _parse(expr.replace("%", "")) if "%" in expr else None
        if points is not None and _evaluate(points) == annotated:
            return _Checked(points, annotated)
    shown = _parse(located.display_expr) if located.display_expr else None
    shown_value = _evaluate(shown)
    if shown is not None and shown_value is not None and shown_value == annotated:
        note = f"the annotation does not give {format_number(shown_value)}; the line's {located.display_expr!r} does"
        return _Checked(shown, shown_value, warnings=(_warning("calculation-repaired", where, note),))
    if located.displayed is not None and located.displayed == exact:
        note = f"the annotated result is wrong; the line's {format_number(exact)} is right"
        return _Checked(node, exact, warnings=(_warning("calculation-repaired", where, note),))
    stated = format_number(annotated) if annotated is not None else "a number"
    note = f"is wrong ({_expression_text(node)} = {format_number(exact)}, not {stated}); step skipped"
    return _Checked(None, None, warnings=(_warning("wrong-calculation", where, note),))


def _warning(code: str, where: str, what: str) -> BuildWarning:
    return BuildWarning(code, f"{where}: {what}")


def _rounded_places(exact: Fraction, annotated: Fraction) -> int | None:
    """The decimal places a rounded result keeps (``10/3 = 3.33``), or None when it is not a rounding of ``exact``.

    Only rounding to one or more decimal places counts: a whole-number "rounding" is as often a floor or a ceiling
    (how many full boxes), which the expression does not say."""
    if annotated.denominator == 1 or exact.denominator == 1:
        return None
    for places in range(1, 5):
        if (annotated * 10**places).denominator == 1:
            return places if _agrees(exact, annotated, places) else None
    return None


_FRACTION_RE = re.compile(r"(?<![\d.)/])(\d+)\s*/\s*(\d+)(?![\d.(])")


def _parse(expr: str) -> mathparse.Node | None:
    # GSM8K writes "//" a few times for a division that comes out whole; the exact check catches any other.
    text = expr.replace("//", "/").replace("$", "").replace(",", "")
    text = re.sub(r"(?<=[\d)\s])[x\u00d7](?=[\s\d($])", "*", text)
    text = re.sub(r"[A-Za-z][A-Za-z'\u2019]*(?:/[A-Za-z]+)*", " ", text)  # units in a displayed calculation
    # A written fraction is one number: "4/5*1/4" is (4/5)*(1/4), and "50 / 1/2" divides by a half.
    text = _FRACTION_RE.sub(r"(\1/\2)", text)
    try:
        return mathparse.parse(text, latex=False)
    except mathparse.ParseError:
        return None


def _evaluate(node: mathparse.Node | None) -> Fraction | None:
    if node is None:
        return None
    try:
        return mathparse.evaluate(node)
    except (mathparse.ParseError, ArithmeticError):
        return None


def _number(text: str) -> Fraction | None:
    try:
        return Fraction(text.replace(",", "").strip().rstrip("."))
    except (ValueError, ZeroDivisionError):
        return None


def _values(texts: Iterable[str]) -> set[Fraction]:
    values: set[Fraction] = set()
    for text in texts:
        for m in find_numbers(text):
            values.update({m.value, abs(m.value), m.proportion})
            if m.written is not None:
                values.add(m.written)
    return values


# --- where the calculation sits ---------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"\$?(?:\d[\d,]*(?:\.\d+)?|\.\d+)%?|[-+*/\u00d7\u00f7\u2013\u2212=()^]|[A-Za-z][A-Za-z'\u2019/-]*|\S"
)


def _locate(work: str, annotations: list[re.Match[str]], k: int) -> _Located:
    """Remove the annotations from the line and find calculation ``k``'s sentence, calculation and result."""
    text = ""
    positions: list[int] = []
    last = 0
    for ann in annotations:
        text += work[last : ann.start()]
        positions.append(len(text))
        last = ann.end()
    text += work[last:]
    position = positions[k]
    after = _RESULT_AFTER_RE.match(text, position)
    displayed: Fraction | None = None
    result_start = result_end = position
    percent = False
    if after:
        result_start, result_end = after.start("num"), after.end("num")
        displayed = _number(after.group("num"))
        if after.group("frac"):
            result_end, displayed = after.end("frac"), _number(after.group("num") + after.group("frac"))
        if after.group("pct"):
            result_end, percent = after.end("pct"), True
    before_result = text[:position].rstrip(" \t")
    money = before_result.endswith("$") or text[result_start - 1 : result_start] == "$"
    if before_result.endswith("$"):
        before_result = before_result[:-1].rstrip(" \t")
    calc_start, display_expr = _display_start(before_result)
    start, end = _sentence_bounds(text, calc_start, result_end)
    next_position = positions[k + 1] if k + 1 < len(positions) else None
    return _Located(
        sentence=text[start:end],
        calc_start=calc_start - start,
        result_start=result_start - start,
        result_end=result_end - start,
        money=money,
        percent=percent,
        displayed=displayed,
        display_expr=display_expr,
        last_in_sentence=next_position is None or next_position >= end,
    )


def _display_start(before: str) -> tuple[int, str]:
    """Where the calculation the line displays before ``=`` starts, and that calculation's text.

    Unit words between numbers belong to it ("9 bicycles x 2 wheels/bicycle = 18", "$4 per drink * 2 drinks = 8");
    the words that lead into it ("There are") do not. Without a displayed ``=`` the calculation starts at the result
    itself.
    """
    end = len(before)
    if not before.endswith("="):
        return end, ""
    tokens = [m for m in _TOKEN_RE.finditer(before[:-1])]
    kinds = [_token_kind(m.group(0)) for m in tokens]
    start_index = len(tokens)
    i = len(tokens) - 1
    while i >= 0 and kinds[i] != "=":
        if kinds[i] in ("number", "op"):
            start_index = i
            i -= 1
            continue
        # A run of up to three words counts as a unit when a number stands before it and an operator after it.
        j = i
        while j >= 0 and kinds[j] == "word" and i - j < 3:
            j -= 1
        after_kind = kinds[i + 1] if i + 1 < len(tokens) else "="
        if kinds[i] == "word" and j >= 0 and kinds[j] == "number" and after_kind in ("op", "="):
            start_index = j
            i = j - 1
            continue
        break
    # The calculation starts with a number or a bracket, never with a word or an operator.
    while start_index < len(tokens) and not (kinds[start_index] == "number" or tokens[start_index].group(0) == "("):
        start_index += 1
    if start_index >= len(tokens):
        return end - 1, ""
    calc_start = tokens[start_index].start()
    return calc_start, before[calc_start:-1].strip()


def _token_kind(text: str) -> str:
    if text == "=":
        return "="
    if re.fullmatch(r"\$?[\d.][\d,.]*%?", text):
        return "number"
    if re.fullmatch(r"[-+*/\u00d7\u00f7\u2013\u2212()^x]", text):
        return "op"
    if re.fullmatch(r"[A-Za-z][A-Za-z'\u2019/-]*", text):
        return "word"
    return "other"


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of ``text`` around ``start``..``end``."""
    lo, hi = 0, len(text)
    for m in _SENTENCE_END_RE.finditer(text):
        if any(text[: m.start()].endswith(a) for a in _ABBREVIATIONS):
            continue
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    return lo, hi
