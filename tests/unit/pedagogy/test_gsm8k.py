from __future__ import annotations

import itertools
import json
from pathlib import Path

from pedagogy.gsm8k import problem_from_gsm8k
from pedagogy.planner import plan_turn
from pedagogy.realize import realize

NATALIA = {
    "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?",
    "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
    "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
}
BETTY = {
    "question": "Betty needs $100. She has half of it, her parents give $15 and her grandparents twice as much. "
    "How much more does she need?",
    "answer": "Betty has 100 / 2 = $<<100/2=50>>50.\nHer grandparents gave 15 * 2 = $<<15*2=30>>30.\n"
    "She needs 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5 more.\n#### 5",
}


def test_each_calculation_becomes_a_step_with_its_result_blanked() -> None:
    problem = problem_from_gsm8k(NATALIA, problem_id="natalia")
    assert problem is not None
    assert [s.answer for s in problem.steps] == ["24", "72"]
    assert problem.steps[0].prompt == "What number goes in the blank: “Natalia sold ___ clips in May.”?"
    assert problem.answer == "72"
    assert problem.steps[0].skills == ("arith.divide",)


def test_a_step_has_a_hint_a_scaffold_per_operation_and_a_bottom_out() -> None:
    problem = problem_from_gsm8k(BETTY, problem_id="betty")
    assert problem is not None
    last = problem.steps[-1]
    assert [h.kind for h in last.hints] == ["hint", "scaffold", "scaffold", "scaffold", "bottom_out"]
    assert [h.answer for h in last.hints if h.kind == "scaffold"] == ["50", "20", "5"]
    assert last.hints[-1].text == "She needs 100 - 50 - 30 - 15 = $5 more."


def test_swapped_operations_become_misconceptions_unless_they_are_another_steps_answer() -> None:
    problem = problem_from_gsm8k(NATALIA, problem_id="natalia")
    assert problem is not None
    assert {m.wrong for m in problem.steps[0].misconceptions} == {"96", "46"}
    # 48 - 24 = 24 is step one's answer: restating it is not the subtraction misconception.
    assert "24" not in {m.wrong for m in problem.steps[1].misconceptions}


def test_a_result_stated_before_its_working_is_blanked_too() -> None:
    record = {
        "question": "A film cost 25 million and its profit was 380 million. How much did it earn?",
        "answer": "The film earned 405 million because 25 + 380 = <<25+380=405>>405\n#### 405",
    }
    problem = problem_from_gsm8k(record, problem_id="film")
    assert problem is not None
    assert "405" not in problem.steps[0].prompt


def test_dollar_signs_are_escaped_so_markdown_math_does_not_swallow_them() -> None:
    problem = problem_from_gsm8k(BETTY, problem_id="betty")
    assert problem is not None and "\\$100" in problem.text


def test_a_record_without_annotations_is_skipped() -> None:
    assert problem_from_gsm8k({"question": "Q?", "answer": "It is 4.\n#### 4"}, problem_id="x") is None


def test_real_gsm8k_problems_convert_and_plan(shared_data: Path) -> None:
    path = shared_data / "gsm8k" / "train.jsonl"
    with path.open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in itertools.islice(fh, 200)]
    problems = [problem_from_gsm8k(r, problem_id=str(i)) for i, r in enumerate(records)]
    usable = [p for p in problems if p is not None]
    assert len(usable) >= 190
    for problem in usable:
        plan, state = plan_turn(problem, None, None)
        assert plan.sub_kind == "greet" and plan.question
        assert problem.answer in plan.must_not_reveal
        plan, state = plan_turn(problem, state, "I don't know")
        assert realize(plan)
