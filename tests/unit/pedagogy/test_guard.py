from __future__ import annotations

from dataclasses import replace

import pytest

from pedagogy.domain import Problem
from pedagogy.guard import GuardContext, check_reply, releasable_prefix, revealed_values
from pedagogy.plan import BudgetRemaining, TurnPlan
from pedagogy.realize import realize

PROBLEM = "Maya bakes 4 trays of 6 cookies and sells each cookie for $0.50. How much money does she make?"
CONTEXT = GuardContext(PROBLEM, ("Hi! How many cookies does Maya bake?", "10"))


def plan_for(*secret: str, asks_question: bool = True, solved: bool = False, max_chars: int = 700) -> TurnPlan:
    return TurnPlan(
        move="focus",
        sub_kind="hint",
        target_node="cookies",
        reason="test",
        budget=BudgetRemaining(hints=3, tells=1),
        question="How many cookies does Maya bake?",
        hint="Each tray holds the same number of cookies.",
        must_not_reveal=secret,
        asks_question=asks_question,
        solved=solved,
        max_chars=max_chars,
    )


def test_a_reply_that_follows_the_plan_passes() -> None:
    reply = "Here's a hint: each tray holds the same number of cookies. How many cookies does Maya bake?"
    assert check_reply(reply, plan_for("24", "12"), CONTEXT).ok


@pytest.mark.parametrize(
    "reply",
    [
        "It's 24, right? What do you think?",
        "Is it twenty-four? Check!",
        "Is it twenty four cookies?",
        "Think $4 \\times 6 = 24$. Does that help?",
        "So x=24 here?",
        "That gives 24.0 cookies, see?",
        "Maybe 24cookies?",
        "The digits are 2, 4. Got it?",
        "Write two four. Got it?",
        "About 24 million cookies?",
        "Roughly 24 and a half?",
    ],
)
def test_it_rejects_a_forbidden_value_in_any_surface_form(reply: str) -> None:
    verdict = check_reply(reply, plan_for("24"), CONTEXT)
    assert not verdict.ok
    assert any(r.startswith("reveals 24") for r in verdict.reasons)


@pytest.mark.parametrize(
    "reply",
    [
        "Half a dollar each, so what is 1/2 of the trays?",
        "Each is 0.5 of a tray?",
        "Think of 50% of it?",
        "Look at \\frac{2}{4} of the trays?",
        "Is it one half?",
    ],
)
def test_it_rejects_an_equivalent_fraction_decimal_or_percentage(reply: str) -> None:
    context = GuardContext("A pie is cut into parts. What fraction is left?", ())
    verdict = check_reply(reply, plan_for("0.5"), context)
    assert any(r.startswith("reveals 0.5") for r in verdict.reasons), verdict.reasons


def test_a_division_still_to_be_done_does_not_reveal_its_result() -> None:
    context = GuardContext("Natalia sold 48 clips in April and half as many in May.", ())
    assert check_reply("What is 48/2?", plan_for("24"), context).ok


def test_the_parts_of_a_fraction_are_numbers_too() -> None:
    context = GuardContext("The family had 24 bites, shared between them.", ())
    assert not check_reply("The family had 24/2 bites each?", plan_for("2"), context).ok


@pytest.mark.parametrize("reply", ["Remember the 37 apples?", "There are thirty-seven trays?"])
def test_it_rejects_a_number_that_appears_nowhere(reply: str) -> None:
    verdict = check_reply(reply, plan_for("24"), CONTEXT)
    assert any("appears nowhere" in r for r in verdict.reasons)


def test_numbers_from_the_problem_the_dialogue_and_the_plan_are_allowed() -> None:
    reply = "There are 4 trays with 6 cookies each, and you said 10. Each cookie sells for $0.50. Why 10?"
    assert check_reply(reply, plan_for("24"), CONTEXT).ok


def test_it_rejects_announcing_the_answer_before_the_problem_is_solved() -> None:
    verdict = check_reply("The answer is what you get when you multiply. Try it?", plan_for("24"), CONTEXT)
    assert "announces the answer before the problem is solved" in verdict.reasons
    after = GuardContext(PROBLEM, ("How much money does she make?", "12"))
    assert check_reply("The answer is 12, well done! What helped?", plan_for(solved=True), after).ok


def test_it_requires_a_question_when_the_move_asks_one() -> None:
    assert not check_reply("Each tray holds the same number of cookies.", plan_for("24"), CONTEXT).ok
    assert check_reply("Nice work today.", plan_for(asks_question=False), CONTEXT).ok


def test_it_bounds_the_length_of_a_reply() -> None:
    verdict = check_reply("Why? " * 50, plan_for("24", max_chars=100), CONTEXT)
    assert any("longer than" in r for r in verdict.reasons)


def test_an_empty_reply_fails() -> None:
    assert not check_reply("   ", plan_for("24"), CONTEXT).ok


def test_it_lists_every_reason_a_reply_fails() -> None:
    verdict = check_reply("The answer is 24 and 99.", plan_for("24"), CONTEXT)
    assert len(verdict.reasons) == 4


def test_a_forbidden_expression_answer_is_found_with_any_spacing() -> None:
    assert not check_reply("Could it be 2x+6 ?", plan_for("2x + 6"), GuardContext("Expand 2(x+3).", ())).ok


def test_a_forbidden_choice_letter_is_found() -> None:
    verdict = check_reply("I would pick option B, wouldn't you?", plan_for("B"), GuardContext("Pick one.", ()))
    assert not verdict.ok


def _verdict_plan(verdict: str, question: str = "How many cookies does Maya bake?") -> TurnPlan:
    return TurnPlan(
        move="probing",
        sub_kind="probe",
        target_node="cookies",
        reason="test",
        budget=BudgetRemaining(hints=3, tells=1),
        question=question,
        verdict=verdict,  # type: ignore[arg-type]
        student_value="10",
        must_not_reveal=("12", "24"),
    )


def test_it_rejects_a_reply_that_affirms_a_wrong_answer() -> None:
    verdict = check_reply("Yes, 10 is right. How many cookies does Maya bake?", _verdict_plan("incorrect"), CONTEXT)
    assert not verdict.ok and "affirms an answer the plan judged wrong" in verdict.reasons
    assert check_reply("Hmm, 10. How did you get that?", _verdict_plan("incorrect"), CONTEXT).ok


def test_it_rejects_a_reply_that_calls_a_right_answer_wrong() -> None:
    verdict = check_reply("No, that's not it. What comes next?", _verdict_plan("correct"), CONTEXT)
    assert not verdict.ok and "rejects an answer the plan judged right" in verdict.reasons


def test_a_step_value_the_authored_question_states_is_no_leak_but_the_final_answer_always_is() -> None:
    question = "How many trays of 6 make 24 cookies, if each tray holds 6?"
    plan = _verdict_plan("correct", question=question)
    plan = replace(plan, verdict=None, must_not_reveal=("12", "24"))
    # 24 is a step value here (listed after the final answer 12) and the question itself states it.
    assert check_reply(f"Good. {question}", plan, CONTEXT).ok
    final_first = replace(plan, must_not_reveal=("24", "12"))
    assert not check_reply(f"Good. {question}", final_first, CONTEXT).ok


def test_a_partial_reply_is_judged_only_on_what_later_text_cannot_repair() -> None:
    plan = plan_for("24", "12")
    assert check_reply("Here's a hint: each tray", plan, CONTEXT, partial=True).ok  # no question yet: fine so far
    assert check_reply("", plan, CONTEXT, partial=True).ok
    leaking = check_reply("Sure! It is 24 cookies", plan, CONTEXT, partial=True)
    assert not leaking.ok and any("reveals 24" in r for r in leaking.reasons)
    assert not check_reply("Here's a hint: each tray", plan, CONTEXT).ok  # finished, it must ask its question


def test_a_phrasing_that_drops_the_hint_for_pleasantries_is_rejected() -> None:
    plan = plan_for("24", "12")
    chatter = "If you have a problem, I'm here to help. You can ask me anything. What do you need?"
    verdict = check_reply(chatter, plan, CONTEXT, phrased=True)
    assert not verdict.ok
    assert "drops the plan's hint" in verdict.reasons and "drops the plan's question" in verdict.reasons
    faithful = "A hint: every tray holds the same number of cookies. So how many cookies does Maya bake?"
    assert check_reply(faithful, plan, CONTEXT, phrased=True).ok


def test_it_catches_the_answer_announced_with_words_in_between() -> None:
    verdict = check_reply("The answer to the question about the trays is 10. Why?", plan_for("24"), CONTEXT)
    assert "announces the answer before the problem is solved" in verdict.reasons


def test_a_number_spelled_digit_by_digit_after_a_sentence_is_caught() -> None:
    # "another. (one ..." must not read "one" as the pronoun in "another one".
    text = "It asks how many times an amount fits into another. (one zero zero)"
    assert revealed_values(text, ("100",)) == [("100", "one zero zero")]


def test_a_reply_that_drops_the_worked_example_fails_so_the_hint_is_not_charged_for_nothing(
    bake_sale: Problem,
) -> None:
    example = "3 bags with 5 apples in each hold 3 \u00d7 5 = 15 apples: the same amount, 3 times over."
    plan = TurnPlan(
        move="focus",
        sub_kind="worked_example",
        target_node="cookies",
        reason="",
        budget=BudgetRemaining(hints=3, tells=2),
        question="How many cookies does Maya bake?",
        example=example,
        may_mention=("How many cookies does Maya bake?", example),
        hint_spent=True,
    )
    context = GuardContext(bake_sale.text, ())
    assert check_reply(realize(plan), plan, context).ok
    verdict = check_reply("Keep going! How many cookies does Maya bake?", plan, context, phrased=True)
    assert not verdict.ok and "drops the plan's worked example" in verdict.reasons


# Two demo problems whose good replies the partial check used to reject mid-stream.
CYCLIST = GuardContext(
    "A cyclist rides 36 km in one and a half hours at a steady pace. What is her speed in kilometres per hour?", ()
)
CYCLIST_PLAN = TurnPlan(
    move="focus",
    sub_kind="hint",
    target_node="half-hour",
    reason="test",
    budget=BudgetRemaining(hints=3, tells=1),
    question="How many kilometres does she ride in half an hour?",
    hint="One and a half hours is three half-hours.",
    # The final answer, then the open steps: 3 is the answer of the scaffold "how many half-hours ...?".
    must_not_reveal=("24", "3", "12"),
)
CYCLIST_REPLY = (
    "Think about this: One and a half hours is three half-hours. So, how many kilometres does she ride in half an hour?"
)
PIZZA = GuardContext(
    "A pizza is cut into 8 equal slices. Leo eats $\\frac{3}{8}$ of the pizza and his sister eats $\\frac{1}{4}$ "
    "of it. What fraction of the pizza is left?",
    (),
)
PIZZA_PLAN = TurnPlan(
    move="focus",
    sub_kind="ask",
    target_node="eighths",
    reason="test",
    budget=BudgetRemaining(hints=3, tells=1),
    question="How many eighths is the same as one quarter of the pizza? Write it as a fraction.",
    # One quarter is the step's answer 2/8: the authored question states it, and that is no leak.
    must_not_reveal=("0.375", "2", "2/8", "0.625"),
)
PIZZA_REPLY = (
    "Let's work through this problem together. Here's the question: how many eighths is the same as one quarter "
    "of the pizza? Write it as a fraction."
)


def test_a_number_still_being_written_is_not_judged_until_the_next_word_shows_it_ended() -> None:
    # "three" may yet become "three half-hours" (3/2, a given), so it is not the step value 3 yet.
    assert check_reply("Think about this: One and a half hours is three", CYCLIST_PLAN, CYCLIST, partial=True).ok
    assert check_reply("One and a half hours is three half", CYCLIST_PLAN, CYCLIST, partial=True).ok
    # Once a word or a sentence end shows it ended, it is judged.
    ended = check_reply("One and a half hours is three. So", CYCLIST_PLAN, CYCLIST, partial=True)
    assert not ended.ok and any("reveals 3" in r for r in ended.reasons)
    assert not check_reply("That makes three slices", CYCLIST_PLAN, CYCLIST, partial=True).ok


def test_a_step_value_in_the_authored_question_is_no_leak_while_the_question_is_still_being_written() -> None:
    so_far = "Here's the question: how many eighths is the same as one quarter of the"
    assert check_reply(so_far, PIZZA_PLAN, PIZZA, partial=True).ok
    assert check_reply(so_far + " pizza? Write it", PIZZA_PLAN, PIZZA, partial=True).ok
    # Said outside the question, one quarter is the step's answer 2/8.
    verdict = check_reply("Leo's sister eats one quarter of it. Now", PIZZA_PLAN, PIZZA, partial=True)
    assert not verdict.ok and any("reveals 2/8" in r for r in verdict.reasons)


@pytest.mark.parametrize(
    ("reply", "plan", "context"),
    [(CYCLIST_REPLY, CYCLIST_PLAN, CYCLIST), (PIZZA_REPLY, PIZZA_PLAN, PIZZA)],
    ids=["three half-hours", "one quarter"],
)
def test_a_reply_the_finished_check_passes_is_passed_at_every_point_of_its_stream(
    reply: str, plan: TurnPlan, context: GuardContext
) -> None:
    assert check_reply(reply, plan, context, phrased=True).ok
    rejected = [reply[:i] for i in range(len(reply)) if not check_reply(reply[:i], plan, context, partial=True).ok]
    assert rejected == []


@pytest.mark.parametrize(
    ("streamed", "releasable"),
    [
        ("Good question! Every tray holds", "Good question! "),
        (
            "Good question! Every tray holds the same number, so how",
            "Good question! Every tray holds the same number, ",
        ),
        ("It costs $0.", ""),  # the point may be a decimal point: "$0.50"
        ("It costs $0.50. How", "It costs $0.50. "),
        ("Count 1,200 of them", ""),
        ("How many?", ""),  # a reply's last sentence comes with the finished reply
    ],
)
def test_a_streamed_reply_is_released_up_to_its_last_sentence_or_clause_end(streamed: str, releasable: str) -> None:
    assert releasable_prefix(streamed) == releasable
