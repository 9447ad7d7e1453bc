"""The dialogue cases of ``bench.dialogue``: one script per way a tutor can misread a student."""

from __future__ import annotations

import pytest

from bench.dialogue_cases import CASES, Case, run_case


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_tutor_answers_what_the_student_wrote(case: Case) -> None:
    assert run_case(case) == []


def test_a_why_question_is_answered_only_when_it_names_an_operation() -> None:
    from pedagogy.concepts import explain_question

    assert explain_question("why do we subtract?") is not None
    assert explain_question("why do I sometimes get this wrong?") is None
