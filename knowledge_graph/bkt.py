"""Bayesian Knowledge Tracing (Corbett and Anderson 1994) for one skill.

A learner either knows a skill or does not. Each observation is a first attempt at a step tagged with the
skill: correct or not. A learner who knows the skill still slips; one who does not may guess. Between two
opportunities a learner who does not know the skill learns it with probability ``learn`` and one who knows it
may forget it with probability ``forget`` (zero in classic BKT).

Everything here is pure Python on floats, so a service can apply evidence inside a database transaction
without loading numpy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Mastery probability at which a skill counts as mastered (the usual BKT convention).
MASTERY_THRESHOLD = 0.95

#: How close to 0 or 1 a posterior may get. In floating point, a run of correct answers rounds P(known) to
#: exactly 1, after which no number of wrong answers can lower it; keeping it this far from certainty lets
#: enough contrary evidence always move the estimate. Fitting uses the same limit, so fitted parameters suit
#: the updates made with them.
CERTAINTY_LIMIT = 1e-6


@dataclass(frozen=True, slots=True)
class BKTParams:
    """The parameters of one skill's BKT model, each a probability.

    ``prior`` is P(known) before the first opportunity; ``learn`` P(unknown -> known) after an opportunity;
    ``slip`` P(incorrect | known); ``guess`` P(correct | unknown); ``forget`` P(known -> unknown).
    """

    prior: float
    learn: float
    slip: float
    guess: float
    forget: float = 0.0

    def __post_init__(self) -> None:
        for name in ("prior", "learn", "slip", "guess", "forget"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"BKT {name} must be a probability in [0, 1], got {value!r}")
        # With slip + guess >= 1 a correct answer would be no evidence of knowing (or evidence against it).
        if self.slip + self.guess >= 1.0:
            raise ValueError(f"BKT slip + guess must be below 1, got {self.slip!r} + {self.guess!r}")


#: Parameters for a skill with no fitted model yet: moderate values from the BKT literature.
DEFAULT_PARAMS = BKTParams(prior=0.3, learn=0.15, slip=0.1, guess=0.2)


@dataclass(frozen=True, slots=True)
class MasteryUpdate:
    """What one observation did to a mastery estimate, as an evidence log records it."""

    before: float
    predicted_correct: float
    posterior: float
    after: float


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def predict_correct(mastery: float, params: BKTParams) -> float:
    """P(the next response is correct) for a learner who knows the skill with probability ``mastery``."""
    _check_probability("mastery", mastery)
    return mastery * (1.0 - params.slip) + (1.0 - mastery) * params.guess


def posterior(mastery: float, correct: bool, params: BKTParams) -> float:
    """P(known | this response), by Bayes' rule, before any learning from the opportunity.

    The result is kept within ``CERTAINTY_LIMIT`` of 0 and 1.
    """
    _check_probability("mastery", mastery)
    if correct:
        known = mastery * (1.0 - params.slip)
        unknown = (1.0 - mastery) * params.guess
    else:
        known = mastery * params.slip
        unknown = (1.0 - mastery) * (1.0 - params.guess)
    total = known + unknown
    if total == 0.0:
        # Only reachable with degenerate parameters (e.g. slip 0 and a certain learner answering wrong); the
        # response carries no usable evidence, so keep the estimate.
        return _limit(mastery)
    return _limit(known / total)


def _limit(probability: float) -> float:
    return min(max(probability, CERTAINTY_LIMIT), 1.0 - CERTAINTY_LIMIT)


def transition(mastery: float, params: BKTParams) -> float:
    """P(known) at the next opportunity, given P(known) now: learning and forgetting between opportunities."""
    _check_probability("mastery", mastery)
    return mastery * (1.0 - params.forget) + (1.0 - mastery) * params.learn


def update(mastery: float, correct: bool, params: BKTParams) -> float:
    """The mastery estimate after observing one response: condition on it, then allow for learning."""
    return transition(posterior(mastery, correct, params), params)


def observe(mastery: float, correct: bool, params: BKTParams) -> MasteryUpdate:
    """Like :func:`update`, keeping the intermediate figures for the evidence log."""
    post = posterior(mastery, correct, params)
    return MasteryUpdate(
        before=mastery,
        predicted_correct=predict_correct(mastery, params),
        posterior=post,
        after=transition(post, params),
    )


def trace(observations: Iterable[bool], params: BKTParams) -> list[MasteryUpdate]:
    """Run a learner's responses on one skill through the model, starting from the prior.

    Each entry's ``predicted_correct`` uses only the responses before it, so a trace is also the
    one-step-ahead prediction of a response sequence.
    """
    mastery = params.prior
    steps: list[MasteryUpdate] = []
    for correct in observations:
        step = observe(mastery, bool(correct), params)
        steps.append(step)
        mastery = step.after
    return steps


def is_mastered(mastery: float, threshold: float = MASTERY_THRESHOLD) -> bool:
    """Whether a mastery probability counts as mastered."""
    return mastery >= threshold
