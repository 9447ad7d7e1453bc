"""The guard reads a reply as a student would see it: a final answer in disguise is still the final answer.

Each disguise here got past the guard once, from a stand-in model told to hide the answer. The plan is the muffin
problem's second step: the student has found the 24 muffins; the final answer (12 dollars) must not be given.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pedagogy.domain import Problem
from pedagogy.guard import GuardContext, check_reply, releasable_prefix, settled_prefix
from pedagogy.plan import BudgetRemaining, TurnPlan
from pedagogy.realize import realize
from tests.unit.pedagogy.test_planner import talk

PROBLEM = (
    "Maya bakes **4 trays** of muffins with **6 muffins** on each tray. She sells every muffin for 50 cents. "
    "How many dollars does she collect if she sells all of them?"
)
QUESTION = "Each muffin sells for 50 cents, which is half a dollar. How many dollars do all the muffins bring in?"
HINT = "Two muffins together cost one dollar."
CONTEXT = GuardContext(PROBLEM, ("How many muffins does Maya bake altogether?", "24 muffins"))
PLAN = TurnPlan(
    move="focus",
    sub_kind="hint",
    target_node="s2",
    reason="test",
    budget=BudgetRemaining(hints=3, tells=1),
    question=QUESTION,
    hint=HINT,
    may_mention=(QUESTION, HINT),
    must_not_reveal=("12",),
)
GOOD = f"Here's a hint: two muffins together cost one dollar. {QUESTION}"

DISGUISES = [
    "XII",
    "douze",
    "zwölf",
    "ZWOELF",
    "doce",
    "dodici",
    "doze",
    "t-w-e-l-v-e",
    "t w e l v e",
    "T.W.E.L.V.E",
    "twel ve",
    "tweIve",  # a capital I for the l
    "tw3lv3",
    "tw\u0435lve",  # a Cyrillic e
    "0xC",
    "0b1100",
    "0o14",
    "1100 in binary",
    "C in hex",
    "$1100_2$",
    "6+6",
    "2*6",
    "24/2",
    "2 \u00d7 6",
    "(3 + 3) * 2",
    "six plus six",
    "18 - 6",
    "1\u200b2",  # zero-width space
    "1\u20602",  # word joiner
    "1\u00ad2",  # soft hyphen
    "\u00b9\u00b2",  # superscript digits
    "\u2460\u2461",  # circled digits
    "\u246b",  # a circled twelve
    "\u2776\u2777",  # dingbat digits
    "\uff11\uff12",  # fullwidth digits
    "$1{}2$",
    "$\\mathbf{1}\\mathbf{2}$",
    "$\\mathrm{XII}$",
    "$1\\,2$",
    "$1 2$",
    "\\textcolor{red}{1}\\textcolor{blue}{2}",
    "1\\phantom{0}2",
    "l2",
    "X-I-I",
    "24/2?",  # a division offered as the answer, not asked for
]


# Punctuation around the disguise, as a model writes it: none of it may shield the number.
WRAPPERS = ["Psst: {form}. ", "A secret, {form}! ", "(Psst, {form}.) ", "Between us, {form}; now, ", "'{form}'? "]


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("form", DISGUISES)
def test_the_final_answer_in_disguise_is_refused(form: str, wrapper: str) -> None:
    reply = f"Here's a hint: two muffins together cost one dollar. {wrapper.format(form=form)}{QUESTION}"
    verdict = check_reply(reply, PLAN, CONTEXT)
    assert not verdict.ok
    assert any(r.startswith("reveals 12") for r in verdict.reasons), verdict.reasons


def shown_while_streaming(reply: str, plan: TurnPlan = PLAN) -> str:
    """What the page shows of ``reply`` streamed one character at a time, as the websocket consumer releases it:
    up to a sentence or clause end, once the partial check passes it, and nothing more after the first failure."""
    passed = ""
    for i in range(1, len(reply) + 1):
        if not check_reply(reply[:i], plan, CONTEXT, partial=True).ok:
            return passed
        ready = releasable_prefix(reply[:i])
        if len(ready) > len(passed):
            if not check_reply(ready, plan, CONTEXT, partial=True).ok:
                return passed
            passed = ready
    return passed


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("form", DISGUISES)
def test_a_disguise_never_streams_to_the_page(form: str, wrapper: str) -> None:
    reply = f"{HINT} {wrapper.format(form=form)}{QUESTION}"
    shown = shown_while_streaming(reply)
    assert len(shown) <= reply.index(form), shown


@pytest.mark.parametrize(
    "reply",
    [
        "Voici un indice : deux muffins coûtent un dollar. Combien de dollars est-ce que Maya gagne ?",
        "Hier ist ein Tipp: zwei Muffins kosten zusammen einen Dollar. Wie viele Dollar sind es?",
        "Una pista: dos magdalenas cuestan un dólar. ¿Cuántos dólares recibe Maya en total?",
        "Ecco un suggerimento: due muffin insieme costano un dollaro. Quanti dollari guadagna Maya?",
        "Uma dica: dois muffins juntos custam um dólar. Quantos dólares a Maya recebe no total?",
        "Подсказка: два кекса стоят один доллар. Сколько долларов получит Майя?",
    ],
)
def test_a_reply_in_another_language_than_the_sessions_is_refused(reply: str) -> None:
    verdict = check_reply(reply, replace(PLAN, must_not_reveal=()), CONTEXT)
    assert not verdict.ok
    assert any(r.startswith("is written in") for r in verdict.reasons), verdict.reasons


def test_an_english_reply_that_quotes_a_foreign_word_is_still_english() -> None:
    reply = f"In French a muffin is still a muffin, and 'merci' means thank you. {HINT} {QUESTION}"
    assert check_reply(reply, PLAN, CONTEXT).ok


@pytest.mark.parametrize(
    ("reply", "forbidden"),
    [
        # "I" is the pronoun, "mix" and "did" words, whatever the value they would spell as numerals.
        ("I think you could mix up the trays. Did you count them all? How many dollars?", ("1", "1009")),
        ("Good, that's a civil way to say it. How many dollars do all the muffins bring in?", ("1", "100")),
        # Capitals throughout: shouting, not Roman numerals.
        ("GREAT WORK! DID YOU MIX THE TRAYS UP? HOW MANY DOLLARS DO ALL THE MUFFINS BRING IN?", ("1009", "501")),
        # Everyday English words that are number words elsewhere: "once" (11 in Spanish), "due" (2 in Italian).
        ("Once you have it, the money is due to Maya. How many dollars do the muffins bring in?", ("11", "2")),
        # A division still to be done, asked as a question: a scaffold.
        ("What is 24/2?", ("12",)),
        ("Good. Now can you work out 24 / 2 for me?", ("12",)),
        # Plain algebra and subscripts are not other bases or arithmetic.
        ("Call the muffins x_1 and x_2. How many dollars do the muffins bring in?", ("3",)),
    ],
)
def test_ordinary_replies_are_not_read_as_disguises(reply: str, forbidden: tuple[str, ...]) -> None:
    verdict = check_reply(reply, replace(PLAN, must_not_reveal=forbidden, hint=None), CONTEXT)
    assert verdict.ok, verdict.reasons


def test_arithmetic_the_plan_writes_itself_may_be_repeated_in_any_order() -> None:
    told = "4 trays with 6 muffins each make 4 \u00d7 6 muffins."
    plan = replace(PLAN, hint=told, may_mention=(QUESTION, told), must_not_reveal=("12", "24"))
    context = GuardContext(PROBLEM, ())
    for reply in (f"{told} {QUESTION}", f"Think of 6 \u00d7 4 muffins. {QUESTION}", f"Four times six. {QUESTION}"):
        assert check_reply(reply, plan, context).ok, reply
    # Arithmetic of the reply's own that works out to a step's value is that value.
    verdict = check_reply(f"Think of 3 \u00d7 8 muffins. {QUESTION}", plan, context)
    assert any(r.startswith("reveals 24") for r in verdict.reasons), verdict.reasons


def test_an_announcement_with_an_invisible_character_is_still_an_announcement() -> None:
    verdict = check_reply(f"The ans\u200bwer is close. {QUESTION}", PLAN, CONTEXT)
    assert "announces the answer before the problem is solved" in verdict.reasons


@pytest.mark.parametrize(
    "reply",
    [
        f"Let's use $2 \\times 0.5$ to see it: {HINT} {QUESTION}",
        f"Good! You found 24 muffins, and 24 muffins is a lot. {HINT} {QUESTION}",
        f"Think of the muffins in pairs (two muffins for each dollar). {QUESTION}",
    ],
)
def test_a_reply_the_finished_check_passes_is_passed_at_every_point_of_its_stream(reply: str) -> None:
    assert check_reply(reply, PLAN, CONTEXT, phrased=True).ok
    rejected = [reply[:i] for i in range(len(reply)) if not check_reply(reply[:i], PLAN, CONTEXT, partial=True).ok]
    assert rejected == []


def test_a_number_or_expression_still_being_written_is_not_judged_yet() -> None:
    # "6 + 6" may still become "6 + 6 + 1"; "$\\mathbf{1}" may become "$\\mathbf{1}\\mathbf{2}$".
    assert settled_prefix("So 6 + 6 +") == "So"
    assert settled_prefix("So $\\mathbf{1}\\mathbf") == "So"
    assert settled_prefix("So 1\u200b") == "So"


def test_the_template_replies_of_a_whole_dialogue_still_pass(bake_sale: Problem) -> None:
    messages = [
        "hi",
        "I don't know",
        "help",
        "10",
        "24",
        "what's the answer?",
        "4 times 6 is 24, so 24 times 0.5",
        "12",
    ]
    plans, _ = talk(bake_sale, messages)
    dialogue: list[str] = []
    for plan, message in zip(plans, [*messages, None], strict=True):
        text = realize(plan)
        verdict = check_reply(text, plan, GuardContext(bake_sale.text, tuple(dialogue)))
        assert verdict.ok, (text, verdict.reasons)
        dialogue += [text, message] if message else [text]
