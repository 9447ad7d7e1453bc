"""What one step of a problem tells the learner model: one observation per step per session, or none.

Knowledge tracing reads a step as one opportunity to show every skill the step is tagged with, and the observation
is the student's first attempt at it (Corbett and Anderson 1994; the "correct first attempt" of PSLC DataShop).
Whatever follows on the same step (retries, hints, probes, scaffold sub-questions, misconception feedback) is
tutoring, not a fresh test of what the student knew before it, so it never adds observations: a step answered wrong
three times and then right is one incorrect observation, not three, and a step answered right after a hint says
nothing about whether the hint was needed.

Steps of one problem that share a skill are separate opportunities to use it, and each gives its own observation,
as in the standard knowledge-component model.
"""

from __future__ import annotations

from pedagogy.state import Resolution


def step_observation(resolution: Resolution, *, wrong_answers: int, help_seen: int) -> bool | None:
    """The step's one observation (True correct, False incorrect), or None when the step is no evidence either way.

    ``wrong_answers`` counts the wrong values the student gave on the step and on its scaffold sub-questions;
    ``help_seen`` counts the hints, scaffolds, probes and feedback the student had on the step.

    1. A wrong answer on the step means the first answer was wrong: a right answer resolves a step, so no answer
       comes after it. Incorrect, once, however the step was resolved after.
    2. A step the tutor had to tell (its bottom-out) is incorrect: the student did not produce it.
    3. Help asked for before any answer, then right (typed, through a scaffold with the step's answer, or implied by
       a later value): no observation. DataShop's convention counts a hint request as a wrong first attempt, but
       that scores asking as failing, which the tutor invites and which is weaker evidence of not knowing than a
       wrong answer; crediting the answer would be wrong too, as the hint did part of the work. So the step's
       skills stay where they were.
    4. Otherwise the student was right at the first answer, typed or implied by a correct later value: correct.
    """
    if wrong_answers > 0 or resolution == "told":
        return False
    if help_seen > 0 or resolution == "after_help":
        return None
    return True
