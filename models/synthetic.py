"""Synthetic tutoring dialogues for fine-tuning: the planner tutoring simulated students on real content.

Each tutor turn of each simulated session becomes a move-conditioned example, like a MathDial teacher turn: the
move the planner chose, the dialogue so far, and the reply it delivered (the template realization, after the
guard). The model thus learns the planner's moves in the planner's voice, including its refusals to students who
ask for the answer.

    python -m models.synthetic --from ../shared/data/gsm8k/train.jsonl --problems 200 --output var/synthetic.jsonl

Problems come from a GSM8K jsonl file or a native YAML/JSON problem set. MathDial's problems are GSM8K problems, so
any problem whose question is a MathDial eval question is left out: fine-tuning never sees an eval problem.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import yaml

from models.data import EVAL_FRACTION, ChatExample, Turn, load_mathdial, split_of
from pedagogy.domain import Problem
from pedagogy.gsm8k import problem_from_gsm8k
from pedagogy.simulate import PROFILES, run_session
from pedagogy.tree import build_tree

#: The profiles whose sessions teach the most: students who struggle, hold misconceptions or ask for the answer.
DEFAULT_PROFILES = ("struggling", "misconceived", "weak_but_trying", "answer_seeker", "injector")


def _normalized(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def eval_questions(mathdial_folder: Path | None = None, eval_fraction: float = EVAL_FRACTION) -> set[str]:
    """The normalized question texts of the MathDial eval split."""
    return {_normalized(d.question) for d in load_mathdial(mathdial_folder) if split_of(d.qid, eval_fraction) == "eval"}


def load_problems(path: Path, *, limit: int = 0, exclude: set[str] | None = None) -> list[Problem]:
    """Problems from a GSM8K jsonl file or a native problem-set file, minus those whose question is excluded."""
    exclude = exclude or set()
    problems: list[Problem] = []
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                problem = problem_from_gsm8k(json.loads(line), problem_id=f"{path.stem}-{lineno}")
                if problem is not None and _normalized(problem.text) not in exclude:
                    problems.append(problem)
                if limit and len(problems) >= limit:
                    break
    else:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for record in document.get("problems", []):
            problem = Problem.from_dict(record)
            if _normalized(problem.text) not in exclude:
                problems.append(problem)
        problems = problems[:limit] if limit else problems
    return problems


def synthetic_examples(
    problems: Iterable[Problem], *, profiles: Sequence[str] = DEFAULT_PROFILES, seed: int = 0
) -> list[ChatExample]:
    """One simulated session per problem and profile; every tutor turn after the first is an example."""
    chosen = [p for p in PROFILES if p.name in set(profiles)]
    examples: list[ChatExample] = []
    for index, problem in enumerate(problems):
        tree = build_tree(problem)
        for offset, profile in enumerate(chosen):
            result = run_session(tree, profile, seed=seed + index * len(chosen) + offset, keep_transcript=True)
            history: list[Turn] = []
            moves = iter(result.tutor_moves)
            for role, text in result.transcript:
                if role == "tutor":
                    move = next(moves)
                    if history:  # the opening turn answers nothing; MathDial's examples start after a student turn
                        examples.append(
                            ChatExample(f"synthetic:{problem.id}", move, problem.text, "", tuple(history), text)
                        )
                    history.append(Turn("tutor", text, move))
                else:
                    history.append(Turn("student", text))
    return examples


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, required=True, help="GSM8K jsonl or a native set")
    parser.add_argument("--problems", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    problems = load_problems(args.source, limit=args.problems, exclude=eval_questions())
    examples = synthetic_examples(problems, seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(asdict(example)) + "\n")
    moves = Counter(e.move for e in examples)
    print(json.dumps({"problems": len(problems), "examples": len(examples), "moves": dict(sorted(moves.items()))}))


if __name__ == "__main__":
    main(sys.argv[1:])
