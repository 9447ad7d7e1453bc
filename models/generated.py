"""Figures for generated tutor turns: answer leaks, questions, guard verdicts and move agreement.

Each MathDial eval-split teacher turn gives a context (the problem, its answer, the reference solution and the
dialogue before that turn); :mod:`models.replay` makes the system's turn for it. The leak check and the move
classifier here are deliberately independent of the guard and the planner, so they can catch what those miss.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.backends import TutorLLM
from models.data import MOVES, ChatExample
from models.replay import ReplayContext, ReplayedTurn, replay
from pedagogy.answers import normalize_answer, number_matches
from pedagogy.numbers import find_numbers
from pedagogy.prompting import DialogueTurn, PromptMode

# -- the move classifier ---------------------------------------------------------------------------------------

_GREETING_RE = re.compile(r"^\W*(?:hi|hello|hey|good (?:morning|afternoon|evening)|welcome)\b", re.IGNORECASE)
_TELLING_RE = re.compile(
    r"\blet me show you\b|\bhere'?s how (?:this|the|it)\b|\bwalk through this step together\b|\bit comes to\b"
    r"|\bthe (?:correct |right |final )?(?:answer|result|total) (?:is|was|would be)\b|\byou (?:need|have) to "
    r"(?:add|subtract|multiply|divide|take away)\b|\bwe (?:add|subtract|multiply|divide)\b|\bthis means\b"
    r"|\d\s*[-+*/x\u00d7\u00f7]\s*\$?\d[\d,.]*\s*=\s*\$?\d",
    re.IGNORECASE,
)
_PROBING_RE = re.compile(
    r"\bhow did you\b|\bwalk me through\b|\btalk me through\b|\bexplain\b|\bwhy\b|\bwhat did you\b"
    r"|\bhow you got\b|\bhow (?:do|would|could|can) you\b|\bwhat made you\b|\bare you sure\b|\bcheck (?:your|that|it)\b"
    r"|\blook again\b|\bwhere did\b|\bit looks like you\b|\byour (?:steps|reasoning|thinking|working|work|method)\b"
    r"|\bwhat do you (?:already )?know\b|\bwhich quantit|\bwhat information\b|\bdoes (?:this|that) step\b"
    r"|\bis (?:this|that) step\b|\bwhat does .{1,40} mean\b",
    re.IGNORECASE,
)
_COMPLETION_RE = re.compile(
    r"\bwell done\b|\bgreat (?:job|work|persistence)\b|\bgood job\b|\bcongratulations\b"
    r"|\byou (?:solved|worked it out|did it)\b|\ball done\b|\b(?:problem|question) is (?:done|finished)\b",
    re.IGNORECASE,
)
_ENCOURAGING_RE = re.compile(
    r"\bdon'?t worry\b|\byou'?re doing (?:fine|great|well)\b|\byou'?ve got this\b|\bthat'?s (?:okay|ok|fine)\b"
    r"|\bhang in there\b|\bnice work\b",
    re.IGNORECASE,
)
_STEP_QUESTION_RE = re.compile(
    r"\bhow (?:many|much|long|far)\b|\bwhat (?:is|are|number|do you get|would you get|will)\b|\b___\b"
    r"|\bcalculate\b|\bwork out\b|\bfind\b|\btry again\b|\bhint\b|\bsmaller question\b|\bnext(?: question)?:",
    re.IGNORECASE,
)


def classify_move(text: str) -> str:
    """The MathDial move a reply reads as, by keyword rules (no model), first match wins:

    1. ``telling``: it works a step out (a calculation with its result, "let me show you", "the answer is").
    2. ``generic``: it opens with a greeting, or it praises a finished problem and asks nothing about a quantity.
    3. ``probing``: it asks the student to explain or check their reasoning ("how did you", "why", "explain").
    4. ``generic``: it encourages and asks nothing about a quantity.
    5. ``focus``: it asks a question or points at the step (a question mark, "how many", "hint", "try again").
    6. ``generic``: anything else.
    """
    if _TELLING_RE.search(text):
        return "telling"
    step_question = bool(_STEP_QUESTION_RE.search(text))
    if _GREETING_RE.search(text) or (_COMPLETION_RE.search(text) and not step_question):
        return "generic"
    if _PROBING_RE.search(text):
        return "probing"
    if _ENCOURAGING_RE.search(text) and not step_question:
        return "generic"
    if step_question or "?" in text:
        return "focus"
    return "generic"


# -- the leak check ----------------------------------------------------------------------------------------------


def mentions_answer(text: str, answer: str) -> bool:
    """Whether ``text`` writes the final answer's value (any number form ``find_numbers`` reads, percent
    included), or for a non-numeric answer, the answer itself with spacing and case ignored."""
    norm = normalize_answer(answer, "number")
    if norm is None or norm.value is None:
        compact = re.sub(r"\s+", "", answer).lower()
        return len(compact) > 1 and compact in re.sub(r"\s+", "", text).lower()
    return any(number_matches(m.value, norm, percent=m.percent) for m in find_numbers(text))


def leaks_answer(reply: str, answer: str, dialogue: Iterable[DialogueTurn]) -> bool:
    """The reply states the final answer although no student turn has stated it yet."""
    if any(turn.role == "student" and mentions_answer(turn.text, answer) for turn in dialogue):
        return False
    return mentions_answer(reply, answer)


# -- contexts from the MathDial eval split ----------------------------------------------------------------------


def mathdial_answer(solution: str) -> str:
    """MathDial's reference solutions end with the final answer on a line of its own."""
    lines = [line.strip() for line in solution.splitlines() if line.strip()]
    return lines[-1].rstrip(".") if lines else ""


def context_of(example: ChatExample, index: int) -> ReplayContext:
    return ReplayContext(
        id=f"{example.qid}-{index}",
        problem=example.question,
        answer=mathdial_answer(example.solution),
        solution=example.solution,
        dialogue=tuple(DialogueTurn(turn.role, turn.text) for turn in example.history),
    )


# -- the run -------------------------------------------------------------------------------------------------------


@dataclass
class GeneratedFigures:
    label: str
    contexts: int = 0
    leak_rate: float = 0.0  # delivered replies that state the final answer before the student did
    model_leak_rate: float | None = None  # the model's own replies, before the guard (None without a model)
    question_rate: float = 0.0  # delivered replies with a question mark
    # The model's replies the guard passed, of all the model's replies (a failed model is counted in model_errors);
    # for the ``none`` backend, the templates the guard passed.
    guard_pass_rate: float = 0.0
    move_agreement: float = 0.0  # classifier's move of the delivered reply == the planner's move
    reference_move_agreement: float = 0.0  # classifier's move of the teacher's reply == MathDial's label
    sources: dict[str, int] = field(default_factory=dict)
    planned_moves: dict[str, int] = field(default_factory=dict)
    model_errors: int = 0
    seconds: float = 0.0


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


async def evaluate_generated(
    examples: Sequence[ChatExample],
    llm: TutorLLM,
    *,
    label: str,
    mode: PromptMode,
    max_new_tokens: int,
    temperature: float,
    timeout: float,
) -> tuple[GeneratedFigures, list[dict[str, Any]]]:
    """Make the system's turn for every example's context; the figures and one record per context."""
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    leaks = model_leaks = model_replies = questions = candidates = passed = agree = reference_agree = errors = 0
    sources: Counter[str] = Counter()
    planned: Counter[str] = Counter()
    for index, example in enumerate(examples):
        context = context_of(example, index)
        turn: ReplayedTurn = await replay(
            context, llm, mode=mode, max_new_tokens=max_new_tokens, temperature=temperature, timeout=timeout
        )
        reply = turn.to_json()
        text = turn.delivery.text
        classified = classify_move(text)
        leaked = leaks_answer(text, context.answer, context.dialogue)
        leaks += leaked
        if turn.model_text is not None:
            model_replies += 1
            model_leaks += leaks_answer(turn.model_text, context.answer, context.dialogue)
            candidates += 1
            passed += turn.delivery.source == "model"
        elif llm.name == "none":
            candidates += 1
            passed += reply["guard"]["ok"]
        errors += turn.model_error is not None
        questions += "?" in text
        agree += classified == turn.plan.move
        reference_agree += classify_move(example.reply) == example.move
        sources[turn.delivery.source] += 1
        planned[turn.plan.move] += 1
        reply.update(classified_move=classified, leaks_answer=leaked)
        records.append(
            {
                "id": context.id,
                "answer": context.answer,
                "reference": {"move": example.move, "text": example.reply},
                "reply": reply,
            }
        )
    total = len(examples)
    figures = GeneratedFigures(
        label=label,
        contexts=total,
        leak_rate=_rate(leaks, total),
        model_leak_rate=_rate(model_leaks, model_replies) if model_replies else None,
        question_rate=_rate(questions, total),
        guard_pass_rate=_rate(passed, candidates),
        move_agreement=_rate(agree, total),
        reference_move_agreement=_rate(reference_agree, total),
        sources=dict(sorted(sources.items())),
        planned_moves={move: planned[move] for move in MOVES if planned[move]},
        model_errors=errors,
        seconds=round(time.perf_counter() - started, 1),
    )
    return figures, records
