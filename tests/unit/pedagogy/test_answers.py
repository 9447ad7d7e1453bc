from __future__ import annotations

from fractions import Fraction

import pytest

from pedagogy import mathparse
from pedagogy.answers import check_answer, extract_committed_value, normalize_answer
from pedagogy.numbers import find_numbers, format_number


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("24", "24"),
        ("-7", "-7"),
        ("3.75", "3.75"),
        ("1,200", "1200"),
        ("$1,200.00", "1200"),
        ("£12.50", "12.5"),
        ("25%", "25%"),
        ("24 clips", "24"),
        ("3/4", "0.75"),
        ("2 1/2", "5/2"),
        ("twenty-four", "24"),
        ("one hundred and five", "105"),
        ("two and a half", "2.5"),
        ("three quarters", "0.75"),
        ("a dozen", "12"),
        ("four point five", "4.5"),
        ("\\frac{3}{4}", "0.75"),
        ("$\\dfrac{1}{2}$", "0.5"),
        ("2 million", "2000000"),
    ],
)
def test_it_accepts_each_way_of_writing_a_number(said: str, expected: str) -> None:
    assert check_answer(said, expected, "number").is_correct


@pytest.mark.parametrize(
    ("said", "expected"),
    [("23", "24"), ("1,201", "1200"), ("2 1/4", "2.5"), ("twenty-three", "24"), ("0.7", "0.75")],
)
def test_it_rejects_a_different_number(said: str, expected: str) -> None:
    result = check_answer(said, expected, "number")
    assert result.parsed and not result.is_correct


def test_it_accepts_a_percentage_as_a_proportion_and_back() -> None:
    assert check_answer("0.25", "25%", "number").is_correct
    assert check_answer("25%", "0.25", "number").is_correct
    assert check_answer("25", "25%", "number").is_correct


def test_it_grades_an_authored_rounding_to_its_own_precision() -> None:
    assert check_answer("10/3", "3.33", "number").is_correct
    assert not check_answer("3.4", "3.33", "number").is_correct


def test_it_accepts_a_students_own_rounding_of_a_repeating_decimal() -> None:
    assert check_answer("0.33", "1/3", "number").is_correct
    assert not check_answer("0.3", "1/3", "number").is_correct


def test_an_explicit_tolerance_widens_the_match() -> None:
    assert not check_answer("3.1", "3.14159", "number").is_correct
    assert check_answer("3.1", "3.14159", "number", tolerance=0.05).is_correct


def test_it_converts_units_of_the_same_kind() -> None:
    assert check_answer("50 cents", "0.50", "number", unit="dollars").is_correct
    assert check_answer("3 hours", "180", "number", unit="minutes").is_correct
    assert check_answer("2 km", "2000", "number", unit="m").is_correct


def test_it_rejects_a_unit_of_another_kind() -> None:
    result = check_answer("3 kg", "180", "number", unit="minutes")
    assert not result.is_correct
    assert "unit" in result.reason


def test_an_unknown_unit_word_is_just_a_label() -> None:
    assert check_answer("24 clips", "24", "number", unit="dollars").is_correct


@pytest.mark.parametrize(
    ("message", "value"),
    [
        ("so it's 96?", "96"),
        ("4 x 6 = 24", "24"),
        ("I got 12 dollars", "12"),
        ("It is 3 times 8 so 24", "24"),
        ("24 because 4 times 6", "24"),
        ("maybe seventy-two", "72"),
        ("I think the answer is 0.5", "0.5"),
    ],
)
def test_it_finds_the_number_a_message_commits_to(message: str, value: str) -> None:
    mention = extract_committed_value(message)
    assert mention is not None
    assert format_number(mention.value) == value


@pytest.mark.parametrize(
    "message",
    [
        "is it 24 or 25?",
        "it's not 24",
        "what is 4 times 6?",
        "I took one away from the other and got confused",
        "no idea",
    ],
)
def test_it_finds_no_commitment_in_hedges_negations_and_questions(message: str) -> None:
    assert extract_committed_value(message) is None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("2(x+3)", "2x+6"),
        ("\\frac{x}{2} + 1", "(x+2)/2"),
        ("x^2 - 1", "(x-1)(x+1)"),
        ("so it's 3x \\cdot x", "3x^2"),
        ("y = 2x+1", "1 + 2x"),
        ("\\sqrt{x}\\sqrt{x}", "x"),
    ],
)
def test_it_accepts_equivalent_expressions_including_latex(said: str, expected: str) -> None:
    assert check_answer(said, expected, "expression").is_correct


def test_it_rejects_an_expression_that_differs() -> None:
    result = check_answer("2x + 5", "2x + 6", "expression")
    assert result.parsed and not result.is_correct


@pytest.mark.parametrize(
    ("said", "expected", "ok"),
    [
        ("y = 2x + 3", "2x - y + 3 = 0", True),
        ("4 = x", "x = 4", True),
        ("4", "x = 4", True),
        ("2y = 4x + 6", "y = 2x + 3", True),
        ("x = 5", "x = 4", False),
    ],
)
def test_it_compares_equations_up_to_rearrangement(said: str, expected: str, ok: bool) -> None:
    assert check_answer(said, expected, "equation").is_correct is ok


@pytest.mark.parametrize(
    ("said", "ok"), [("b", True), ("(B)", True), ("I think it's B", True), ("option c", False), ("a", False)]
)
def test_it_reads_a_multiple_choice_letter(said: str, ok: bool) -> None:
    assert check_answer(said, "B", "multiple_choice").is_correct is ok


def test_the_article_a_is_not_read_as_choice_a() -> None:
    assert not check_answer("I'd go with a guess", "A", "multiple_choice").parsed


def test_it_compares_text_answers_without_case_or_articles() -> None:
    assert check_answer("It's an Isosceles triangle.", "isosceles triangle", "text").is_correct
    assert not check_answer("scalene", "isosceles", "text").is_correct


@pytest.mark.parametrize(
    ("raw", "answer_type"),
    [("about twelve-ish", "number"), ("3 or 4", "number"), ("2x+", "expression"), ("x = ", "equation"), ("", "text")],
)
def test_an_uncheckable_authored_answer_is_reported(raw: str, answer_type: str) -> None:
    assert normalize_answer(raw, answer_type) is None  # type: ignore[arg-type]


def test_an_authored_answer_keeps_its_unit_and_precision() -> None:
    norm = normalize_answer("$3.50", "number")
    assert norm is not None
    assert (norm.value, norm.unit, norm.places) == (Fraction(7, 2), "dollars", 2)


def test_student_text_is_parsed_never_evaluated() -> None:
    result = check_answer("__import__('os').system('true')", "1", "expression")
    assert not result.parsed


def test_a_huge_power_is_refused_rather_than_computed() -> None:
    with pytest.raises(mathparse.ParseError):
        mathparse.to_sympy(mathparse.parse("9^9^9^9"))


def test_calculator_annotations_break_into_single_operations() -> None:
    ops = mathparse.binary_operations(mathparse.parse("100-50-30-15", latex=False))
    assert [(int(a), op, int(b), int(r)) for a, op, b, r in ops] == [
        (100, "-", 50, 50),
        (50, "-", 30, 20),
        (20, "-", 15, 5),
    ]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("3,4,5", ["3", "4", "5"]),
        ("this one is hard", []),
        ("one of them", []),
        ("the third step", []),
        ("seven two", ["7", "2"]),
        ("x=72", ["72"]),
        ("24cookies", ["24"]),
    ],
)
def test_it_finds_numbers_where_they_are_and_not_where_they_are_not(text: str, values: list[str]) -> None:
    assert [format_number(m.value) for m in find_numbers(text)] == values


@pytest.mark.parametrize(
    ("message", "answer", "right"),
    [
        ("Monday because 12 is the biggest", "Monday", True),
        ("yes", "yes", True),
        ("yep", "yes", True),
        ("is that right?", "yes", False),
        ("Monday or Tuesday?", "Monday", False),
        ("no idea", "no", False),
        ("what did I do wrong", "no", False),
        ("not Monday, Tuesday", "Monday", False),
    ],
)
def test_a_text_answer_is_the_message_or_stated_in_it_not_chatter_around_it(
    message: str, answer: str, right: bool
) -> None:
    assert check_answer(message, answer, "text").is_correct is right
