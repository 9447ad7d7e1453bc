"""Move-conditioned chat examples from MathDial and the problem-level train/eval split."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.data import (
    MOVE_GUIDANCE,
    MOVES,
    OPENING,
    Dialogue,
    Turn,
    examples_from_dialogue,
    load_mathdial,
    mathdial_examples,
    parse_conversation,
    split_of,
)

CONVERSATION = (
    "Teacher: (generic)Hi Cody, walk me through your solution?|EOM|"
    "Cody: I multiplied 3 by 4 and got 12.|EOM|"
    "Teacher: (probing)Why did you multiply there?|EOM|"
    "Student: Because there are 3 bags of 4.|EOM|"
    "Teacher: (telling) It is 3 bags of 5, so 15.|EOM|"
    "Student: Oh, 15!"
)


@pytest.fixture(scope="module")
def mathdial(shared_data: Path) -> Path:
    return shared_data / "mathdial"


def test_it_parses_moves_and_strips_speaker_names() -> None:
    turns = parse_conversation(CONVERSATION)

    assert [(turn.role, turn.move) for turn in turns] == [
        ("tutor", "generic"),
        ("student", None),
        ("tutor", "probing"),
        ("student", None),
        ("tutor", "telling"),
        ("student", None),
    ]
    assert turns[1].text == "I multiplied 3 by 4 and got 12."
    assert turns[4].text == "It is 3 bags of 5, so 15."


def test_each_labelled_teacher_turn_becomes_an_example_conditioned_on_its_move() -> None:
    dialogue = Dialogue("7", "3 bags of 5 apples: how many?", "3 * 5 = 15\n 15", parse_conversation(CONVERSATION))

    examples = examples_from_dialogue(dialogue)

    assert [(example.move, example.reply) for example in examples] == [
        ("generic", "Hi Cody, walk me through your solution?"),
        ("probing", "Why did you multiply there?"),
        ("telling", "It is 3 bags of 5, so 15."),
    ]
    system, *dialogue = examples[2].prompt(max_history_turns=2)
    assert system["role"] == "system"
    assert "3 bags of 5 apples" in system["content"]
    assert "3 * 5 = 15" not in system["content"]
    assert f"Move: telling.\n- {MOVE_GUIDANCE['telling']}\nNo question is needed." in system["content"]
    assert dialogue == [{"role": "user", "content": "Because there are 3 bags of 4."}]
    assert examples[2].messages()[-1] == {"role": "assistant", "content": "It is 3 bags of 5, so 15."}


def test_the_dialogue_window_starts_with_the_student_and_an_opening_turn_stands_in_for_none() -> None:
    dialogue = Dialogue("7", "3 bags of 5 apples: how many?", "3 * 5 = 15\n 15", parse_conversation(CONVERSATION))
    opening, probing, _ = examples_from_dialogue(dialogue)

    assert [message["role"] for message in opening.prompt()] == ["system", "user"]
    assert opening.prompt()[1]["content"] == OPENING
    assert "End with a question." in opening.prompt()[0]["content"]
    assert [message["role"] for message in probing.prompt(max_history_turns=3)] == ["system", "user"]
    assert [message["role"] for message in probing.prompt(max_history_turns=6)] == ["system", "user"]
    window = examples_from_dialogue(dialogue)[2].prompt(max_history_turns=4)
    assert [message["role"] for message in window] == ["system", "user", "assistant", "user"]
    assert window[2]["content"] == "Why did you multiply there?"


def test_a_move_filter_keeps_only_those_moves() -> None:
    dialogue = Dialogue("7", "q", "s", parse_conversation(CONVERSATION))

    assert [example.move for example in examples_from_dialogue(dialogue, moves=["probing"])] == ["probing"]


def test_the_split_is_by_problem_deterministic_and_never_overlaps(mathdial: Path) -> None:
    train = mathdial_examples("train", folder=mathdial)
    held_out = mathdial_examples("eval", folder=mathdial)
    problems = {dialogue.qid for dialogue in load_mathdial(mathdial)}

    train_qids = {example.qid for example in train}
    eval_qids = {example.qid for example in held_out}
    assert not train_qids & eval_qids
    assert train_qids | eval_qids == problems
    assert 0.1 < len(eval_qids) / len(problems) < 0.3
    assert [split_of(qid) for qid in sorted(problems)] == [split_of(qid) for qid in sorted(problems)]
    assert {example.move for example in train} == set(MOVES)
    assert mathdial_examples("eval", folder=mathdial) == held_out


def test_a_larger_eval_fraction_only_moves_problems_from_train_to_eval(mathdial: Path) -> None:
    problems = {dialogue.qid for dialogue in load_mathdial(mathdial)}

    small = {qid for qid in problems if split_of(qid, 0.1) == "eval"}
    large = {qid for qid in problems if split_of(qid, 0.3) == "eval"}

    assert small < large


def test_every_dialogue_has_labelled_teacher_turns(mathdial: Path) -> None:
    dialogues = load_mathdial(mathdial)

    assert len(dialogues) > 500
    for dialogue in dialogues:
        tutor_turns = [turn for turn in dialogue.turns if turn.role == "tutor"]
        assert tutor_turns, dialogue.qid
        assert all(turn.move in MOVES for turn in tutor_turns), dialogue.qid
        assert all(isinstance(turn, Turn) and turn.text for turn in dialogue.turns if turn.role == "student")
