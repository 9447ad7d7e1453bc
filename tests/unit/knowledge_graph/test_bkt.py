"""BKT update and prediction against figures worked out by hand from the formulas."""

from __future__ import annotations

import pytest

from knowledge_graph.bkt import BKTParams, is_mastered, observe, posterior, predict_correct, trace, update

PARAMS = BKTParams(prior=0.4, learn=0.15, slip=0.1, guess=0.2)


def test_prediction_mixes_not_slipping_and_guessing() -> None:
    # 0.4 * (1 - 0.1) + 0.6 * 0.2
    assert predict_correct(0.4, PARAMS) == pytest.approx(0.48)


def test_a_correct_answer_raises_mastery_by_bayes_rule_then_learning() -> None:
    # posterior = 0.4 * 0.9 / (0.4 * 0.9 + 0.6 * 0.2) = 0.36 / 0.48 = 0.75; then 0.75 + 0.25 * 0.15 = 0.7875
    assert posterior(0.4, True, PARAMS) == pytest.approx(0.75)
    assert update(0.4, True, PARAMS) == pytest.approx(0.7875)


def test_a_wrong_answer_lowers_mastery_by_bayes_rule_then_learning() -> None:
    # posterior = 0.4 * 0.1 / (0.4 * 0.1 + 0.6 * 0.8) = 0.04 / 0.52; then p + (1 - p) * 0.15
    expected_posterior = 0.04 / 0.52
    assert posterior(0.4, False, PARAMS) == pytest.approx(expected_posterior)
    assert update(0.4, False, PARAMS) == pytest.approx(expected_posterior + (1 - expected_posterior) * 0.15)


def test_forgetting_moves_known_learners_back() -> None:
    params = BKTParams(prior=0.4, learn=0.15, slip=0.1, guess=0.2, forget=0.05)
    # 0.75 * (1 - 0.05) + 0.25 * 0.15 = 0.7125 + 0.0375
    assert update(0.4, True, params) == pytest.approx(0.75)


def test_observe_keeps_every_intermediate_figure() -> None:
    step = observe(0.4, True, PARAMS)
    assert (step.before, step.predicted_correct, step.posterior, step.after) == pytest.approx((0.4, 0.48, 0.75, 0.7875))


def test_a_trace_predicts_each_response_from_the_ones_before_it() -> None:
    steps = trace([True, False], PARAMS)
    assert steps[0].before == pytest.approx(PARAMS.prior)
    assert steps[1].before == pytest.approx(0.7875)
    # second prediction: 0.7875 * 0.9 + 0.2125 * 0.2
    assert steps[1].predicted_correct == pytest.approx(0.7875 * 0.9 + 0.2125 * 0.2)
    assert steps[1].after == pytest.approx(update(0.7875, False, PARAMS))


def test_enough_wrong_answers_lower_a_mastery_that_looks_certain() -> None:
    mastery = PARAMS.prior
    for _ in range(200):
        mastery = update(mastery, True, PARAMS)
    assert 0.99 < mastery < 1.0  # never rounds to exactly 1
    for _ in range(10):
        mastery = update(mastery, False, PARAMS)
    assert mastery < 0.5


def test_mastery_counts_from_the_threshold() -> None:
    assert is_mastered(0.95)
    assert not is_mastered(0.9499)
    assert is_mastered(0.8, threshold=0.8)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"prior": 1.2, "learn": 0.1, "slip": 0.1, "guess": 0.2},
        {"prior": 0.5, "learn": -0.1, "slip": 0.1, "guess": 0.2},
        {"prior": 0.5, "learn": 0.1, "slip": 0.6, "guess": 0.5},
    ],
)
def test_it_refuses_parameters_that_are_not_probabilities_or_make_answers_meaningless(
    kwargs: dict[str, float],
) -> None:
    with pytest.raises(ValueError, match="BKT"):
        BKTParams(**kwargs)


def test_it_refuses_a_mastery_outside_zero_and_one() -> None:
    with pytest.raises(ValueError, match="mastery"):
        update(1.5, True, PARAMS)
