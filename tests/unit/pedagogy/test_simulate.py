from __future__ import annotations

from fractions import Fraction

import pytest

from pedagogy.domain import Problem
from pedagogy.simulate import PROFILES, leaked, number_words, run_session, surface_forms
from pedagogy.tree import build_tree


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_a_simulated_session_runs_to_an_end_without_leaking(pencils: Problem, profile: object) -> None:
    result = run_session(build_tree(pencils), profile, seed=11, model_error_rate=0.5)  # type: ignore[arg-type]
    assert result.leaks == 0
    assert result.messages > 0
    assert len(result.planner_ns) == result.messages + 1


def test_the_guard_catches_the_careless_models_mistakes(bake_sale: Problem) -> None:
    rejected = 0
    for seed in range(10):
        result = run_session(build_tree(bake_sale), PROFILES[1], seed=seed, model_error_rate=1.0)
        assert result.leaks == 0
        rejected += result.model_rejections
    assert rejected > 0


def test_without_a_guard_the_careless_model_would_leak(bake_sale: Problem) -> None:
    # The leak detector is what the benchmark counts with; it must see the leaks a careless model makes.
    assert leaked("It comes to seventy-two.", Fraction(72))
    assert leaked("So we get 7-2, right?", Fraction(72))
    assert leaked("$x = 0.50$", Fraction(1, 2))
    assert not leaked("There are 172 pages and twenty-five tins.", Fraction(72))
    assert not leaked("twenty-five", Fraction(5))


def test_sessions_are_reproducible(pencils: Problem) -> None:
    a = run_session(build_tree(pencils), PROFILES[1], seed=5, keep_transcript=True)
    b = run_session(build_tree(pencils), PROFILES[1], seed=5, keep_transcript=True)
    assert a.transcript == b.transcript


def test_number_words_and_surface_forms() -> None:
    assert number_words(1148) == "one thousand one hundred forty-eight"
    assert "seventy-two" in surface_forms(Fraction(72))
    assert "50%" in surface_forms(Fraction(1, 2))


def test_the_leak_detector_reads_a_number_with_thousands_separators_as_one_number() -> None:
    assert leaked("What is 129,350 - 129,000?", Fraction(350)) is None
    assert leaked("So it is 350, right?", Fraction(350)) == "350"
