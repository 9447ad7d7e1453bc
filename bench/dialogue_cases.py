"""Our own dialogue cases: one short script for each way a tutor can misread a student.

Each case opens a problem, sends the student's messages through the planner and the template realizer (exactly as the
web app does with no model), and checks what the tutor did with the last message (or with all of them). The unit
tests run the same cases (``tests/unit/pedagogy/test_dialogue_cases.py``), so a regression fails the suite too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pedagogy.domain import Problem
from pedagogy.guard import GuardContext
from pedagogy.plan import HintBudget, TurnPlan
from pedagogy.planner import plan_turn
from pedagogy.realize import deliver

Turn = tuple[TurnPlan, str]  # a plan and the text the student saw
Check = Callable[[list[Turn]], str | None]  # None when the check holds, else what went wrong

PENCIL_BOXES: dict[str, Any] = {
    "slug": "pencil-boxes",
    "text": "Meg has 46 pencils and buys 26 more. She puts them equally into 3 boxes. "
    "How many pencils are in each box?",
    "answer": "24",
    "skills": ["arith.add", "arith.divide"],
    "steps": [
        {
            "id": "all",
            "prompt": "How many pencils does Meg have after buying more?",
            "answer": "72",
            "skills": ["arith.add"],
            "hints": [{"kind": "hint", "text": "Put the pencils she had and the pencils she bought together."}],
        },
        {
            "id": "each",
            "prompt": "How many pencils go in each box?",
            "answer": "24",
            "skills": ["arith.divide"],
            "hints": [{"kind": "hint", "text": "Share all the pencils equally among the boxes."}],
        },
    ],
}
STICKERS: dict[str, Any] = {
    "slug": "sticker-share",
    "text": "Sam buys 3 packs of 8 stickers. He gives 4 stickers to a friend and shares the rest equally with his "
    "brother. How many stickers does each of them get?",
    "answer": "10",
    "skills": ["arith.multiply", "arith.subtract", "arith.divide"],
    "steps": [
        {"id": "bought", "prompt": "How many stickers does Sam buy?", "answer": "24", "skills": ["arith.multiply"]},
        {
            "id": "kept",
            "prompt": "How many are left after he gives 4 away?",
            "answer": "20",
            "skills": ["arith.subtract"],
        },
        {"id": "each", "prompt": "How many does each of them get?", "answer": "10", "skills": ["arith.divide"]},
    ],
}
SAVING: dict[str, Any] = {
    "slug": "saving-weeks",
    "text": "Lena saves $6 each week. How many weeks does she need to save $42?",
    "answer": "7",
    "unit": "weeks",
    "skills": ["arith.divide"],
    "steps": [{"id": "weeks", "prompt": "How many weeks does Lena need?", "answer": "7", "skills": ["arith.divide"]}],
}
COOKIES: dict[str, Any] = {
    "slug": "cookie-trays",
    "text": "Maya bakes 4 trays of 6 cookies and sells each cookie for 50 cents. How much money does she make?",
    "answer": "12",
    "unit": "dollars",
    "skills": ["arith.multiply", "money.decimals"],
    "steps": [
        {
            "id": "cookies",
            "prompt": "How many cookies does Maya bake?",
            "answer": "24",
            "skills": ["arith.multiply"],
            "hints": [
                {"kind": "hint", "text": "Each tray holds the same number of cookies."},
                {"kind": "scaffold", "text": "What is 4 groups of 6?", "answer": "24"},
                {"kind": "bottom_out", "text": "4 trays times 6 cookies is 24 cookies."},
            ],
        },
        {"id": "money", "prompt": "How much money does Maya make?", "answer": "12", "skills": ["money.decimals"]},
    ],
}
HALF_RECIPE: dict[str, Any] = {
    "slug": "half-recipe",
    "text": "A recipe needs 3/4 cup of sugar. How much sugar is in half the recipe?",
    "answer": "3/8",
    "answer_type": "expression",
    "skills": ["fractions.multiply"],
    "steps": [
        {
            "id": "half",
            "prompt": "How much sugar does half the recipe need?",
            "answer": "3/8",
            "answer_type": "expression",
            "skills": ["fractions.multiply"],
        }
    ],
}
READING_DAYS: dict[str, Any] = {
    "slug": "reading-days",
    "text": "Zoe read 12 pages on Monday, 9 on Tuesday and 7 on Wednesday. On which day did she read the most?",
    "answer": "Monday",
    "answer_type": "text",
    "skills": ["data.compare"],
    "steps": [
        {
            "id": "most",
            "prompt": "On which day did Zoe read the most?",
            "answer": "Monday",
            "answer_type": "text",
            "skills": ["data.compare"],
        }
    ],
}
THINK_OF_A_NUMBER: dict[str, Any] = {
    "slug": "think-of-a-number",
    "text": "Ana thinks of a number. She multiplies it by 4 and then adds 7. Her result is 43. What is her number?",
    "answer": "9",
    "skills": ["algebra.write-equation", "algebra.solve-linear"],
    "steps": [
        {
            "id": "equation",
            "prompt": "Call Ana's number n. Write an equation that says what she did.",
            "answer": "4n + 7 = 43",
            "answer_type": "equation",
            "skills": ["algebra.write-equation"],
        },
        {"id": "undo", "prompt": "What is 4n equal to once you undo the adding?", "answer": "36"},
        {"id": "number", "prompt": "So what number did Ana think of?", "answer": "9"},
    ],
}


@dataclass(frozen=True)
class Case:
    name: str
    failure: str  # the way of misreading this case guards against
    problem: dict[str, Any]
    messages: tuple[str, ...]
    checks: tuple[Check, ...]
    budget: HintBudget = field(default_factory=HintBudget)


def talk(case: Case) -> list[Turn]:
    """Open the problem and send every message; returns each plan with the text the student saw (opening first)."""
    problem = Problem.from_dict(case.problem)
    plan, state = plan_turn(problem, None, None, budget=case.budget, rng_seed=11)
    dialogue: list[str] = []
    text = deliver(None, plan, GuardContext(problem.text, ())).text
    turns: list[Turn] = [(plan, text)]
    for message in case.messages:
        previous = text
        dialogue += [text, message]
        plan, state = plan_turn(problem, state, message, budget=case.budget, rng_seed=11)
        text = deliver(None, plan, GuardContext(problem.text, tuple(dialogue)), previous=previous).text
        turns.append((plan, text))
    return turns


def run_case(case: Case) -> list[str]:
    """What went wrong in a case; an empty list when every check holds. Repeats are always checked."""
    turns = talk(case)
    failures = [f for check in case.checks if (f := check(turns)) is not None]
    for (_, before), (_, after) in itertools.pairwise(turns):
        if _same(before, after):
            failures.append(f"repeated tutor text: {after!r}")
    return failures


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


# -- checks ----------------------------------------------------------------------------------------------------------


def last_kind(*kinds: str) -> Check:
    def check(turns: list[Turn]) -> str | None:
        plan = turns[-1][0]
        return None if plan.sub_kind in kinds else f"last move was {plan.sub_kind}, wanted {' or '.join(kinds)}"

    return check


def never_kind(*kinds: str) -> Check:
    def check(turns: list[Turn]) -> str | None:
        bad = [plan.sub_kind for plan, _ in turns[1:] if plan.sub_kind in kinds]
        return f"made a {bad[0]} move" if bad else None

    return check


def last_text_has(*pieces: str) -> Check:
    def check(turns: list[Turn]) -> str | None:
        text = turns[-1][1]
        missing = [p for p in pieces if p not in text]
        return f"reply {text!r} lacks {missing}" if missing else None

    return check


def last_claim(claim: str) -> Check:
    def check(turns: list[Turn]) -> str | None:
        plan = turns[-1][0]
        return None if plan.claim == claim else f"pointed at {plan.claim!r}, wanted {claim!r}"

    return check


def last_target(node: str) -> Check:
    def check(turns: list[Turn]) -> str | None:
        plan = turns[-1][0]
        return None if plan.target_node == node else f"targets {plan.target_node}, wanted {node}"

    return check


def not_solved() -> Check:
    def check(turns: list[Turn]) -> str | None:
        return "said the problem is solved" if turns[-1][0].solved else None

    return check


def no_algebra_in_replies() -> Check:
    def check(turns: list[Turn]) -> str | None:
        for _, text in turns:
            if re.search(r"[a-z]\*[a-z]|\*\*\d", text):
                return f"prose read as algebra: {text!r}"
        return None

    return check


def distinct_texts(count: int) -> Check:
    def check(turns: list[Turn]) -> str | None:
        texts = {text for _, text in turns[-count:]}
        return None if len(texts) == count else f"{len(texts)} different texts over the last {count} replies"

    return check


def honest_counter() -> Check:
    """The hints left go down by one exactly when a hint's content was given, and never otherwise."""

    def check(turns: list[Turn]) -> str | None:
        for (before, _), (after, _) in itertools.pairwise(turns):
            if before.budget.hints is None or after.budget.hints is None:
                continue
            spent = before.budget.hints - after.budget.hints
            content = after.hint or after.example or (after.sub_kind == "scaffold_question" and after.question)
            if spent != int(after.hint_spent) or (after.hint_spent and not content):
                return f"counter {before.budget.hints}->{after.budget.hints} on a {after.sub_kind} turn"
        return None

    return check


def no_question_after_solve() -> Check:
    def check(turns: list[Turn]) -> str | None:
        solved_at = next((i for i, (plan, _) in enumerate(turns) if plan.solved), None)
        if solved_at is None:
            return "never solved"
        for plan, text in turns[solved_at + 1 :]:
            if plan.question or plan.asks_question:
                return f"asked again after the solve: {text!r}"
        return None

    return check


def no_hint_spent() -> Check:
    def check(turns: list[Turn]) -> str | None:
        return "charged a hint" if turns[-1][0].hint_spent else None

    return check


CASES: tuple[Case, ...] = (
    Case(
        "long explanation with the slip in the last step",
        "whole-message reading",
        STICKERS,
        ("Sam buys 3 x 8 = 24 stickers. He gives 4 away so 24 - 4 = 20. Then 20 / 2 = 12 each.",),
        (last_kind("point_at_mistake"), last_claim("20 / 2 = 12"), last_target("each"), not_solved()),
    ),
    Case(
        "every step shown, one wrong operation",
        "probe after shown work",
        STICKERS,
        ("I did 3 + 8 = 11 stickers, then 11 - 4 = 7, and 7 / 2 = 3.5",),
        (never_kind("probe"), last_kind("point_at_mistake", "misconception_feedback"), last_claim("3 + 8 = 11")),
    ),
    Case(
        "a slip whose result is another step's value",
        "false confirmation",
        PENCIL_BOXES,
        ("70 divided by 3 is equal to 24, so each box can store 24",),
        (never_kind("confirm", "wrap_up"), last_kind("point_at_mistake"), not_solved()),
    ),
    Case(
        "a value the student says is not the answer",
        "false confirmation",
        SAVING,
        ("7 weeks? no wait, not 7 weeks, it's less than that",),
        (never_kind("confirm", "wrap_up"), not_solved()),
    ),
    Case(
        "a list of guesses",
        "false confirmation",
        PENCIL_BOXES,
        ("23, 24, 25",),
        (never_kind("confirm", "wrap_up"), last_kind("probe"), not_solved()),
    ),
    Case(
        "a number copied from the problem",
        "given probed as wrong",
        PENCIL_BOXES,
        ("Meg has 46 pencils",),
        (never_kind("probe", "point_at_mistake", "misconception_feedback"),),
    ),
    Case(
        "a fraction calculation in words",
        "prose parsed as algebra",
        HALF_RECIPE,
        ("3/4 divided by 2 is 1.5/4",),
        (no_algebra_in_replies(), last_kind("wrap_up", "confirm")),
    ),
    Case(
        "a text answer with its reason",
        "prose parsed as algebra",
        READING_DAYS,
        ("Monday because 12 is the biggest",),
        (no_algebra_in_replies(), last_kind("wrap_up")),
    ),
    Case(
        "one side of the equation",
        "partial answer ignored",
        THINK_OF_A_NUMBER,
        ("4n+7",),
        (last_kind("almost"),),
    ),
    Case(
        "hint pressed five times at one step",
        "loops",
        COOKIES,
        ("hint", "hint", "hint", "hint", "hint"),
        (distinct_texts(5), honest_counter(), never_kind("probe")),
    ),
    Case(
        "hint pressed after the hint budget is spent",
        "loops",
        COOKIES,
        ("hint", "hint", "hint"),
        (distinct_texts(3), honest_counter(), never_kind("probe")),
        HintBudget(hints_per_problem=1),
    ),
    Case(
        "why do we subtract",
        "concept question charged as a hint",
        STICKERS,
        ("24", "why do we subtract?"),
        (last_kind("explain_concept"), no_hint_spent()),
    ),
    Case(
        "the final answer in words, then a reflection",
        "asking again after the solve",
        THINK_OF_A_NUMBER,
        ("I think it's nine", "The hardest part was writing the equation", "thanks"),
        (no_question_after_solve(), last_kind("close")),
    ),
    Case(
        "a reflection is acknowledged",
        "reflection answered with all done",
        THINK_OF_A_NUMBER,
        ("9", "undoing the adding first was the key"),
        (last_kind("acknowledge_reflection"),),
    ),
    Case(
        "steps done right stay done",
        "state lost across turns",
        STICKERS,
        ("3 x 8 = 24", "24 - 4 = 20", "20 / 2 = 10"),
        (last_kind("wrap_up"),),
    ),
    Case(
        "the answer reached, then a step too many",
        "false confirmation",
        STICKERS,
        ("3 x 8 = 24, 24 - 4 = 20, 20 / 2 = 10, and then 10 / 2 = 5 each",),
        # The last step is pointed at without its numbers: "10 / 2 = 5" would say the unsolved final answer.
        (last_kind("point_at_mistake"), last_target("each"), not_solved()),
    ),
    Case(
        "a number the student wrote in an earlier message",
        "state lost across turns",
        PENCIL_BOXES,
        ("46 + 26 = 70", "oops, 70 + 2 = 72 so 72 / 3 = 24"),
        (last_kind("wrap_up"),),
    ),
    Case(
        "right steps credited, the slip pointed at",
        "whole-message reading",
        PENCIL_BOXES,
        ("46 + 26 = 72 and 72 / 3 = 25",),
        (last_kind("point_at_mistake"), last_claim("72 / 3 = 25"), last_text_has("72")),
    ),
)
