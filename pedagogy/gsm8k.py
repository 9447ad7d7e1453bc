"""GSM8K word problems as tutoring content.

A GSM8K record is a question and a worked solution whose calculations carry calculator annotations
(``48/2 = <<48/2=24>>24``), ending with ``#### 72``. Each annotated calculation becomes a step: its sub-question is
the solution line with the result blanked out (or the Socratic sub-question where the record has one, ``Q? ** line``),
its hint ladder is an operation hint, one scaffold sub-question per arithmetic operation (so ``100-50-30-15`` becomes
three single-operation questions), and the worked line as the bottom-out. Swapping the operation gives the typical
misconceptions (added instead of multiplied).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction

from pedagogy import mathparse
from pedagogy.domain import Hint, Misconception, Problem, Step
from pedagogy.numbers import find_numbers, format_number

_ANNOTATION_RE = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
_RESULT_AFTER_RE = re.compile(r"\s*(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)")
_DISPLAY_CHARS = set("0123456789.,$ +-*/x\u00d7\u00f7\u2013\u2212()%=")
_SYMBOL = {"+": "+", "-": "-", "*": "\u00d7", "/": "\u00f7"}
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


def final_answer(solution: str) -> str | None:
    m = re.search(r"####\s*(.+?)\s*$", solution.strip())
    return m.group(1).replace(",", "").strip() if m else None


def problem_from_gsm8k(record: Mapping[str, str], *, problem_id: str) -> Problem | None:
    """The tutoring problem for one GSM8K record, or None when the record has no usable annotated steps."""
    question = record.get("question", "").strip()
    solution = record.get("answer", "")
    answer = final_answer(solution)
    if not question or answer is None or _number(answer) is None:
        return None
    steps: list[Step] = []
    lines = [ln for ln in solution.split("####")[0].splitlines() if ln.strip()]
    for line in lines:
        socratic, _, work = line.rpartition(" ** ")
        annotations = list(_ANNOTATION_RE.finditer(work))
        for k in range(len(annotations)):
            step = _step(work, annotations, k, socratic.strip() or None, f"s{len(steps) + 1}")
            if step is not None:
                steps.append(step)
    if not steps:
        return None
    # A "misconception" value that is some step's right answer is a student restating that step, not a mistake.
    answers = {step.answer for step in steps}
    steps = [
        replace(step, misconceptions=tuple(m for m in step.misconceptions if m.wrong not in answers)) for step in steps
    ]
    skills = tuple(dict.fromkeys(s for step in steps for s in step.skills))
    return Problem(
        id=problem_id,
        title=question[:60],
        text=question.replace("$", "\\$"),
        answer=format_number(_number(answer) or Fraction(0)),
        answer_type="number",
        steps=tuple(steps),
        skills=skills,
    )


def _number(text: str) -> Fraction | None:
    try:
        return Fraction(text.replace(",", "").strip().rstrip("."))
    except (ValueError, ZeroDivisionError):
        return None


def _step(work: str, annotations: list[re.Match[str]], k: int, socratic: str | None, step_id: str) -> Step | None:
    ann = annotations[k]
    result = _number(ann.group(2))
    if result is None:
        return None
    answer = format_number(result)
    try:
        ops = mathparse.binary_operations(mathparse.parse(ann.group(1), latex=False))
    except mathparse.ParseError:
        ops = []
    ops = ops[-MAX_SCAFFOLDS:]
    if ops:
        a, op, b, _ = ops[-1]
        ops[-1] = (a, op, b, result)  # the annotated result is the step's answer, rounding included
    last_op = ops[-1][1] if ops else None
    skills = tuple(dict.fromkeys(_SKILL[o] for _, o, _, _ in ops)) or ("arith.multistep",)
    if any(v.denominator != 1 for a, _, b, r in ops for v in (a, b, r)) or "." in ann.group(1):
        skills += ("number.decimals",)
    hints: list[Hint] = []
    if last_op is not None:
        hints.append(Hint("hint", _OP_HINT[last_op]))
    for a, op, b, r in ops:
        hints.append(
            Hint("scaffold", f"What is {format_number(a)} {_SYMBOL[op]} {format_number(b)}?", format_number(r))
        )
    told = _clean(work, annotations, k, blank=False)
    hints.append(Hint("bottom_out", told))
    misconceptions: list[Misconception] = []
    if ops:
        a, op, b, _ = ops[-1]
        for swap, feedback in _SWAPS[op]:
            try:
                wrong = mathparse.evaluate(mathparse.Bin(swap, mathparse.Num(a), mathparse.Num(b)))
            except mathparse.ParseError:
                continue
            if wrong != result and wrong >= 0:
                misconceptions.append(Misconception(format_number(wrong), feedback))
    blanked = _clean(work, annotations, k, blank=True)
    # Some lines state the result before working it out ("The record is 1,148 because 287 x 4 = 1148").
    for mention in reversed(find_numbers(blanked)):
        if result in (mention.value, mention.written):
            blanked = blanked[: mention.start] + "___" + blanked[mention.end :]
    prompt = socratic if socratic and k == len(annotations) - 1 else f"What number goes in the blank: “{blanked}”?"
    return Step(
        id=step_id,
        prompt=prompt,
        answer=answer,
        skills=skills,
        hints=tuple(hints),
        misconceptions=tuple(misconceptions),
    )


def _clean(work: str, annotations: list[re.Match[str]], k: int, *, blank: bool) -> str:
    """The solution line as a reader sees it, cut after calculation ``k``; with ``blank`` its result is ``___``.

    Earlier calculations of the line keep their results (they are earlier steps, already resolved).
    """
    ann = annotations[k]
    after = _RESULT_AFTER_RE.match(work, ann.end())
    end = after.end() if after else ann.end()
    rest = work[end:] if k == len(annotations) - 1 else " \u2026"
    if blank:
        start = ann.start()
        while start > 0 and _is_display(work, start - 1):
            start -= 1
        # Keep the space before the blank and any words (a bare "x" between numbers is a times sign).
        while start < ann.start() and work[start] == " ":
            start += 1
        head = work[:start]
        text = f"{head}___{rest}"
    else:
        text = work[:end] + rest
    return re.sub(r"\s+", " ", _ANNOTATION_RE.sub("", text)).strip()


def _is_display(work: str, i: int) -> bool:
    """Whether ``work[i]`` belongs to a displayed calculation; an "x" only when it stands alone as a times sign."""
    c = work[i]
    if c == "x":
        return (i == 0 or work[i - 1] in " 0123456789") and (i + 1 == len(work) or work[i + 1] in " 0123456789")
    return c in _DISPLAY_CHARS
