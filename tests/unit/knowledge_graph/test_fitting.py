"""EM fitting recovers the parameters that generated the data."""

from __future__ import annotations

import math

import pytest

from knowledge_graph.bkt import BKTParams, trace
from knowledge_graph.fitting import FitBounds, FitOptions, fit, log_likelihood, simulate

# Recovery tolerance: with 3,000 simulated learners of 15 responses each, every parameter is estimated to
# within 0.03 (absolute) of the value that generated the data.
TOLERANCE = 0.03


def _close(fitted: BKTParams, true: BKTParams) -> dict[str, float]:
    names = ("prior", "learn", "slip", "guess", "forget")
    return {n: abs(getattr(fitted, n) - getattr(true, n)) for n in names}


@pytest.mark.parametrize(
    "true",
    [
        BKTParams(prior=0.3, learn=0.15, slip=0.1, guess=0.2),
        BKTParams(prior=0.6, learn=0.05, slip=0.15, guess=0.3),
    ],
)
def test_it_recovers_known_parameters_from_simulated_learners(true: BKTParams) -> None:
    sequences = simulate(true, n_sequences=3000, length=15, seed=7)
    result = fit(sequences, FitOptions(seed=1))
    errors = _close(result.params, true)
    assert max(errors.values()) < TOLERANCE, errors
    assert result.converged
    assert result.n_observations == 3000 * 15
    # EM reaches a likelihood at least as high as the generating parameters' own.
    assert result.log_likelihood >= log_likelihood(sequences, true) - 1e-6


def test_it_recovers_forgetting_when_asked_to_fit_it() -> None:
    true = BKTParams(prior=0.5, learn=0.1, slip=0.1, guess=0.25, forget=0.05)
    sequences = simulate(true, n_sequences=3000, length=15, seed=3)
    result = fit(sequences, FitOptions(fit_forget=True))
    errors = _close(result.params, true)
    assert max(errors.values()) < TOLERANCE, errors
    assert fit(sequences).params.forget == 0.0


def test_sequences_of_different_lengths_are_fitted_together() -> None:
    true = BKTParams(prior=0.3, learn=0.15, slip=0.1, guess=0.2)
    full = simulate(true, n_sequences=3000, length=20, seed=11)
    ragged = [seq[: 1 + i % 20] for i, seq in enumerate(full)]
    errors = _close(fit(ragged).params, true)
    assert max(errors.values()) < 0.05, errors


def test_the_likelihood_agrees_with_the_step_by_step_predictions() -> None:
    params = BKTParams(prior=0.35, learn=0.2, slip=0.12, guess=0.25, forget=0.02)
    sequences = [[1, 0, 1, 1], [0], [0, 0, 1]]
    expected = sum(
        math.log(step.predicted_correct if correct else 1.0 - step.predicted_correct)
        for seq in sequences
        for step, correct in zip(trace((bool(c) for c in seq), params), seq, strict=True)
    )
    assert log_likelihood(sequences, params) == pytest.approx(expected)


def test_fitted_guess_and_slip_stay_within_their_bounds() -> None:
    # Learners who answer right two times in three whatever they know pull guess above one half unbounded.
    sequences = simulate(BKTParams(prior=0.0, learn=0.0, slip=0.33, guess=0.66), n_sequences=500, length=10)
    bounds = FitBounds()
    params = fit(sequences, FitOptions(bounds=bounds)).params
    assert params.guess <= bounds.guess[1]
    assert params.slip <= bounds.slip[1]


def test_the_same_seed_gives_the_same_fit() -> None:
    sequences = simulate(BKTParams(prior=0.3, learn=0.1, slip=0.1, guess=0.2), n_sequences=200, length=8, seed=5)
    assert fit(sequences, FitOptions(seed=4)) == fit(sequences, FitOptions(seed=4))


def test_it_refuses_empty_data_and_values_other_than_zero_and_one() -> None:
    with pytest.raises(ValueError, match="without observations"):
        fit([[], []])
    with pytest.raises(ValueError, match="0/1"):
        fit([[1, 2, 0]])
