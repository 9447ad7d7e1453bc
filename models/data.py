"""Move-conditioned chat examples for fine-tuning the tutor model, built from MathDial.

MathDial dialogues alternate a teacher and a simulated student; every teacher turn is labelled with its move,
``Teacher: (probing)...``. Each teacher turn becomes one example whose prompt has the layout of the app's
``plan`` prompting mode (``pedagogy.prompting``): the tutor's rules, the problem and a plan naming the move in
the system message, then the recent dialogue as user (student) and assistant (tutor) messages. The target is
what the teacher said. As at run time, the prompt holds no solution: a model cannot leak what it is not told.

Problems are split into train and eval by a hash of their ``qid``: deterministic, stable when dialogues are
added, and no problem is ever on both sides.

    python -m models.data --split eval --limit 2     # print examples
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pedagogy.prompting import RULES

REPO_ROOT = Path(__file__).resolve().parents[1]
MOVES = ("focus", "probing", "telling", "generic")
MOVE_GUIDANCE = {
    "focus": "Focus the student on the step that matters next, without solving it for them.",
    "probing": "Ask a question that makes the student explain or check their own reasoning.",
    "telling": "Tell the student the fact or step they are missing, briefly and kindly.",
    "generic": "Keep the conversation going: greet, encourage, or ask how they are getting on.",
}
OPENING = "(The student has just opened the problem.)"
EVAL_FRACTION = 0.2
SPLIT_SALT = "mathdial-split-v1"

Split = Literal["train", "eval"]
Role = Literal["tutor", "student"]
_TEACHER = re.compile(r"^\s*Teacher:\s*(?:\((\w+)\))?\s*(.*)$", re.DOTALL)
_SPEAKER = re.compile(r"^\s*([A-Z][\w' .-]{0,30}):\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Turn:
    role: Role
    text: str
    move: str | None = None


@dataclass(frozen=True)
class Dialogue:
    qid: str
    question: str
    solution: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class ChatExample:
    """One tutor turn to learn: what the teacher saw, the move they made and the ``reply`` they gave.

    ``solution`` (MathDial's reference solution) is kept for evaluation; it is never part of the prompt.
    """

    qid: str
    move: str
    question: str
    solution: str
    history: tuple[Turn, ...]
    reply: str

    def prompt(self, max_history_turns: int = 6) -> tuple[dict[str, str], ...]:
        return build_prompt(
            self.question,
            self.history,
            self.move,
            asks_question="?" in self.reply,
            max_history_turns=max_history_turns,
        )

    def messages(self, max_history_turns: int = 6) -> list[dict[str, str]]:
        return [*self.prompt(max_history_turns), {"role": "assistant", "content": self.reply}]


def default_mathdial_dir() -> Path:
    """``mathdial`` in the shared data folder beside the repository (``TUTOR_SHARED_DATA`` overrides)."""
    shared = os.environ.get("TUTOR_SHARED_DATA", "").strip()
    root = Path(shared) if shared else REPO_ROOT.parent / "shared" / "data"
    return root / "mathdial"


def parse_conversation(text: str) -> tuple[Turn, ...]:
    """Split a MathDial ``conversation`` (turns joined by ``|EOM|``) into turns.

    Teacher turns start ``Teacher: (move)``; student turns start ``Student:`` or the student's name.
    """
    turns: list[Turn] = []
    for raw in text.split("|EOM|"):
        if not raw.strip():
            continue
        teacher = _TEACHER.match(raw)
        if teacher:
            move = teacher.group(1).lower() if teacher.group(1) else None
            turns.append(Turn("tutor", teacher.group(2).strip(), move if move in MOVES else None))
            continue
        speaker = _SPEAKER.match(raw)
        turns.append(Turn("student", (speaker.group(2) if speaker else raw).strip()))
    return tuple(turns)


def load_mathdial(folder: Path | None = None, filename: str = "test.jsonl") -> list[Dialogue]:
    """Every dialogue of one MathDial jsonl file, in file order."""
    path = (folder or default_mathdial_dir()) / filename
    dialogues = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            dialogues.append(
                Dialogue(
                    qid=str(row["qid"]),
                    question=str(row["question"]).strip(),
                    solution=str(row["ground_truth"]).strip(),
                    turns=parse_conversation(str(row["conversation"])),
                )
            )
    return dialogues


def split_of(qid: str, eval_fraction: float = EVAL_FRACTION) -> Split:
    """``eval`` for a fixed, hash-chosen ``eval_fraction`` of problems, ``train`` for the rest."""
    digest = hashlib.sha256(f"{SPLIT_SALT}:{qid}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "eval" if position < eval_fraction else "train"


def build_prompt(
    question: str, history: Sequence[Turn], move: str, *, asks_question: bool = True, max_history_turns: int = 6
) -> tuple[dict[str, str], ...]:
    """The ``plan``-mode prompt for the tutor's next turn.

    It follows ``pedagogy.prompting.build_messages(mode="plan")`` so that a model tuned on these examples sees
    at run time what it saw in training: the rules, the problem and the plan (the move, what it asks for, whether
    to end with a question) in the system message; then at most ``max_history_turns`` turns of dialogue,
    starting with a student turn, with an opening user message when the tutor speaks first.
    """
    plan = [f"Move: {move}.", f"- {MOVE_GUIDANCE[move]}"]
    plan.append("End with a question." if asks_question else "No question is needed.")
    system = [*RULES, "", f"The problem:\n{question}", "", "Write the tutor's next reply following this plan:", *plan]
    messages = [{"role": "system", "content": "\n".join(system)}]
    recent = list(history)[-max_history_turns:] if max_history_turns > 0 else []
    while recent and recent[0].role != "student":
        recent.pop(0)  # chat templates expect a user message right after the system message
    for turn in recent:
        role = "user" if turn.role == "student" else "assistant"
        if messages[-1]["role"] == role:
            messages[-1] = {"role": role, "content": messages[-1]["content"] + "\n" + turn.text}
        else:
            messages.append({"role": role, "content": turn.text})
    if messages[-1]["role"] != "user":
        messages.append({"role": "user", "content": OPENING})
    return tuple(messages)


def examples_from_dialogue(dialogue: Dialogue, *, moves: Iterable[str] = MOVES) -> list[ChatExample]:
    """One example per labelled, non-empty teacher turn whose move is in ``moves``."""
    wanted = set(moves)
    return [
        ChatExample(dialogue.qid, turn.move, dialogue.question, dialogue.solution, dialogue.turns[:index], turn.text)
        for index, turn in enumerate(dialogue.turns)
        if turn.role == "tutor" and turn.move in wanted and turn.move is not None and turn.text
    ]


def mathdial_examples(
    split: Split,
    *,
    folder: Path | None = None,
    eval_fraction: float = EVAL_FRACTION,
    moves: Iterable[str] = MOVES,
) -> list[ChatExample]:
    """The chat examples of one side of the split, in file order."""
    moves = tuple(moves)
    examples: list[ChatExample] = []
    for dialogue in load_mathdial(folder):
        if split_of(dialogue.qid, eval_fraction) == split:
            examples.extend(examples_from_dialogue(dialogue, moves=moves))
    return examples


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["train", "eval"], default="train")
    parser.add_argument("--folder", type=Path, default=None, help="the mathdial folder")
    parser.add_argument("--eval-fraction", type=float, default=EVAL_FRACTION)
    parser.add_argument("--limit", type=int, default=0, help="print this many examples as JSON lines")
    args = parser.parse_args(argv)
    examples = mathdial_examples(args.split, folder=args.folder, eval_fraction=args.eval_fraction)
    moves = Counter(example.move for example in examples)
    problems = len({example.qid for example in examples})
    counts = dict(sorted(moves.items()))
    print(f"{args.split}: {len(examples)} examples from {problems} problems; moves {counts}")
    for example in examples[: args.limit]:
        print(json.dumps({"qid": example.qid, "move": example.move, "messages": example.messages()}))


if __name__ == "__main__":
    main()
