"""Teacher corrections as preference pairs for fine-tuning: the prompt the model saw, the teacher's rewrite (chosen)
and the tutor's turn (rejected). The prompt is rebuilt from the stored plan in ``plan`` mode, the mode a fine-tuned
model is served in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pedagogy.plan import TurnPlan
from pedagogy.prompting import build_messages

from .models import TurnCorrection
from .tutoring import dialogue


def preference_pairs() -> Iterator[dict[str, Any]]:
    corrections = TurnCorrection.objects.select_related("turn__session__problem").order_by("id")
    for correction in corrections:
        turn = correction.turn
        if not turn.plan:
            continue  # a turn stored without its plan cannot be turned back into the prompt it answered
        history = dialogue(turn.session_id, before_seq=turn.seq)
        messages = build_messages(
            TurnPlan.from_json(turn.plan), history, problem_text=turn.session.problem.text, mode="plan"
        )
        yield {
            "id": f"correction-{correction.pk}",
            "prompt": messages,
            "chosen": correction.text,
            "rejected": turn.text,
            "move": turn.move,
        }
