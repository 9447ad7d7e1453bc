"""Reading a student message: every claim, in the student's own numbers, with its arithmetic checked."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pedagogy.reading import Claim, read_message


def shown(text: str, givens: tuple[int, ...] = ()) -> list[str]:
    return [c.shown for c in read_message(text, givens=frozenset(Fraction(g) for g in givens)).claims]


def only(text: str, givens: tuple[int, ...] = ()) -> Claim:
    claims = read_message(text, givens=frozenset(Fraction(g) for g in givens)).claims
    assert len(claims) == 1, claims
    return claims[0]


def test_it_reads_every_step_of_a_long_explanation_not_just_the_last_number() -> None:
    text = (
        "Sure! I started by figuring out that one dozen is equal to 12, so two dozens is equal to 2 x 12 = 24 pens. "
        "Then, I figured out that half of a dozen is equal to 6. After that, I calculated that one and a half dozen "
        "is equal to 1 x 12 + 6 = 18 pens. Finally, I added 24 + 18 to get the total of two and a half dozens of "
        "pens, which is equal to 42 pens."
    )
    assert shown(text, givens=(12,)) == [
        "2 \u00d7 12 = 24",
        "0.5 \u00d7 12 = 6",
        "1 \u00d7 12 + 6 = 18",
        "24 + 18 = 42",
    ]


def test_it_splits_an_equation_chain_into_its_calculations() -> None:
    assert shown("10000-6000 = 4000 - 500 = 3500") == ["10000 - 6000 = 4000", "4000 - 500 = 3500"]


def test_it_checks_the_arithmetic_of_a_calculation_in_words() -> None:
    claim = only("70 divided by 3 is equal to 24, so each box can store 24")
    assert claim.expression == "70/3" and claim.stated == 24
    assert claim.arithmetic_ok is False


def test_a_division_written_as_a_fraction_is_checked_as_a_division() -> None:
    claim = only("Then 20 / 2 = 12 each")
    assert claim.operands == (20, 2) and claim.arithmetic_ok is False


@pytest.mark.parametrize(
    ("text", "expression", "stated"),
    [
        ("I added 24 and 18 to get 42", "24+18", 42),
        ("I subtracted 3 from 12 and got 9", "12-3", 9),
        ("half of 12 is 6", "0.5*12", 6),
        ("25% of 80 is 20", "25%*80", 20),
        ("three times four is twelve", "3*4", 12),
    ],
)
def test_it_reads_operations_written_in_words(text: str, expression: str, stated: int) -> None:
    claim = only(text)
    assert (claim.expression, claim.stated, claim.arithmetic_ok) == (expression, stated, True)


def test_a_result_written_as_an_expression_is_kept_whole() -> None:
    claim = only("3/4 divided by 2 is 1.5/4")
    assert claim.computed == Fraction(3, 8) and claim.stated == Fraction(3, 8)
    assert claim.arithmetic_ok is True


def test_a_value_the_student_rules_out_is_not_a_claim() -> None:
    reading = read_message("It can't be 7 weeks, I think it is 5 weeks")
    assert [c.stated for c in reading.claims] == [5]
    assert [(m.text, why) for m, why in reading.other_numbers] == [("7", "negated")]


def test_a_number_the_problem_gives_is_not_a_claim() -> None:
    reading = read_message("Meg has 46 pencils", givens=frozenset({Fraction(46), Fraction(26)}))
    assert reading.claims == ()
    assert [why for _, why in reading.other_numbers] == ["given"]


def test_numbers_in_a_question_and_in_a_hedge_are_not_claims() -> None:
    assert read_message("What is 4 times 6?").claims == ()
    hedge = read_message("is it 24 or 25?")
    assert hedge.claims == () and hedge.hedged


def test_a_conclusion_says_what_it_counts() -> None:
    claim = only("So Julia bought 10 spoons.", givens=(12, 3, 5))
    assert (claim.kind, claim.stated, claim.counts) == ("value", 10, "spoons")


def test_a_number_word_answer_is_a_claim() -> None:
    assert only("I think it's nine").stated == 9


def test_a_repeated_result_is_one_claim() -> None:
    assert shown("12 - 3 = 9. So Julia had 9 spoons left.", givens=(12, 3)) == ["12 - 3 = 9"]


def test_prose_is_never_read_as_algebra() -> None:
    assert read_message("Monday because 12 is the biggest").math_segments == ()
    assert read_message("3/4 divided by 2 is 1.5/4").math_segments == ("3/4", "1.5/4")
    assert read_message("I think 4n+7 = 43").math_segments == ("4n+7 = 43",)


def test_a_coefficient_is_not_a_value() -> None:
    assert read_message("4n+7").claims == ()


def test_work_described_in_words_counts_as_shown_work() -> None:
    assert read_message("I multiplied the trays by the cookies").shown_work
    assert not read_message("24").shown_work


def test_a_calculation_with_no_value_is_a_slip() -> None:
    claim = only("8 / 0 = 24")
    assert claim.undefined and claim.arithmetic_ok is False


def test_a_list_of_bare_values_is_a_guess_not_an_answer() -> None:
    for text in ("5 6 7 9 10", "9, 10", "9 or 10"):
        reading = read_message(text)
        assert reading.claims == () and reading.hedged, text


def test_the_same_amount_in_two_units_is_not_a_hedge() -> None:
    reading = read_message("It takes 1.5 minutes or 90 seconds, so 90 x 60 = 5400 seconds")
    assert not reading.hedged and [c.shown for c in reading.claims] == ["90", "90 \u00d7 60 = 5400"]


def test_a_share_named_before_the_calculation_that_uses_it_is_an_operand() -> None:
    text = "Out of the 47500 candles, 1% of them will still explode, which is 0.01 x 47500 = 475 candles."
    assert shown(text) == ["0.01 \u00d7 47500 = 475"]


def test_the_share_a_plan_names_is_an_operand_of_the_calculation_that_follows() -> None:
    text = (
        "I need to calculate the 1% of those candles that will explode. "
        "So, 5% of 50000 is 2500 candles, and 1% of those 2500 is 25 candles."
    )
    assert shown(text, givens=(5, 50000)) == ["5% \u00d7 50000 = 2500", "1% \u00d7 2500 = 25"]


def test_a_share_found_in_its_own_sentence_is_still_a_claim() -> None:
    text = "That means 95% of the candles don't have the defect. So 95% of them is 0.95 x 50000 = 47500 candles."
    assert shown(text) == ["95%", "0.95 \u00d7 50000 = 47500"]


def test_a_full_stop_typed_against_a_number_is_not_a_decimal_point() -> None:
    reading = read_message("She can only invite 4 friends since she cannot invite a fraction of a person.4")
    assert [c.shown for c in reading.claims] == ["4"]


def test_it_stands_for_the_amount_not_for_the_time_it_took() -> None:
    text = "I took the 8 pounds he lost in 4 weeks and divided it by 4, which gave me 2 pounds per week."
    claim = only(text, givens=(8, 4))
    assert claim.operands == (Fraction(8), Fraction(4))
    assert claim.arithmetic_ok


def test_a_given_named_as_the_number_of_something_is_not_a_claim() -> None:
    text = "Then I multiplied 3 cups by the number of chickens, which is 20, to get the cups needed, which is 60 cups."
    assert shown(text, givens=(3, 20)) == ["60"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The second number named before it is said: "the total of", "the opening bid of", "..., which was".
        ("I subtracted 43 from the total of 50, which gave me 7 customers.", ["50 - 43 = 7"]),
        ("We would subtract 43 from the total of 50, which would give us 7 customers.", ["50 - 43 = 7"]),
        ("I added $50 to the opening bid of $200 to get the second bid of $250.", ["50 + 200 = 250"]),
        (
            "I subtracted 4.50 from the cost of the tickets which was 6.75 dollars to get the amount they spent on "
            "food which was 2.25 dollars.",
            ["6.75 - 4.5 = 2.25"],
        ),
        # "from that": the number before, which keeps its own claim.
        (
            "Each ticket cost 6.75 dollars. Then I subtracted 4.50 from that to get the food cost, which was 2.25.",
            ["6.75", "6.75 - 4.5 = 2.25"],
        ),
    ],
)
def test_it_reads_an_operation_in_words_whose_numbers_are_named_first(text: str, expected: list[str]) -> None:
    assert shown(text) == expected


def test_a_result_named_before_it_is_said_in_words_is_not_read_as_a_result() -> None:
    # "the total of two and a half dozens" names what 42 is; it is not the result 2.5.
    text = "I added 24 + 18 to get the total of two and a half dozens of pens, which is equal to 42 pens."
    assert shown(text) == ["24 + 18 = 42"]


@pytest.mark.parametrize(
    "text",
    [
        # A count inside the name is not the amount named: "the price of 3 shirts, which was 60".
        "I added 5 to the price of 3 shirts, which was 60, to get 65.",
        # "that" resolved to a number that does not give the student's result: no slip is invented.
        "She had 4 tickets. I subtracted 10 from that to get 20.",
    ],
)
def test_it_does_not_invent_an_operand_and_a_slip_from_words(text: str) -> None:
    claims = read_message(text).claims
    assert all(claim.arithmetic_ok is not False for claim in claims), [c.shown for c in claims]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # One part of a calculation worked out in place is a claim of its own, units inside brackets and all.
        ("The perimeter is 2(9 ft + 40 ft) = 2(49 ft) = 98 ft.", ["9 + 40 = 49", "2 \u00d7 (49) = 98"]),
        ("2 x (9 + 40) = 2 x 49 = 98", ["9 + 40 = 49", "2 \u00d7 49 = 98"]),
        ("(5 + 3) x 2 = 8 x 2 = 16", ["5 + 3 = 8", "8 \u00d7 2 = 16"]),
        # A slip inside the rewriting is the slip to point at, not the whole left side.
        ("3 x (4 + 5) = 3 x 10 = 30", ["4 + 5 = 10", "3 \u00d7 10 = 30"]),
        # A rewriting of every part is not one part worked out: the last equals sign states the result.
        ("12 x 2 + 12 x 0.5 = 24 + 6 = 30", ["24 + 6 = 30"]),
        # A count's word before a bracket stays in the calculation.
        ("3 customers + (4 x 3 - 5) shoplifters = 8 shoplifters.", ["3 + (4 \u00d7 3 - 5) = 8"]),
    ],
)
def test_it_reads_parts_of_a_calculation_worked_out_in_place(text: str, expected: list[str]) -> None:
    assert shown(text) == expected


def test_a_slip_worked_out_in_place_is_an_arithmetic_slip() -> None:
    slip = read_message("3 x (4 + 5) = 3 x 10 = 30").claims[0]
    assert slip.arithmetic_ok is False
    assert slip.operands == (Fraction(4), Fraction(5))


@pytest.mark.parametrize(
    "text",
    [
        "Yes, I remember that there are 3 feet in a yard.",
        "There are 60 minutes in an hour.",
        "I know there are 16 ounces in a pound.",
    ],
)
def test_a_unit_fact_the_student_recalls_is_not_a_claim(text: str) -> None:
    assert shown(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A rate is not a unit fact: 3 miles is not how many miles make an hour.
        ("He walks 3 miles in an hour.", ["3"]),
        # Nor is a wrong conversion: it is the student's claim, to be checked.
        ("There are 100 minutes in an hour.", ["100"]),
    ],
)
def test_a_rate_or_a_wrong_conversion_is_still_a_claim(text: str, expected: list[str]) -> None:
    assert shown(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "slips"),
    [
        # A regrouping is not a part worked out: 10 - 2 - 3 takes away 2 + 3, not 2 - 3.
        ("10 - 2 - 3 = 10 - 5 = 5", ["10 - 5 = 5"], 0),
        # A rewriting that does not hold is checked side against side, not read as 9 + 40 = 49.
        ("2 x 9 + 40 = 2 x 49 = 98", ["2 \u00d7 9 + 40 = 98", "2 \u00d7 49 = 98"], 1),
        # Percentages inside brackets add as percentages.
        ("50,000 x (100% + 5%) = 50,000 x 105% = 52,500", ["100% + 5% = 105%", "50000 \u00d7 105% = 52,500"], 0),
    ],
)
def test_a_rewriting_is_read_as_the_student_grouped_it(text: str, expected: list[str], slips: int) -> None:
    claims = read_message(text).claims
    assert [c.shown for c in claims] == expected
    assert sum(c.arithmetic_ok is False for c in claims) == slips


@pytest.mark.parametrize(
    ("text", "expected", "slipped"),
    [
        # A running chain goes on from each result, even when the next number is the one just used.
        ("100 - 20 = 80 - 20 = 60 - 30 = 30", ["100 - 20 = 80", "80 - 20 = 60", "60 - 30 = 30"], []),
        ("10 - 5 = 5 + 5 = 15", ["10 - 5 = 5", "5 + 5 = 15"], ["5 + 5 = 15"]),
        # "80 - 25%" is shorthand for taking away 25% of 80.
        ("80 - 25% = 80 - 20 = 60", ["25% \u00d7 80 = 20", "80 - 20 = 60"], []),
        ("80 - 25% = 80 - 25 = 55", ["25% \u00d7 80 = 25", "80 - 25 = 55"], ["25% \u00d7 80 = 25"]),
    ],
)
def test_running_chains_and_percentage_shorthand(text: str, expected: list[str], slipped: list[str]) -> None:
    claims = read_message(text).claims
    assert [c.shown for c in claims] == expected
    assert [c.shown for c in claims if c.arithmetic_ok is False] == slipped


@pytest.mark.parametrize(
    "text",
    [
        "He will use all of it, so there won't be any leftover.",
        "She has none left.",
        "They ate every slice, so there are no slices left.",
    ],
)
def test_none_left_in_words_is_an_answer_of_zero(text: str) -> None:
    assert shown(text) == ["0"]


@pytest.mark.parametrize("text", ["Is there nothing left?", "There is no money left, so 0.", "No, I have 3 left."])
def test_none_left_is_not_read_in_a_question_nor_twice(text: str) -> None:
    assert shown(text).count("0") <= 1
    assert "0" not in shown(text) or "0" in text
