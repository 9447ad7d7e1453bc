"""Reading a text a clause at a time, and keeping each clause's reading, finds exactly what reading it whole finds."""

from __future__ import annotations

import json
import random
from pathlib import Path

from pedagogy.guard import allowed_numbers
from pedagogy.numbers import find_numbers, read_numbers

# Forms next to a clause end, in both orders: what one clause holds must never change what another reads.
NEAR_CLAUSE_ENDS = [
    "They have a hundred plates to deliver. The rice cost ten cents a plate.",
    "They have a hundred plates to deliver. The rice cost 10 cents a plate.",
    "Two, and a half. Then a dozen, then a hundred: three quarters.",
    "It was 24. 5 more came; 1, 200 left, 1,200 stayed.",
    "Take this one, then one more. One, two, three!",
    "Is it 3/4? 2 1/2, or \\frac{3}{4}; 25 %, then 25%. -5, then - 5.",
    "We had 2 million. 3 thousand, and 4 and a half; 0. 5 and .5, or 6.75.",
    "twenty-four, forty two; four point five. point five, and five.",
    "the opening bid of $200. from that, 50 per cent: 50 percent, 50%.",
    "a hundred, a thousand, a half. An eighth of it: one third, two thirds.",
    "",
    ". , ;",
    "No numbers here. None at all!",
]


def test_each_text_near_clause_ends_reads_as_it_does_whole() -> None:
    for text in NEAR_CLAUSE_ENDS:
        assert find_numbers(text) == read_numbers(text), text
        # Kept readings are found again, in the same places.
        assert find_numbers(text) == read_numbers(text), text


def test_a_clause_reads_words_as_numbers_only_when_its_text_has_a_number_word() -> None:
    alone = "They have a hundred plates to deliver. The rice cost 10 cents a plate."
    with_ten = "They have a hundred plates to deliver. The rice cost ten cents a plate."
    assert [m.text for m in find_numbers(alone)] == ["10"]
    assert [m.text for m in find_numbers(with_ten)] == ["a hundred", "ten"]


def test_random_texts_of_number_parts_read_as_they_do_whole() -> None:
    parts = [*"0123456789 .,;:!?-/%$", " one", " two", " half", " and", " a", " per cent", " thousand", "\\frac{3}{4}"]
    rng = random.Random(7)
    for _ in range(20000):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 24)))
        assert find_numbers(text) == read_numbers(text), text


def test_gsm8k_problems_and_solutions_read_as_they_do_whole(shared_data: Path) -> None:
    lines = (shared_data / "gsm8k" / "train.jsonl").read_text().splitlines()[:1500]
    for line in lines:
        record = json.loads(line)
        for text in (record["question"], record["answer"]):
            assert find_numbers(text) == read_numbers(text), text


def test_a_caller_changing_its_list_changes_no_later_reading() -> None:
    text = "Maya bakes 4 trays. Each holds 6 cookies, and she sells 3."
    first = find_numbers(text)
    first.clear()
    assert [m.text for m in find_numbers(text)] == ["4", "6", "3"]
    allowed = allowed_numbers([text])
    allowed.clear()
    assert allowed_numbers([text])
