"""Replay a recorded dialogue and produce the tutor's next turn, through the same path as the web app.

A context is a problem, its final answer, optionally a reference solution, and the dialogue so far. The turn is
made in four steps:
1. A tutoring problem is built from the context: steps from the solution's calculations (GSM8K calculator
   annotations ``<<48/2=24>>``, or plain ``12+3=15`` equations, which are annotated first), else a single step
   asking the problem's question, with the final answer.
2. The planner replays every student turn of the dialogue from a fresh state (the recorded tutor turns were not
   the planner's, so they are context only) and plans the reply to the last student turn, or the opening turn
   when the student has not spoken.
3. The backend phrases the plan with the app's prompt (``pedagogy.prompting``); a failure or a silent backend
   leaves no model reply.
4. ``pedagogy.realize.deliver`` checks the model's reply with the guard and falls back to the template.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from models.backends import TutorLLM, TutorLLMError, complete
from models.data import parse_conversation
from pedagogy.answers import normalize_answer
from pedagogy.domain import AnswerType, Problem, Step
from pedagogy.gsm8k import problem_from_gsm8k
from pedagogy.guard import GuardContext
from pedagogy.plan import TurnPlan
from pedagogy.planner import plan_turn
from pedagogy.prompting import DialogueTurn, PromptMode, build_messages
from pedagogy.realize import Delivery, deliver

# What the web app uses for one reply (tutor/consumers.py); replay keeps the same limits.
MAX_NEW_TOKENS = 160
REPLY_TIMEOUT_SECONDS = 45.0
# Small models can only paraphrase the template; fine-tuned or large models realize the plan (as tutor/llm.py).
PROMPT_MODE_BY_BACKEND: dict[str, PromptMode] = {"local": "paraphrase", "openai": "plan", "none": "paraphrase"}

_NUMBER = r"[$\u20ac\u00a3]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)"
# An operand may carry its unit, as solutions often write it: ``200 GB``, ``40%``, ``2 GB/minute``, ``10,000 steps``.
_UNIT_WORDS = r"(?:\s+(?!x\b)[A-Za-z]+(?:/[A-Za-z]+)?){0,3}"
_OPERAND = rf"\(?\s*{_NUMBER}%?{_UNIT_WORDS}\s*\)?"
# ``12 + 3 = 15``, ``$4 x 3 = $12`` or ``200 GB * 40% = 80 GB``: at least one operation, then ``=`` and a number.
_PLAIN_EQUATION_RE = re.compile(
    rf"(?<![\w.<=])(?P<expr>{_OPERAND}(?:\s*[-+*/x\u00d7\u00f7\u2013\u2212]\s*{_OPERAND})+)\s*=\s*(?P<result>{_NUMBER})"
)


class ContextError(ValueError):
    """A replay context that cannot be used; the message says which field and why."""


@dataclass(frozen=True)
class ReplayContext:
    id: str
    problem: str
    answer: str
    solution: str
    dialogue: tuple[DialogueTurn, ...]


@dataclass(frozen=True)
class ReplayedTurn:
    """The system's next turn for one context: the plan, what the model said (if anything) and what was delivered."""

    plan: TurnPlan
    delivery: Delivery
    model_text: str | None
    model_error: str | None
    backend: str
    mode: str

    def to_json(self) -> dict[str, Any]:
        rejections = [{"source": source, "reasons": list(v.reasons)} for source, v in self.delivery.rejections]
        return {
            "text": self.delivery.text,
            "move": self.plan.move,
            "sub_kind": self.plan.sub_kind,
            "reason": self.plan.reason,
            "source": self.delivery.source,
            "backend": self.backend,
            "mode": self.mode,
            "model_text": self.model_text,
            "model_error": self.model_error,
            "guard": {
                # ``ok``: the first candidate (the model's reply, or the template without one) passed.
                "ok": self.delivery.source == "model" or not self.delivery.rejections,
                "source": self.delivery.source,
                "rejections": rejections,
            },
        }


def _text_field(raw: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise ContextError(f"{key}: is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ContextError(f"{key}: must be text")
    text = str(value).strip()
    if required and not text:
        raise ContextError(f"{key}: must not be empty")
    return text


def _dialogue(value: Any) -> tuple[DialogueTurn, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(DialogueTurn(turn.role, turn.text) for turn in parse_conversation(value) if turn.text)
    if not isinstance(value, list):
        raise ContextError("dialogue: must be a list of turns or a MathDial '|EOM|' string")
    turns = []
    for index, turn in enumerate(value):
        if not isinstance(turn, Mapping):
            raise ContextError(f"dialogue[{index}]: must be an object with role and text")
        role = turn.get("role")
        if role not in ("tutor", "student"):
            raise ContextError(f"dialogue[{index}].role: must be 'tutor' or 'student', got {role!r}")
        text = turn.get("text")
        if not isinstance(text, str):
            raise ContextError(f"dialogue[{index}].text: must be text")
        turns.append(DialogueTurn(cast(Literal["tutor", "student"], role), text))
    return tuple(turns)


def parse_context(raw: Any) -> ReplayContext:
    """Validate one decoded input line; raises :class:`ContextError` naming the bad field."""
    if not isinstance(raw, Mapping):
        raise ContextError("a context must be a JSON object")
    return ReplayContext(
        id=_text_field(raw, "id"),
        problem=_text_field(raw, "problem"),
        answer=_text_field(raw, "answer"),
        solution=_text_field(raw, "solution", required=False),
        dialogue=_dialogue(raw.get("dialogue")),
    )


def annotate_plain_equations(solution: str) -> str:
    """Write GSM8K calculator annotations into a solution that states its calculations as ``12+3=15``."""

    def annotate(match: re.Match[str]) -> str:
        expr = match.group("expr").rstrip()
        # A times sign written as the letter x first, then the unit words go: only numbers and operations remain.
        clean = re.sub(r"(?<![A-Za-z])x(?![A-Za-z])", "*", expr)
        clean = re.sub(r"[A-Za-z]+(?:/[A-Za-z]+)?", "", clean)
        clean = re.sub(r"[\s$,\u20ac\u00a3]", "", clean).replace("\u00d7", "*").replace("\u00f7", "/")
        clean = clean.replace("\u2013", "-").replace("\u2212", "-")
        written = match.group("result")
        result = written.lstrip("$")
        dollar = "$" if written.startswith("$") else ""  # GSM8K writes ``= $<<5*2=10>>10``
        return f"{expr} = {dollar}<<{clean}={result.replace(',', '')}>>{result}"

    return _PLAIN_EQUATION_RE.sub(annotate, solution)


def _answer_type(answer: str) -> AnswerType:
    kinds: tuple[AnswerType, ...] = ("number", "expression")
    for kind in kinds:
        if normalize_answer(answer, kind) is not None:
            return kind
    return "text"


def _question_of(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    questions = [sentence for sentence in sentences if sentence.endswith("?")]
    return questions[-1] if questions else "What is the answer to the problem?"


def problem_for(context: ReplayContext) -> Problem:
    """The tutoring problem for a context: steps from the solution's calculations, else one step."""
    answer_type = _answer_type(context.answer)
    if context.solution and answer_type == "number":
        worked = context.solution.split("####")[0]
        if "<<" not in worked:
            worked = annotate_plain_equations(worked)
        record = {"question": context.problem, "answer": f"{worked.rstrip()}\n#### {context.answer}"}
        try:
            problem = problem_from_gsm8k(record, problem_id=context.id)
        except (ValueError, ArithmeticError):  # a calculation the parser cannot read: use the single step
            problem = None
        if problem is not None:
            return problem
    step = Step(id="s1", prompt=_question_of(context.problem), answer=context.answer, answer_type=answer_type)
    return Problem(id=context.id, text=context.problem, answer=context.answer, answer_type=answer_type, steps=(step,))


def plan_for(context: ReplayContext, problem: Problem) -> TurnPlan:
    """Replay the student turns through the planner; the plan of the last one is the turn to phrase."""
    seed = zlib.crc32(context.id.encode())
    plan, state = plan_turn(problem, None, None, rng_seed=seed)
    for turn in context.dialogue:
        if turn.role == "student":
            plan, state = plan_turn(problem, state, turn.text, rng_seed=seed)
    return plan


async def phrase(
    llm: TutorLLM,
    messages: Sequence[Mapping[str, str]],
    *,
    max_new_tokens: int = MAX_NEW_TOKENS,
    temperature: float = 0.0,
    timeout: float = REPLY_TIMEOUT_SECONDS,
) -> tuple[str | None, str | None]:
    """The model's whole reply (None when it failed or said nothing) and the failure, if any."""
    if llm.name == "none":
        return None, None
    try:
        async with asyncio.timeout(timeout):
            text = await complete(llm, messages, max_new_tokens=max_new_tokens, temperature=temperature)
    except (TutorLLMError, TimeoutError) as exc:
        return None, str(exc) or type(exc).__name__
    return text.strip() or None, None


async def replay(
    context: ReplayContext,
    llm: TutorLLM,
    *,
    mode: PromptMode = "paraphrase",
    max_new_tokens: int = MAX_NEW_TOKENS,
    temperature: float = 0.0,
    timeout: float = REPLY_TIMEOUT_SECONDS,
) -> ReplayedTurn:
    """The system's next tutor turn for ``context``."""
    problem = problem_for(context)
    plan = plan_for(context, problem)
    guard_context = GuardContext(problem_text=context.problem, dialogue=tuple(turn.text for turn in context.dialogue))
    messages = build_messages(plan, context.dialogue, problem_text=context.problem, mode=mode)
    model_text, error = await phrase(
        llm, messages, max_new_tokens=max_new_tokens, temperature=temperature, timeout=timeout
    )
    previous = next((turn.text for turn in reversed(context.dialogue) if turn.role == "tutor"), None)
    delivery = deliver(model_text, plan, guard_context, previous=previous)
    return ReplayedTurn(plan, delivery, model_text, error, llm.name, mode)
