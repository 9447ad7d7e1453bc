"""How GSM8K steps are asked: prompts by kind, what the builder repaired or left out, and malformed prompts.

    .venv/bin/python -m bench.gsm8k_steps                      # GSM8K train, 30 sample questions
    .venv/bin/python -m bench.gsm8k_steps --data ../shared/data/gsm8k/test_socratic.jsonl --samples 0

1. Build every record of the file with :func:`pedagogy.gsm8k.build_problem`.
2. Count the steps by the kind of prompt they ask (the record's Socratic sub-question, a question for the quantity
   the solution line names, or the calculation itself), the builder's warnings by code (scaffolds dropped for wrong
   arithmetic, calculations repaired or skipped, steps with no question that does not state its own answer), and
   the prompts :func:`pedagogy.gsm8k.malformed_prompt_reasons` finds malformed, by reason (this must be zero).
3. Print ``--samples`` random steps as "solution sentence -> question" for a person to read.

The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

from pedagogy.gsm8k import build_problem, malformed_prompt_reasons

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("TUTOR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def measure(path: Path) -> tuple[dict[str, Any], list[tuple[str, str, str, str]]]:
    """The figures for one GSM8K file and every step as (kind, worked sentence, prompt, answer)."""
    kinds: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    malformed: Counter[str] = Counter()
    steps: list[tuple[str, str, str, str]] = []
    records = unusable = 0
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            records += 1
            build = build_problem(json.loads(line), problem_id=f"{path.stem}-{lineno}")
            warnings.update(w.code for w in build.warnings)
            if build.problem is None:
                unusable += 1
                continue
            for step, kind in zip(build.problem.steps, build.prompt_kinds, strict=True):
                kinds[kind] += 1
                malformed.update(malformed_prompt_reasons(step))
                steps.append((kind, step.hints[-1].text, step.prompt, step.answer))
    figures = {
        "input": path.name,
        "records": records,
        "records_without_steps": unusable,
        "steps": len(steps),
        "prompts": {kind: kinds[kind] for kind in ("socratic", "quantity", "arithmetic")},
        "warnings": dict(warnings.most_common()),
        "malformed": dict(malformed.most_common()),
    }
    return figures, steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA / "gsm8k" / "train.jsonl")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    figures, steps = measure(args.data)
    total = figures["steps"] or 1
    print(f"{figures['input']}: {figures['records']:,} records, {figures['steps']:,} steps")
    for kind, n in figures["prompts"].items():
        print(f"  {kind:<10} {n:>6,} prompts ({100 * n / total:.1f}%)")
    print(f"  records with no usable step: {figures['records_without_steps']:,}")
    print("  warnings: " + (", ".join(f"{code} {n:,}" for code, n in figures["warnings"].items()) or "none"))
    print("  malformed prompts: " + (", ".join(f"{why} {n:,}" for why, n in figures["malformed"].items()) or "none"))
    rng = random.Random(args.seed)
    for kind, sentence, prompt, answer in rng.sample(steps, min(args.samples, len(steps))):
        print(f"- {sentence}\n    -> {prompt}  [{kind}; answer {answer}]")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
