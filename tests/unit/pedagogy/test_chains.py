"""A student's chain of calculations compared with a step's as formulas in the problem's numbers."""

from __future__ import annotations

from fractions import Fraction

from pedagogy.chains import same_formula, worked_calculation, written_out

GIVENS = [Fraction(80), Fraction(65), Fraction(90), Fraction(95)]


def test_a_route_through_the_students_own_results_is_written_out_to_the_problems_numbers() -> None:
    assert written_out("330-65", {Fraction(330): "80+65+90+95"}) == "(80+65+90+95)-65"
    # A number the problem gives is that number, whatever else came to the same value.
    assert written_out("80+5", {Fraction(80): "40*2"}, frozenset({Fraction(80)})) == "80+5"


def test_the_same_formula_agrees_and_a_coincidence_does_not() -> None:
    assert same_formula("(80+65+90+95)-65", "80 + 90 + 95", GIVENS)
    assert not same_formula("(80+120)+65", "80 + 90 + 95", GIVENS)  # 265 too, by other numbers


def test_a_percentage_and_its_proportion_are_one_quantity() -> None:
    givens = [Fraction(5), Fraction(1, 20), Fraction(50000)]
    assert same_formula("(5%*50000)*1%", "(0.05 / 100) * 50000", givens)
    assert not same_formula("(5%*50000)*2%", "(0.05 / 100) * 50000", givens)


def test_a_worked_steps_calculation_is_read_before_its_value() -> None:
    text = "If each chicken eats 3 cups of feed per day, then 20 chickens need 3*20 = 60 cups of feed per day."
    assert worked_calculation(text, Fraction(60)) == "3*20"
    assert worked_calculation("Mia has 60 cups.", Fraction(60)) is None
