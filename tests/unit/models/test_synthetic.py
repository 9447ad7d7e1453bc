"""Synthetic dialogues: the planner tutoring simulated students, as move-conditioned fine-tuning examples."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

from models.data import MOVES, load_mathdial, split_of
from models.finetune import FinetuneConfig, synthetic_for
from models.synthetic import eval_questions, load_problems, synthetic_examples
from pedagogy.simulate import leaked

RECORD = {
    "question": "Ben has 3 boxes of 5 pens. He gives away 4 pens. How many pens does he have left?",
    "answer": "Ben has 3*5=<<3*5=15>>15 pens.\nHe has 15-4=<<15-4=11>>11 left.\n#### 11",
}


def test_every_example_is_a_labelled_tutor_turn_after_a_student_turn(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(RECORD) + "\n")
    (problem,) = load_problems(path)
    examples = synthetic_examples([problem], seed=3)
    assert examples and all(e.move in MOVES for e in examples)
    assert all(e.history and e.history[-1].role == "student" for e in examples)
    assert {e.move for e in examples} >= {"focus", "probing"}
    assert examples == synthetic_examples([problem], seed=3)  # deterministic under a seed


def test_no_example_reveals_the_final_answer_before_it_is_stated(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(RECORD) + "\n")
    for example in synthetic_examples(load_problems(path), seed=5):
        stated = any(turn.role == "student" and leaked(turn.text, Fraction(11)) for turn in example.history)
        if not stated:
            assert leaked(example.reply, Fraction(11)) is None, example.reply


def test_mathdial_eval_problems_are_never_used(shared_data: Path, tmp_path: Path) -> None:
    held_out = next(d for d in load_mathdial(shared_data / "mathdial") if split_of(d.qid) == "eval")
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({**RECORD, "question": held_out.question}) + "\n" + json.dumps(RECORD) + "\n")
    kept = load_problems(path, exclude=eval_questions(shared_data / "mathdial"))
    assert [p.text for p in kept] == [RECORD["question"]]


def test_a_finetune_config_mixes_synthetic_dialogues_in(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(RECORD) + "\n")
    config = FinetuneConfig(synthetic_from=str(path), synthetic_problems=1)
    examples = synthetic_for(config, shared_data / "mathdial")
    assert examples and all(e.qid == "synthetic:set-1" for e in examples)
