from __future__ import annotations

import itertools
import json
from fractions import Fraction
from pathlib import Path

import pytest

from pedagogy import mathparse
from pedagogy.domain import Problem, Step
from pedagogy.gsm8k import build_problem, malformed_prompt_reasons, malformed_question_reasons, problem_from_gsm8k
from pedagogy.planner import plan_turn
from pedagogy.realize import realize
from pedagogy.step_questions import quantity_question

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


def record_at(path: Path, line: int) -> dict[str, str]:
    """One record of a jsonl file, by its line number (as an import report names it)."""
    with path.open(encoding="utf-8") as fh:
        text = next(itertools.islice(fh, line - 1, None))
    record: dict[str, str] = json.loads(text)
    return record


def built(record: dict[str, str]) -> Problem:
    problem = problem_from_gsm8k(record, problem_id="p")
    assert problem is not None
    return problem


def scaffolds(step: Step) -> list[tuple[str, str | None]]:
    return [(h.text, h.answer) for h in step.hints if h.kind == "scaffold"]


# --- the questions a step asks ----------------------------------------------------------------------------------------


def test_it_asks_for_the_quantity_the_solution_line_names() -> None:
    problem = built(NATALIA)
    assert [s.answer for s in problem.steps] == ["24", "72"]
    assert problem.steps[0].prompt == "How many clips did Natalia sell in May?"
    assert problem.answer == "72"
    assert problem.steps[0].skills == ("arith.divide",)


@pytest.mark.parametrize(
    ("before", "after", "money", "question"),
    [
        ("She got ", " thank-you cards.", False, "How many thank-you cards did she get?"),
        ("There are 3 boxes, so each box holds ", " pencils.", False, "How many pencils does each box hold?"),
        ("The total cost is ", ".", True, "What is the total cost?"),
        ("If Romina bought 20 such boxes, he paid ", "", True, "If Romina bought 20 such boxes, how much did he pay?"),
        ("So, he is ", " years old.", False, "How old is he?"),
        ("After 5 hours, they will drink ", " cups of coffee together.", False,
         "After 5 hours, how many cups of coffee will they drink together?"),
        ("Hallie works a total of ", " hours", False, "How many hours does Hallie work in total?"),
        ("On the third day, ", " students called in sick.", False,
         "On the third day, how many students called in sick?"),
        ("He dropped 2 eggs so ", " eggs left", False, "How many eggs are left?"),
        ("Add them up to find the total number of bags: ", " bags", False, "What is the total number of bags?"),
    ],
)  # fmt: skip
def test_it_turns_the_words_around_a_result_into_a_question(
    before: str, after: str, money: bool, question: str
) -> None:
    assert quantity_question(before, after, money=money, percent=False) == question


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Oranges = ", ""),  # no subject and no verb
        ("The mural is ", ""),  # "What is the mural?" would ask for the wrong thing
        ("Therefore", "% of the flowers are not roses."),  # a percentage
        ("Eduardo then ate 3/5 of the remaining cookies, a total of ", " cookies"),  # an apposition
        ("So she uses a total of ", " blue, red, and white beads."),  # a list the question would cut
    ],
)
def test_it_writes_no_quantity_question_when_the_sentence_has_no_shape_it_knows(before: str, after: str) -> None:
    assert quantity_question(before, after, money=False, percent=after.startswith("%")) is None


def test_it_asks_for_the_calculation_when_the_line_names_no_quantity(shared_data: Path) -> None:
    # "33 * 16 = $528": nothing but the calculation (the old prompt was an empty quote, "___").
    problem = built(record_at(shared_data / "gsm8k" / "train.jsonl", 66))
    assert [s.prompt for s in problem.steps[:3]] == [
        "What is 33 \u00d7 16?",
        "What is 3 \u00d7 10?",
        "What is 528 + 30?",
    ]
    assert all(not malformed_prompt_reasons(step) for step in problem.steps)


def test_a_chained_calculation_is_asked_whole_and_scaffolded_one_operation_at_a_time() -> None:
    record = {
        "question": "Betty has $100 and spends $50, $30 and $15. How much is left?",
        "answer": "100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5\n#### 5",
    }
    last = built(record).steps[-1]
    assert last.prompt == "What is 100 \u2212 50 \u2212 30 \u2212 15?"
    assert [h.kind for h in last.hints] == ["hint", "scaffold", "scaffold", "scaffold", "bottom_out"]
    assert scaffolds(last) == [
        ("What is 100 \u2212 50?", "50"),
        ("What is 50 \u2212 30?", "20"),
        ("What is 20 \u2212 15?", "5"),
    ]


def test_money_is_asked_with_how_much_and_the_worked_sentence_is_the_bottom_out() -> None:
    last = built(BETTY).steps[-1]
    assert last.prompt == "How much more does she need?"
    assert last.hints[-1].text == "She needs 100 - 50 - 30 - 15 = $5 more."


def test_the_socratic_sub_question_stays_the_prompt(shared_data: Path) -> None:
    record = record_at(shared_data / "gsm8k" / "test_socratic.jsonl", 1)
    questions = [line.split(" ** ")[0] for line in record["answer"].splitlines() if " ** " in line]
    build = build_problem(record, problem_id="p")
    assert build.problem is not None
    assert [s.prompt for s in build.problem.steps] == questions
    assert set(build.prompt_kinds) == {"socratic"}


def test_a_result_stated_before_its_working_is_asked_from_the_statement_and_never_shown() -> None:
    record = {
        "question": "A film cost 25 million and its profit was 380 million. How much did it earn?",
        "answer": "The film earned 405 million because 25 + 380 = <<25+380=405>>405\n#### 405",
    }
    prompt = built(record).steps[0].prompt
    assert "405" not in prompt
    assert not malformed_prompt_reasons(built(record).steps[0])


def test_a_question_never_mentions_a_later_result() -> None:
    record = {
        "question": "Tom has 3 bags of 4 apples and eats 2. How many apples are left?",
        "answer": "Tom has 3 * 4 = <<3*4=12>>12 apples, so 10 are left after 12 - 2 = <<12-2=10>>10\n#### 10",
    }
    problem = built(record)
    assert problem.steps[0].prompt == "How many apples does Tom have?"
    assert "10" not in problem.steps[0].prompt


# --- the reproduced failures of the blank prompts -------------------------------------------------------------------


def test_a_line_with_its_result_stated_twice_gets_one_question_not_two_blanks(shared_data: Path) -> None:
    # "She got 15 thank you cards because 5 / (1/3) = 15" used to read
    # "What number goes in the blank: 'She got ___ thank you cards because ___'?".
    problem = built(record_at(shared_data / "gsm8k" / "train.jsonl", 3990))
    assert problem.steps[1].prompt == "How many thank you cards did she get?"
    assert [malformed_prompt_reasons(s) for s in problem.steps] == [(), (), ()]


def test_a_line_that_is_only_a_calculation_never_shows_an_empty_quote(shared_data: Path) -> None:
    problem = built(record_at(shared_data / "gsm8k" / "train.jsonl", 66))
    for step in problem.steps:
        assert "“" not in step.prompt and "___" not in step.prompt


def test_a_fractional_result_is_kept_whole() -> None:
    # The annotation cut the fraction short (<<...=3>>3/8): the old prompt showed "___/8 cups".
    record = {
        "question": "A recipe needs 3/4 cup of flour. Mia makes half of the recipe. How much flour does she use?",
        "answer": "Mia uses 3/4 * 1/2 = <<3/4*1/2=3>>3/8 cups of flour.\n#### 3/8",
    }
    build = build_problem(record, problem_id="p")
    assert build.problem is not None
    step = build.problem.steps[0]
    assert step.answer == "0.375"
    assert step.prompt == "How many cups of flour does Mia use?"
    assert step.hints[0].kind == "hint"
    assert scaffolds(step)[-1] == ("What is 0.75 \u00d7 0.5?", "0.375")
    assert [w.code for w in build.warnings] == ["calculation-repaired"]


def test_every_scaffold_states_the_exact_value_of_its_own_arithmetic() -> None:
    # The annotation kept only the end of the chain: the old scaffold was "What is 23 - 80?" expecting 163.
    record = {
        "question": "Jeannie used 23 Post-it notes and bought 80 more. She had 220. How many does she have now?",
        "answer": "We see that x=220+23-80 = <<23-80=163>>163 Post-it notes.\n#### 163",
    }
    build = build_problem(record, problem_id="p")
    assert build.problem is not None
    step = build.problem.steps[0]
    assert step.answer == "163"
    assert scaffolds(step) == [("What is 220 + 23?", "243"), ("What is 243 \u2212 80?", "163")]
    assert [w.code for w in build.warnings] == ["calculation-repaired"]
    for text, answer in scaffolds(step):
        expression = text.removeprefix("What is ").removesuffix("?")
        assert answer is not None and mathparse.evaluate(mathparse.parse(expression)) == Fraction(answer)


def test_a_wrong_calculation_is_skipped_and_reported_never_taught() -> None:
    record = {
        "question": "Matthew cooks 4 hot dogs for his sisters, 4 for himself and 6 for his friend. How many in all?",
        "answer": "Matthew cooks 4 + 4 = <<4+4=8>>8 hot dogs for the family.\n"
        "All total, Matthew needs to cook 4+4+6 = <<4+4+6=18>>18 hot dogs\n#### 18",
    }
    build = build_problem(record, problem_id="p")
    assert build.problem is not None
    assert [s.answer for s in build.problem.steps] == ["8"]
    assert [w.code for w in build.warnings] == ["wrong-calculation"]
    assert "4 + 4 + 6 = 14, not 18" in build.warnings[0].message
    assert "solution line 2" in build.warnings[0].message


def test_a_calculation_rounded_in_the_line_says_so() -> None:
    record = {
        "question": "Three friends share $10 equally. How much does each get?",
        "answer": "Each friend gets 10 / 3 = $<<10/3=3.33>>3.33.\n#### 3.33",
    }
    build = build_problem(record, problem_id="p")
    assert build.problem is not None and build.warnings == ()
    assert scaffolds(build.problem.steps[0]) == [("What is 10 \u00f7 3, to 2 decimal places?", "3.33")]


@pytest.mark.parametrize(
    ("prompt", "answer", "reason"),
    [
        ("What number goes in the blank: “She got ___ thank you cards because ___”?", "15", "more than one blank"),
        ("What number goes in the blank: “___”?", "528", "an empty quote"),
        ("What number goes in the blank: “She uses ___/8 cups.”?", "3/8", "leaves part of its result showing"),
        ("What number goes in the blank: “He paid $___.”?", "15", "leaves part of its result showing"),
        ("What number goes in the blank: “He ate ___. Then 4 more.”?", "2", "a quote of more than one sentence"),
        ("How many eggs are left after she sells 9?", "9", "contains its own answer"),
    ],
)
def test_malformed_prompts_are_named(prompt: str, answer: str, reason: str) -> None:
    assert any(reason in found for found in malformed_question_reasons(prompt, answer))


# --- the rest of the step -------------------------------------------------------------------------------------------


def test_swapped_operations_become_misconceptions_unless_they_are_another_steps_answer() -> None:
    problem = built(NATALIA)
    assert {m.wrong for m in problem.steps[0].misconceptions} == {"96", "46"}
    # 48 - 24 = 24 is step one's answer: restating it is not the subtraction misconception.
    assert "24" not in {m.wrong for m in problem.steps[1].misconceptions}


def test_dollar_signs_are_escaped_so_markdown_math_does_not_swallow_them() -> None:
    assert "\\$100" in built(BETTY).text


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


@pytest.mark.parametrize("name", ["test.jsonl", "test_socratic.jsonl"])
def test_no_real_prompt_is_malformed_and_every_scaffold_holds(shared_data: Path, name: str) -> None:
    kinds: dict[str, int] = {}
    with (shared_data / "gsm8k" / name).open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            build = build_problem(json.loads(line), problem_id=str(i))
            if build.problem is None:
                continue
            for step, kind in zip(build.problem.steps, build.prompt_kinds, strict=True):
                kinds[kind] = kinds.get(kind, 0) + 1
                assert malformed_prompt_reasons(step) == (), step.prompt
                for text, answer in scaffolds(step):
                    if "decimal place" not in text:
                        expression = text.removeprefix("What is ").removesuffix("?").replace(",", "")
                        value = mathparse.evaluate(mathparse.parse(expression))
                        assert answer is not None and value == Fraction(answer), text
    assert kinds.get("quantity", 0) > kinds.get("arithmetic", 0) or kinds.get("socratic", 0) > 0
