"""The question tree of a problem (after TreeInstruct): steps, and under each step its scaffold sub-questions.

The planner walks this tree: down into a scaffold when a student fails a step, back up to the step when the scaffold
is resolved, and forward past steps that a correct later value shows the student already did.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from pedagogy.answers import NormalizedAnswer, normalize_answer, number_matches
from pedagogy.domain import AnswerType, Hint, Misconception, Problem
from pedagogy.numbers import NumberMention, find_numbers
from pedagogy.reading import given_counts

FINAL_NODE_ID = "final"


@dataclass(frozen=True)
class TreeNode:
    id: str
    kind: Literal["step", "scaffold"]
    prompt: str
    answer: str
    answer_type: AnswerType
    expected: NormalizedAnswer | None
    skills: tuple[str, ...]
    step_index: int
    parent: str | None = None
    ladder: tuple[Hint, ...] = ()
    children: tuple[str, ...] = ()  # scaffold node ids, in ladder order
    misconceptions: tuple[Misconception, ...] = ()
    is_final: bool = False  # its answer is the problem's final answer: never told before the student states it

    def matches_value(self, mention: NumberMention) -> bool:
        if self.expected is None or self.expected.value is None:
            return False
        return number_matches(mention.value, self.expected, percent=mention.percent)


@dataclass(frozen=True)
class QuestionTree:
    problem: Problem
    nodes: dict[str, TreeNode]
    step_ids: tuple[str, ...]
    final: NormalizedAnswer | None
    # Numbers given in the problem text: a step whose answer is a given is no secret.
    given_values: frozenset[Fraction]
    vocabulary: frozenset[str]
    # What each given number counts in the problem text ("8 pounds" -> (8, "pounds")), where a word follows it.
    given_counts: frozenset[tuple[Fraction, str]] = frozenset()

    def node(self, node_id: str) -> TreeNode:
        return self.nodes[node_id]

    def step_of(self, node_id: str) -> TreeNode:
        node = self.nodes[node_id]
        return self.nodes[node.parent] if node.parent else node

    def later_steps(self, step_id: str) -> tuple[str, ...]:
        return self.step_ids[self.step_ids.index(step_id) + 1 :]

    def earlier_steps(self, step_id: str) -> tuple[str, ...]:
        return self.step_ids[: self.step_ids.index(step_id)]

    def is_final_value(self, mention: NumberMention) -> bool:
        return (
            self.final is not None
            and self.final.value is not None
            and (number_matches(mention.value, self.final, percent=mention.percent))
        )

    def misconception_for(self, node: TreeNode, text: str, mention: NumberMention | None) -> Misconception | None:
        """The authored misconception a wrong answer matches (a scaffold uses its step's list)."""
        owner = self.step_of(node.id)
        for m in owner.misconceptions if node.kind == "scaffold" else node.misconceptions:
            if m.pattern:
                try:
                    if re.search(m.wrong, text[:400], re.IGNORECASE):
                        return m
                except re.error:
                    continue
            elif mention is not None:
                wrong = normalize_answer(m.wrong, "number")
                if wrong is not None and number_matches(mention.value, wrong, percent=mention.percent):
                    return m
            elif m.wrong.strip().casefold() == text.strip().casefold():
                return m
        return None


def _same_answer(a: NormalizedAnswer | None, b: NormalizedAnswer | None) -> bool:
    if a is None or b is None:
        return False
    if a.value is not None and b.value is not None:
        return a.value == b.value or number_matches(a.value, b)
    return a.canonical == b.canonical


@lru_cache(maxsize=512)
def build_tree(problem: Problem) -> QuestionTree:
    """Build (and cache) the tree of a problem. A problem with no steps becomes a one-step tree."""
    final = normalize_answer(problem.answer, problem.answer_type, unit=problem.unit)
    nodes: dict[str, TreeNode] = {}
    step_ids: list[str] = []
    steps = problem.steps
    for index, step in enumerate(steps):
        expected = normalize_answer(step.answer, step.answer_type, unit=step.unit or problem.unit)
        is_final = step.answer_type == problem.answer_type and _same_answer(expected, final)
        children: list[str] = []
        for k, hint in enumerate(step.hints):
            if hint.kind != "scaffold" or hint.answer is None:
                continue
            child_id = f"{step.id}.{k + 1}"
            child_expected = normalize_answer(hint.answer, hint.answer_type, unit=step.unit or problem.unit)
            nodes[child_id] = TreeNode(
                id=child_id,
                kind="scaffold",
                prompt=hint.text,
                answer=hint.answer,
                answer_type=hint.answer_type,
                expected=child_expected,
                skills=step.skills,
                step_index=index,
                parent=step.id,
                is_final=hint.answer_type == problem.answer_type and _same_answer(child_expected, final),
            )
            children.append(child_id)
        nodes[step.id] = TreeNode(
            id=step.id,
            kind="step",
            prompt=step.prompt,
            answer=step.answer,
            answer_type=step.answer_type,
            expected=expected,
            skills=step.skills or problem.skills,
            step_index=index,
            ladder=step.hints,
            children=tuple(children),
            misconceptions=step.misconceptions,
            is_final=is_final,
        )
        step_ids.append(step.id)
    if not step_ids or not nodes[step_ids[-1]].is_final:
        # The last step must ask for the final answer; add that question when the authored steps stop short.
        nodes[FINAL_NODE_ID] = TreeNode(
            id=FINAL_NODE_ID,
            kind="step",
            prompt=_final_question(problem.text) if step_ids else problem.text,
            answer=problem.answer,
            answer_type=problem.answer_type,
            expected=final,
            skills=problem.skills,
            step_index=len(step_ids),
            is_final=True,
        )
        step_ids.append(FINAL_NODE_ID)
    texts = [problem.text] + [n.prompt for n in nodes.values()] + [h.text for s in steps for h in s.hints]
    vocabulary = frozenset(w for t in texts for w in re.findall(r"[a-z]{3,}", t.lower()))
    return QuestionTree(
        problem=problem,
        nodes=nodes,
        step_ids=tuple(step_ids),
        final=final,
        given_values=frozenset(v for m in find_numbers(problem.text) for v in (m.value, m.proportion)),
        vocabulary=vocabulary,
        given_counts=given_counts(problem.text),
    )


def _final_question(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    questions = [s for s in sentences if s.endswith("?")]
    return f"Now, back to the problem: {questions[-1]}" if questions else "So what is the answer to the problem?"
