"""The template realizer: natural, varied wording for every plan, with no model at all.

Wording is chosen with a ``random.Random`` seeded from the plan, so the same plan always reads the same (tests and
transcripts are reproducible) while consecutive turns vary. Templates carry no numbers of their own: every number in
a realization comes from the plan (authored text or the student's own value), which is what the guard allows.

``deliver`` is the last step of a turn: the model's reply if the guard passes it, else this realization, else a
minimal reply that cannot fail the guard.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pedagogy.guard import GuardContext, GuardVerdict, check_reply
from pedagogy.plan import TurnPlan

_ACK: dict[str, tuple[str, ...]] = {
    "frustration": (
        "I can tell this is frustrating, and that's okay.",
        "This is a tough step, and being stuck is part of learning it.",
        "Hang in there; hard problems feel like this before they click.",
    ),
    "answer_request": (
        "I won't hand you the answer, but I'll help you get there yourself.",
        "Giving you the answer wouldn't help you learn it, so let's find it together.",
        "I can't just tell you, but you're closer than you think.",
    ),
    "rule_change": (
        "I'm here to help you work it out yourself, and that doesn't change.",
        "Nice try! My job is still to help you solve it on your own.",
        "I'll stick to helping you think it through.",
    ),
    "greeting": ("Hi there!", "Hello!", "Hey, good to see you!"),
    "thanks": ("You're welcome!", "Happy to help!", "Any time!"),
    "off_task": (
        "Let's save that for later and get back to the problem.",
        "Interesting! For now, let's focus on the math.",
        "Let's bring our attention back to the problem.",
    ),
    "explanation": (
        "Thanks for explaining your thinking.",
        "I see how you were thinking about it.",
        "Thanks, that helps me see your approach.",
    ),
}

_BODY: dict[str, tuple[str, ...]] = {
    "greet": ("Let's work through this problem together.", "Let's take this step by step.", "Ready? Let's start."),
    "ask": ("Let's look at this step.", "Here's the question to think about.", "Take it step by step."),
    "confirm": (
        "Yes, {value} is right.",
        "That's it: {value}.",
        "Exactly, {value}. Nice work.",
        "Correct, {value}!",
    ),
    "hint": ("Here's a hint: {hint}", "Something that might help: {hint}", "Think about this: {hint}"),
    "scaffold_question": (
        "Let's try a smaller question first.",
        "Let's break it into a smaller piece.",
        "Let's make it simpler for a moment.",
    ),
    "explain_concept": ("Good question. {concept}", "{concept}", "Here's what that means: {concept}"),
    "redirect": ("", "Let's keep going with the problem.", "Back to our problem."),
    "probe": (
        "You said {value}. Can you walk me through how you got it?",
        "How did you get {value}? Tell me the steps you took.",
        "Interesting, {value}. What did you do to get there?",
    ),
    "probe_no_value": (
        "What do you already know from the problem that could help with this step?",
        "Which quantities from the problem does this step use, and what would you do with them?",
        "Let's reason it through: what information in the problem matters for this step?",
    ),
    "misconception_feedback": ("{feedback}", "Let's check something. {feedback}", "Hmm, look again. {feedback}"),
    "tell_step": (
        "Let me show you this step: {told}",
        "Here's how this step works: {told}",
        "Let's walk through this step together: {told}",
    ),
    "encourage": (
        "You're doing fine: mistakes are how we learn.",
        "Don't worry, we'll figure it out together.",
        "You've got this; let's slow down.",
    ),
    "wrap_up": (
        "Well done, {value} is right and you've solved the problem!",
        "You solved it: {value}. Great persistence!",
        "That's right, {value}! You worked it out yourself.",
    ),
    "close": (
        "You've already finished this problem. Nice work!",
        "This problem is done. Great job today!",
        "All done here. Well worked!",
    ),
}

_ASK_AGAIN = ("Try again: {question}", "{question}", "So, {question}")
_NEXT = ("Next: {question}", "Now, {question}", "Here's the next question: {question}")
_SMALLER = ("{question}", "Try this: {question}", "Here it is: {question}")
_REFLECT = (
    "Looking back, which step was the key step for you?",
    "What would you do the same way on a problem like this next time?",
    "Which part of the problem took the most thinking, and why?",
)
_REMEMBER = ("The question is: {question}", "Here it is again: {question}", "Remember, {question}")
_FIRST_TRY = (
    "Where would you start?",
    "What would you try first?",
    "What could you work out first?",
)


def _question(text: str) -> str:
    """Make sure an authored prompt reads as a question."""
    q = text.strip()
    return q if "?" in q else f"{q} What do you get?"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def realize(plan: TurnPlan, *, seed: int | None = None) -> str:
    """Phrase a plan from templates."""
    rng = random.Random(plan.seed if seed is None else seed)
    parts: list[str] = []
    if plan.acknowledge:
        parts.append(rng.choice(_ACK[plan.acknowledge]))
    kind = plan.sub_kind
    kind_key = "probe_no_value" if kind == "probe" and not plan.student_value else kind
    slots = {
        "value": plan.student_value or "",
        "hint": plan.hint or "",
        "feedback": plan.feedback or "",
        "told": plan.told or "",
        "concept": plan.concept or "",
    }
    body = rng.choice(_BODY[kind_key]).format(**slots).strip()
    if body:
        parts.append(body)
    question = _question(plan.question) if plan.question else None
    if kind == "wrap_up":
        parts.append(rng.choice(_REFLECT))
    elif kind == "probe" and plan.feedback:
        # The value answers an earlier question: say so, then ask which quantity this step wants.
        parts[-1] = f"{plan.feedback} Which quantity is this step asking for?"
        if question:
            parts.append(_fill(rng.choice(_ASK_AGAIN), question))
    elif kind == "probe" and not plan.student_value and question:
        parts.append(_fill(rng.choice(_REMEMBER), question))
    elif kind == "probe":
        pass
    elif kind == "encourage":
        parts.append(_fill(rng.choice(_ASK_AGAIN), question) if question else rng.choice(_FIRST_TRY))
    elif question and kind in ("confirm", "tell_step"):
        parts.append(_fill(rng.choice(_NEXT), question))
    elif question and kind == "scaffold_question":
        parts.append(_fill(rng.choice(_SMALLER), question))
    elif question and kind == "greet":
        parts.append(question)
    elif question:
        parts.append(_fill(rng.choice(_ASK_AGAIN), question))
    return " ".join(p for p in parts if p)


def _fill(template: str, question: str) -> str:
    if template.startswith("{question}"):
        return template.format(question=question)
    return template.format(question=_lower_first(question))


def safe_reply(plan: TurnPlan) -> str:
    """A reply with no numbers and no authored text, which no guard rule can reject."""
    if not plan.asks_question:
        return "Nice work on this problem."
    if plan.sub_kind == "wrap_up":
        return "Well done, you solved it! Which step was the key step for you?"
    return "Let's look at this step again together. What would you try first?"


@dataclass(frozen=True)
class Delivery:
    """The reply a student sees, where it came from, and every guard rejection on the way."""

    text: str
    source: str  # "model", "template" or "fallback"
    rejections: tuple[tuple[str, GuardVerdict], ...] = ()


def deliver(model_reply: str | None, plan: TurnPlan, context: GuardContext) -> Delivery:
    """The model's reply if it passes the guard, else the template realization, else the minimal safe reply."""
    rejections: list[tuple[str, GuardVerdict]] = []
    for source, text in (("model", model_reply), ("template", None)):
        if source == "template":
            text = realize(plan)
        if text is None:
            continue
        verdict = check_reply(text, plan, context, phrased=source == "model")
        if verdict.ok:
            return Delivery(text, source, tuple(rejections))
        rejections.append((source, verdict))
    return Delivery(safe_reply(plan), "fallback", tuple(rejections))
