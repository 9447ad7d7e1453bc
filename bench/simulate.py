"""Simulated tutoring sessions over GSM8K: does the planner get students there without giving answers away?

    python -m bench.simulate [--sessions 150] [--model-error-rate 0.3] [--seed 7] [--data PATH]

For every student profile (see ``pedagogy.simulate.PROFILES``, adversarial ones included) it runs ``--sessions``
sessions on GSM8K problems drawn at random and prints, per profile: success rate, steps told / steps (telling rate),
student messages to solve, final-answer leaks in delivered replies, guard rejections (of the careless model's replies
and of template realizations), model replies completed with the plan's missing parts instead of replaced, fallbacks to
the minimal reply, and planner time per turn (p50/p99). A careless model
that breaks the plan in ``--model-error-rate`` of its replies stands in for a language model, so the guard is
exercised on every run. The last line is JSON.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pedagogy.gsm8k import problem_from_gsm8k
from pedagogy.simulate import PROFILES, SessionResult, run_session
from pedagogy.tree import QuestionTree, build_tree

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("TUTOR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "gsm8k" / "train.jsonl"
# What the product promises (the benchmark reports whether each holds; it does not tune towards them).
TARGETS = {"leaks": 0, "planner_p99_ms": 5.0, "trying_success": 0.80, "trying_telling": 0.20}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def load_trees(path: Path) -> list[QuestionTree]:
    trees = []
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            problem = problem_from_gsm8k(json.loads(line), problem_id=f"{path.stem}-{i}")
            if problem is not None:
                trees.append(build_tree(problem))
    return trees


def summarize(results: list[SessionResult]) -> dict[str, Any]:
    solved = [r for r in results if r.solved]
    steps = sum(r.steps for r in results)
    timings_ms = [t / 1e6 for r in results for t in r.planner_ns]
    cpu_ms = [t / 1e6 for r in results for t in r.planner_cpu_ns]
    return {
        "sessions": len(results),
        "success_rate": len(solved) / len(results),
        "telling_rate": sum(r.tells for r in results) / steps if steps else 0.0,
        "steps": steps,
        "steps_told": sum(r.tells for r in results),
        "hints_per_session": sum(r.hints for r in results) / len(results),
        "messages_to_solve_median": statistics.median(r.messages for r in solved) if solved else None,
        "final_answer_leaks": sum(r.leaks for r in results),
        "guard_rejections_model": sum(r.model_rejections for r in results),
        "guard_rejections_template": sum(r.template_rejections for r in results),
        "fallbacks": sum(r.fallbacks for r in results),
        "completed": sum(r.completions for r in results),
        "flagged_sessions": sum(1 for r in results if r.flags),
        "turns": len(timings_ms),
        "planner_ms_p50": percentile(timings_ms, 50),
        "planner_ms_p99": percentile(timings_ms, 99),
        "planner_ms_max": max(timings_ms, default=float("nan")),
        "planner_cpu_ms_p50": percentile(cpu_ms, 50),
        "planner_cpu_ms_p99": percentile(cpu_ms, 99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GSM8K jsonl file")
    parser.add_argument("--sessions", type=int, default=150, help="sessions per profile")
    parser.add_argument("--model-error-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profiles", default="", help="comma-separated profile names (default: all)")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"GSM8K data not found at {args.data}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    trees = load_trees(args.data)
    # Like a server that loads its content at start-up: keep the thousands of loaded trees out of the collector's
    # full passes, which would otherwise land inside a planning turn and measure the collector, not the planner.
    gc.collect()
    gc.freeze()
    wanted = {p for p in args.profiles.split(",") if p}
    profiles = [p for p in PROFILES if not wanted or p.name in wanted]
    rng = random.Random(args.seed)
    per_profile: dict[str, list[SessionResult]] = {}
    for profile in profiles:
        results = per_profile.setdefault(profile.name, [])
        for _ in range(args.sessions):
            tree = rng.choice(trees)
            results.append(
                run_session(tree, profile, seed=rng.randrange(2**31), model_error_rate=args.model_error_rate)
            )
    everything = [r for rs in per_profile.values() for r in rs]
    trying = [r for p in profiles if p.trying for r in per_profile[p.name]]
    rows = {name: summarize(rs) for name, rs in per_profile.items()}
    overall = summarize(everything)
    trying_summary = summarize(trying) if trying else None

    header = (
        f"{'profile':<14}{'sessions':>9}{'success':>9}{'told/steps':>11}{'msgs':>6}{'leaks':>6}"
        f"{'rej.model':>10}{'completed':>10}{'rej.tmpl':>9}{'fallback':>9}{'p50 ms':>8}{'p99 ms':>8}{'cpu p99':>8}"
    )
    print(f"GSM8K problems usable: {len(trees)} from {args.data}")
    print(header)
    for name, row in [*rows.items(), ("ALL", overall)] + ([("trying", trying_summary)] if trying_summary else []):
        msgs = row["messages_to_solve_median"]
        print(
            f"{name:<14}{row['sessions']:>9}{row['success_rate']:>9.1%}{row['telling_rate']:>11.1%}"
            f"{(msgs if msgs is not None else float('nan')):>6.0f}{row['final_answer_leaks']:>6}"
            f"{row['guard_rejections_model']:>10}{row['completed']:>10}{row['guard_rejections_template']:>9}"
            f"{row['fallbacks']:>9}"
            f"{row['planner_ms_p50']:>8.3f}{row['planner_ms_p99']:>8.3f}{row['planner_cpu_ms_p99']:>8.3f}"
        )
    checks = {
        "sessions>=1000": overall["sessions"] >= 1000,
        "zero_final_answer_leaks": overall["final_answer_leaks"] == TARGETS["leaks"],
        "planner_p99_under_5ms": overall["planner_ms_p99"] < TARGETS["planner_p99_ms"],
        "trying_success_over_80pct": bool(
            trying_summary and trying_summary["success_rate"] > TARGETS["trying_success"]
        ),
        "trying_telling_under_20pct": bool(
            trying_summary and trying_summary["telling_rate"] < TARGETS["trying_telling"]
        ),
    }
    print("checks: " + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in checks.items()))
    print(
        json.dumps(
            {
                "bench": "simulate",
                "data": str(args.data),
                "seed": args.seed,
                "sessions_per_profile": args.sessions,
                "load_average": os.getloadavg()[0],
                "model_error_rate": args.model_error_rate,
                "python": platform.python_version(),
                "wall_s": round(time.perf_counter() - started, 1),
                "profiles": rows,
                "overall": overall,
                "trying": trying_summary,
                "checks": checks,
            },
            sort_keys=True,
        )
    )
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
