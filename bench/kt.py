"""Knowledge-tracing benchmark: our BKT fitting against pyBKT on ASSISTments 2009 (skill builder, DKT split).

    python -m bench.kt --data ../shared/data/assistments2009_dkt

The data folder holds ``builder_train.csv`` and ``builder_test.csv`` in the DKT format (three lines per
student: the number of responses, the skill ids, the 0/1 correctness flags). Each student's responses are
sorted by skill id, so the order across skills is lost while the order within a skill is kept; the benchmark
therefore works per skill, as BKT does anyway:

1. Split every student's responses into one sequence per skill.
2. Fit one BKT model per skill on the training students, with our EM and with pyBKT (its defaults: five random
   initialisations, no forgetting unless ``--forgets``), timing each.
3. For every test student and skill seen in training, predict each response from the responses before it.
4. Report AUC and RMSE over all those test responses, pooled across skills, computed by the same code for
   both.

pyBKT is a benchmark-only dependency (requirements-dev.txt); without it the benchmark stops with a message.
The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_graph.bkt import BKTParams, trace
from knowledge_graph.fitting import FitOptions, fit

Student = list[tuple[int, int]]  # (skill id, correct) in file order


def load_students(path: Path) -> list[Student]:
    """Read a DKT-format file: for each student a count line, a skills line and a correctness line."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    if len(lines) % 3:
        raise ValueError(f"{path}: expected three lines per student, got {len(lines)} non-empty lines")
    students: list[Student] = []
    for i in range(0, len(lines), 3):
        count = int(lines[i].rstrip(","))
        skills = [int(s) for s in lines[i + 1].split(",") if s.strip()]
        correct = [int(s) for s in lines[i + 2].split(",") if s.strip()]
        if not len(skills) == len(correct) == count:
            raise ValueError(f"{path}: student block at line {i + 1} has mismatched lengths")
        students.append(list(zip(skills, correct, strict=True)))
    return students


def per_skill_sequences(students: Iterable[Student]) -> dict[int, list[list[int]]]:
    """One response sequence per (student, skill), grouped by skill, each in its original order."""
    by_skill: dict[int, list[list[int]]] = defaultdict(list)
    for student in students:
        own: dict[int, list[int]] = defaultdict(list)
        for skill, correct in student:
            own[skill].append(correct)
        for skill, seq in own.items():
            by_skill[skill].append(seq)
    return dict(by_skill)


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with tied scores sharing their average rank)."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs both correct and incorrect responses")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    # Give every run of equal scores the mean of the ranks it spans (ranks start at 1).
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    mean_rank = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(mean_rank, ends - starts)
    u = ranks[labels].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def rmse(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(labels, dtype=np.float64) - scores) ** 2)))


def run_ours(train: list[Student], options: FitOptions) -> tuple[dict[int, BKTParams], float]:
    start = time.perf_counter()
    params = {skill: fit(seqs, options).params for skill, seqs in per_skill_sequences(train).items()}
    return params, time.perf_counter() - start


def predict_ours(test: list[Student], params: dict[int, BKTParams]) -> tuple[np.ndarray, np.ndarray]:
    """Labels and one-step-ahead predictions, in the order of ``test_rows``."""
    labels: list[int] = []
    preds: list[float] = []
    for skill, seqs in sorted(per_skill_sequences(test).items()):
        if skill not in params:
            continue
        for seq in seqs:
            labels.extend(seq)
            preds.extend(step.predicted_correct for step in trace((bool(c) for c in seq), params[skill]))
    return np.array(labels), np.array(preds)


def import_pybkt() -> Any:
    """pyBKT's Model class, made to run on numpy 2, or a clear exit when pyBKT is not installed."""
    try:
        import pyBKT.fit.EM_fit as em_fit
        from pyBKT.models import Model
    except ImportError as exc:
        sys.exit(
            f"bench.kt needs pyBKT, the baseline it compares against ({exc}). "
            "Install the development requirements: pip install -r requirements-dev.txt"
        )
    original_run = em_fit.run

    # pyBKT 1.4.3 stores the E-step's log-likelihood as a 1x1 array into one element of another array, which
    # numpy 2 refuses; hand it a float instead. The algorithm is untouched.
    def run(*args: Any, **kwargs: Any) -> Any:
        result = original_run(*args, **kwargs)
        result["total_loglike"] = float(np.asarray(result["total_loglike"]).reshape(-1)[0])
        return result

    em_fit.run = run
    return Model


def pybkt_frame(students: list[Student], skills: set[int]) -> Any:
    import pandas as pd

    rows = [
        (student_idx, str(skill), correct)
        for student_idx, student in enumerate(students)
        for skill, correct in student
        if skill in skills
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "skill_name", "correct"])
    # pyBKT orders each student's responses by order_id; file order is the order within a skill.
    frame["order_id"] = np.arange(len(frame))
    return frame


def run_pybkt(
    model_cls: Any, train: list[Student], test: list[Student], skills: set[int], args: argparse.Namespace
) -> tuple[np.ndarray, np.ndarray, float]:
    train_frame = pybkt_frame(train, skills)
    model = model_cls(seed=args.seed, num_fits=args.pybkt_fits, parallel=args.pybkt_parallel)
    start = time.perf_counter()
    model.fit(data=train_frame, forgets=args.forgets)
    seconds = time.perf_counter() - start
    test_frame = pybkt_frame(test, skills)
    predicted = model.predict(data=test_frame.copy()).sort_index()
    # Put pyBKT's predictions in our order: by skill, then student, then position within the student.
    ordered = test_frame.assign(pred=predicted["correct_predictions"].to_numpy())
    ordered["skill"] = ordered["skill_name"].astype(int)
    ordered = ordered.sort_values(["skill", "user_id", "order_id"], kind="mergesort")
    return ordered["correct"].to_numpy(), ordered["pred"].to_numpy(dtype=np.float64), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kt", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with builder_train.csv, builder_test.csv")
    parser.add_argument("--restarts", type=int, default=FitOptions().restarts, help="our EM restarts per skill")
    parser.add_argument("--pybkt-fits", type=int, default=5, help="pyBKT random initialisations (its default 5)")
    parser.add_argument(
        "--pybkt-parallel", action="store_true", help="let pyBKT fork a process pool per E-step (off: serial)"
    )
    parser.add_argument("--max-skills", type=int, default=0, help="only the first N skills by id (quick look)")
    parser.add_argument(
        "--forgets",
        action="store_true",
        help="fit a forgetting probability too, in both models (off: classic BKT)",
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    model_cls = import_pybkt()
    train = load_students(args.data / "builder_train.csv")
    test = load_students(args.data / "builder_test.csv")
    skills = sorted({skill for student in train for skill, _ in student})
    if args.max_skills:
        skills = skills[: args.max_skills]
    kept = set(skills)
    train = [[r for r in s if r[0] in kept] for s in train]
    test = [[r for r in s if r[0] in kept] for s in test]
    train = [s for s in train if s]
    test = [s for s in test if s]

    ours_params, ours_seconds = run_ours(
        train, FitOptions(restarts=args.restarts, seed=args.seed, fit_forget=args.forgets)
    )
    labels, ours_pred = predict_ours(test, ours_params)
    pybkt_labels, pybkt_pred, pybkt_seconds = run_pybkt(model_cls, train, test, kept, args)
    if not np.array_equal(labels, pybkt_labels):
        raise SystemExit("internal error: pyBKT's test responses do not line up with ours")

    figures = {
        "ours": {"auc": auc(labels, ours_pred), "rmse": rmse(labels, ours_pred), "fit_seconds": ours_seconds},
        "pybkt": {
            "auc": auc(labels, pybkt_pred),
            "rmse": rmse(labels, pybkt_pred),
            "fit_seconds": pybkt_seconds,
        },
    }
    n_train = sum(len(s) for s in train)
    print(
        f"ASSISTments 2009 skill builder (DKT split): {len(skills)} skills, {len(train)} train students "
        f"({n_train} responses), {len(test)} test students ({labels.size} responses predicted)"
    )
    print(f"{'model':<8}{'AUC':>8}{'RMSE':>8}{'fit s':>10}")
    for name, row in (("ours", figures["ours"]), ("pyBKT", figures["pybkt"])):
        print(f"{name:<8}{row['auc']:>8.4f}{row['rmse']:>8.4f}{row['fit_seconds']:>10.1f}")
    summary = {
        "benchmark": "kt",
        "skills": len(skills),
        "train_responses": n_train,
        "test_responses": int(labels.size),
        "ours": figures["ours"],
        "pybkt": figures["pybkt"],
        "pybkt_fits": args.pybkt_fits,
        "pybkt_parallel": args.pybkt_parallel,
        "our_restarts": args.restarts,
        "forgets": args.forgets,
        "auc_difference": figures["ours"]["auc"] - figures["pybkt"]["auc"],
        "fit_time_ratio": ours_seconds / pybkt_seconds,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
