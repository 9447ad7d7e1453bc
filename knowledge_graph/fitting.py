"""Fitting a skill's BKT parameters to observed response sequences by expectation-maximisation.

BKT is a two-state hidden Markov model (unknown, known) with binary emissions, so maximum-likelihood fitting
is Baum-Welch. Two choices make it fast with numpy alone:

1. Sequences are sorted by length, longest first, and laid out time-major in flat arrays. At time ``t`` the
   learners still answering are a prefix of that order, so each time step is one slice over all of them; the
   Python loop runs over time steps, never over learners or responses.
2. Several random restarts run side by side as the leading axis of every array, so a restart costs little more
   than the first run.

The backward pass uses the two-state smoothing identity (filtered and one-step predicted P(known) are enough),
so emissions are evaluated once per EM iteration. After each M-step the parameters are clipped to
``FitBounds``: keeping ``guess`` and ``slip`` below one half keeps "known" the state that answers better,
which is what makes the fitted model mean what its names say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from . import bkt
from .bkt import BKTParams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class FitBounds:
    """Inclusive (low, high) bounds for each parameter, applied after every M-step."""

    prior: tuple[float, float] = (0.001, 0.999)
    learn: tuple[float, float] = (0.0001, 0.9999)
    slip: tuple[float, float] = (0.001, 0.49)
    guess: tuple[float, float] = (0.001, 0.49)
    forget: tuple[float, float] = (0.0, 0.5)

    def __post_init__(self) -> None:
        for name in ("prior", "learn", "slip", "guess", "forget"):
            low, high = getattr(self, name)
            if not 0.0 <= low <= high <= 1.0:
                raise ValueError(f"bounds for {name} must satisfy 0 <= low <= high <= 1, got {(low, high)!r}")
        if self.slip[1] + self.guess[1] >= 1.0:
            raise ValueError("the upper bounds of slip and guess must add up to less than 1")


@dataclass(frozen=True, slots=True)
class FitOptions:
    """How to fit.

    ``tol`` is on the mean log-likelihood per observation, so one setting suits a skill with fifty responses
    and one with fifty thousand. ``restarts`` counts the runs from different starting points (the first always
    starts from moderate textbook values); the run with the highest likelihood wins.
    """

    restarts: int = 5
    max_iter: int = 200
    tol: float = 1e-6
    fit_forget: bool = False
    seed: int = 0
    bounds: FitBounds = field(default_factory=FitBounds)

    def __post_init__(self) -> None:
        if self.restarts < 1:
            raise ValueError("restarts must be at least 1")
        if self.max_iter < 1:
            raise ValueError("max_iter must be at least 1")
        if self.tol < 0:
            raise ValueError("tol must not be negative")


@dataclass(frozen=True, slots=True)
class FitResult:
    """The best fitted parameters and how the fit went."""

    params: BKTParams
    log_likelihood: float
    n_observations: int
    n_sequences: int
    iterations: int
    converged: bool


@dataclass(frozen=True, slots=True)
class _Layout:
    """Response sequences sorted longest first, stored time-major.

    Step ``t`` is ``obs[offsets[t] : offsets[t] + active[t]]``.
    """

    obs: FloatArray  # 1.0 for correct, 0.0 for incorrect
    active: IntArray  # how many sequences have a response at step t
    offsets: IntArray  # where step t starts in the flat arrays
    not_last: npt.NDArray[np.bool_]  # the response is followed by another one in its sequence
    n_sequences: int


def _layout(sequences: Iterable[Sequence[int]]) -> _Layout:
    arrays = [np.asarray(seq, dtype=np.int64) for seq in sequences]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        raise ValueError("cannot fit BKT parameters without observations")
    for a in arrays:
        if a.ndim != 1 or np.any((a != 0) & (a != 1)):
            raise ValueError("observations must be sequences of 0/1 (or False/True)")
    lengths = np.array([a.size for a in arrays], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    lengths = lengths[order]
    longest = int(lengths[0])
    steps = np.arange(longest)
    # active[t] = number of sequences longer than t; lengths are descending, so that is a searchsorted count.
    active = np.searchsorted(-lengths, -steps, side="left").astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(active))).astype(np.int64)
    present = steps[None, :] < lengths[:, None]
    padded = np.zeros((lengths.size, longest), dtype=np.float64)
    padded[present] = np.concatenate([arrays[i] for i in order])
    # Transposed boolean indexing walks step by step, and within a step the present sequences form a prefix.
    obs = padded.T[present.T]
    last = np.zeros((lengths.size, longest), dtype=np.bool_)
    last[np.arange(lengths.size), lengths - 1] = True
    not_last = ~last.T[present.T]
    return _Layout(obs=obs, active=active, offsets=offsets, not_last=not_last, n_sequences=int(lengths.size))


@dataclass(slots=True)
class _Params:
    """One value per restart for each parameter (shape ``(K,)``)."""

    prior: FloatArray
    learn: FloatArray
    slip: FloatArray
    guess: FloatArray
    forget: FloatArray

    def row(self, k: int) -> BKTParams:
        return BKTParams(
            prior=float(self.prior[k]),
            learn=float(self.learn[k]),
            slip=float(self.slip[k]),
            guess=float(self.guess[k]),
            forget=float(self.forget[k]),
        )


def _forward(layout: _Layout, p: _Params) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Filtered P(known | responses up to t), predicted P(known | responses before t), and log-likelihoods."""
    k = p.prior.size
    total = layout.obs.size
    correct = layout.obs[None, :] > 0.5
    emit_known = np.where(correct, 1.0 - p.slip[:, None], p.slip[:, None])
    emit_unknown = np.where(correct, p.guess[:, None], 1.0 - p.guess[:, None])
    filtered = np.empty((k, total))
    predicted = np.empty((k, total))
    scale = np.empty((k, total))
    stay = (1.0 - p.forget - p.learn)[:, None]
    learn = p.learn[:, None]
    predicted[:, : layout.active[0]] = p.prior[:, None]
    steps = layout.active.size
    for t in range(steps):
        lo, n = int(layout.offsets[t]), int(layout.active[t])
        hi = lo + n
        pk = predicted[:, lo:hi]
        known = pk * emit_known[:, lo:hi]
        c = known + (1.0 - pk) * emit_unknown[:, lo:hi]
        scale[:, lo:hi] = c
        # The same limit as bkt.posterior, which also keeps the smoothing ratios away from 0/0.
        f = np.clip(known / c, bkt.CERTAINTY_LIMIT, 1.0 - bkt.CERTAINTY_LIMIT)
        filtered[:, lo:hi] = f
        if t + 1 < steps:
            m = int(layout.active[t + 1])
            nxt = hi
            # P(known next) = f (1 - forget) + (1 - f) learn
            predicted[:, nxt : nxt + m] = f[:, :m] * stay + learn
    loglik = np.log(scale).sum(axis=1)
    return filtered, predicted, loglik


def _em_step(layout: _Layout, p: _Params, options: FitOptions) -> tuple[_Params, FloatArray]:
    """One E-step at ``p`` and the M-step after it: the next parameters and the log-likelihood of ``p``."""
    filtered, predicted, loglik = _forward(layout, p)

    # 1. Backward pass. For a response followed by another, with r = gamma'/pred' and q = (1-gamma')/(1-pred')
    #    at the next step: P(known->known) = f (1-forget) r, P(known->unknown) = f forget q,
    #    P(unknown->known) = (1-f) learn r, and gamma = f ((1-forget) r + forget q).
    smoothed = filtered.copy()  # a sequence's last response keeps its filtered value
    ratio_known = np.zeros_like(filtered)
    ratio_unknown = np.zeros_like(filtered)
    forget = p.forget[:, None]
    for t in range(layout.active.size - 2, -1, -1):
        m = int(layout.active[t + 1])
        lo = int(layout.offsets[t])
        nxt = int(layout.offsets[t + 1])
        g1 = smoothed[:, nxt : nxt + m]
        p1 = predicted[:, nxt : nxt + m]
        r = g1 / p1
        q = (1.0 - g1) / (1.0 - p1)
        ratio_known[:, lo : lo + m] = r
        ratio_unknown[:, lo : lo + m] = q
        smoothed[:, lo : lo + m] = filtered[:, lo : lo + m] * ((1.0 - forget) * r + forget * q)

    # 2. Expected counts.
    first = slice(0, int(layout.active[0]))
    known_total = smoothed.sum(axis=1)
    known_correct = smoothed @ layout.obs
    unknown_total = layout.obs.size - known_total
    unknown_correct = layout.obs.sum() - known_correct
    mask = layout.not_last.astype(np.float64)
    known_before = smoothed @ mask
    unknown_before = (1.0 - smoothed) @ mask
    learned = p.learn * ((1.0 - filtered) * ratio_known).sum(axis=1)
    forgotten = p.forget * (filtered * ratio_unknown).sum(axis=1)

    # 3. New parameters, clipped to the bounds; a count with no support keeps the old value.
    def ratio(num: FloatArray, den: FloatArray, old: FloatArray) -> FloatArray:
        safe = np.where(den > 0, den, 1.0)
        return np.where(den > 0, num / safe, old)

    b = options.bounds
    new = _Params(
        prior=np.clip(smoothed[:, first].mean(axis=1), *b.prior),
        learn=np.clip(ratio(learned, unknown_before, p.learn), *b.learn),
        slip=np.clip(ratio(known_total - known_correct, known_total, p.slip), *b.slip),
        guess=np.clip(ratio(unknown_correct, unknown_total, p.guess), *b.guess),
        forget=(
            np.clip(ratio(forgotten, known_before, p.forget), *b.forget)
            if options.fit_forget
            else np.zeros_like(p.forget)
        ),
    )
    return new, loglik


def _starting_points(options: FitOptions) -> _Params:
    """The first restart starts from moderate textbook values; the rest are drawn at random."""
    rng = np.random.default_rng(options.seed)
    k = options.restarts
    b = options.bounds

    def draw(low: float, high: float, first: float, bound: tuple[float, float]) -> FloatArray:
        values = rng.uniform(low, high, size=k)
        values[0] = first
        return np.clip(values, *bound)

    return _Params(
        prior=draw(0.05, 0.95, 0.4, b.prior),
        learn=draw(0.01, 0.4, 0.1, b.learn),
        slip=draw(0.01, 0.3, 0.1, b.slip),
        guess=draw(0.05, 0.4, 0.2, b.guess),
        forget=draw(0.0, 0.1, 0.02, b.forget) if options.fit_forget else np.zeros(k),
    )


def fit(sequences: Iterable[Sequence[int]], options: FitOptions | None = None) -> FitResult:
    """Fit one skill's BKT parameters to its learners' responses: one 0/1 sequence per learner, in order.

    Raises ``ValueError`` when there are no observations or an observation is not 0/1.
    """
    options = options or FitOptions()
    layout = _layout(sequences)
    n_obs = int(layout.obs.size)
    params = _starting_points(options)
    previous: FloatArray | None = None
    loglik = np.full(options.restarts, -np.inf)
    converged = False
    iterations = 0
    for iterations in range(1, options.max_iter + 1):
        new, loglik = _em_step(layout, params, options)
        if previous is not None and np.all(np.abs(loglik - previous) <= options.tol * n_obs):
            converged = True
            break
        if iterations == options.max_iter:
            break
        previous = loglik
        params = new
    # ``loglik`` belongs to ``params`` (the parameters the last E-step ran at), so report those.
    best = int(np.argmax(loglik))
    return FitResult(
        params=params.row(best),
        log_likelihood=float(loglik[best]),
        n_observations=n_obs,
        n_sequences=layout.n_sequences,
        iterations=iterations,
        converged=converged,
    )


def log_likelihood(sequences: Iterable[Sequence[int]], params: BKTParams) -> float:
    """The log-likelihood of the response sequences under ``params``."""
    layout = _layout(sequences)
    one = _Params(
        prior=np.array([params.prior]),
        learn=np.array([params.learn]),
        slip=np.array([params.slip]),
        guess=np.array([params.guess]),
        forget=np.array([params.forget]),
    )
    return float(_forward(layout, one)[2][0])


def simulate(params: BKTParams, *, n_sequences: int, length: int, seed: int = 0) -> list[list[int]]:
    """Response sequences drawn from the BKT model itself, to check that a fit recovers known parameters."""
    rng = np.random.default_rng(seed)
    known = rng.random(n_sequences) < params.prior
    out = np.empty((n_sequences, length), dtype=np.int64)
    for t in range(length):
        p_correct = np.where(known, 1.0 - params.slip, params.guess)
        out[:, t] = rng.random(n_sequences) < p_correct
        u = rng.random(n_sequences)
        known = np.where(known, u >= params.forget, u < params.learn)
    return [list(map(int, row)) for row in out]
