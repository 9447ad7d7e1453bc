"""Dialogue understanding: does the tutor read what the student wrote, and answer that?

    python -m bench.dialogue [--data PATH] [--labels PATH] [--show N]

Two sets:
1. Labelled MathDial student messages (``bench/dialogue_labels/mathdial.jsonl``, see its README): every claim, the
   first wrong claim and the step it works on, labelled by hand. Each dialogue is replayed through the planner from a
   fresh state (earlier student turns first, our own tutor turns in between), and at each labelled message the read
   and align stages are compared with the labels.
2. Our own cases (``bench/dialogue_cases.py``): one script per way a tutor can misread a student, each with what the
   tutor must (not) do.

Figures, last line JSON:
- claim_extraction_accuracy: matched claims / (matched + missed + extra), over all labelled messages (so a missed
  claim and an invented one both count against it; precision, recall and F1 are printed too); a claim matches when
  the stated value is the same and, for a calculation, its expression has the same value.
- first_wrong_location_accuracy: over labelled messages with at least one claim, the share where the first claim
  the aligner finds wrong is the labelled first wrong claim (or neither finds one).
- false_confirmations: replies that confirm a value whose labelled claim is wrong, or that say the problem is solved
  when the message's labelled answer is wrong.
- probes_after_shown_work: "how did you get ...?" replies to messages that show their work.
- repeated_tutor_texts: tutor replies identical to the tutor's previous reply in the same dialogue.
- blanks_shown: tutor replies with a malformed blank (two blanks, an empty quotation, a blank across sentences).
- cases_passed: own cases whose every check holds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from bench.dialogue_cases import CASES, run_case
from models.replay import ReplayContext, problem_for
from pedagogy.align import Alignment
from pedagogy.domain import Problem
from pedagogy.guard import GuardContext
from pedagogy.mathparse import ParseError, evaluate, parse
from pedagogy.numbers import find_numbers
from pedagogy.plan import TurnPlan
from pedagogy.planner import plan_turn, read_and_align
from pedagogy.reading import Claim
from pedagogy.realize import deliver
from pedagogy.state import DialogueState
from pedagogy.tree import build_tree

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TUTOR_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
DEFAULT_DATA = SHARED / "mathdial" / "test.jsonl"
DEFAULT_LABELS = REPO_ROOT / "bench" / "dialogue_labels" / "mathdial.jsonl"
DEFAULT_HELDOUT = REPO_ROOT / "bench" / "dialogue_labels" / "mathdial_heldout.jsonl"
TARGETS = {
    "claim_extraction_accuracy": 0.90,
    "first_wrong_location_accuracy": 0.80,
    "false_confirmations": 0,
    "probes_after_shown_work": 0,
    "repeated_tutor_texts": 0,
    "blanks_shown": 0,
}
_BLANK = "___"


@dataclass(frozen=True)
class LabelledClaim:
    value: Fraction
    expr_value: Fraction | None  # the value of the student's own expression, when the claim is a calculation
    expr: str | None


@dataclass
class Tally:
    matched: int = 0
    missed: int = 0
    extra: int = 0
    located: int = 0
    locatable: int = 0
    false_confirmations: int = 0
    probes_after_work: int = 0
    repeated: int = 0
    blanks: int = 0
    replies: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    def note(self, kind: str, text: str, limit: int) -> None:
        bucket = self.examples.setdefault(kind, [])
        if len(bucket) < limit:
            bucket.append(text)


def number(text: str) -> Fraction:
    return Fraction(text.replace(",", "").strip())


def labelled_claims(raw: Iterable[dict[str, str]]) -> list[LabelledClaim]:
    out = []
    for claim in raw:
        expr = claim.get("expr")
        expr_value = None
        if expr:
            try:
                expr_value = evaluate(parse(expr, latex=False))
            except (ParseError, ZeroDivisionError):
                expr_value = None
        out.append(LabelledClaim(number(claim["value"]), expr_value, expr))
    return out


def same_claim(found: Claim, label: LabelledClaim) -> bool:
    values = {found.stated, found.stated / 100} if found.percent else {found.stated}
    if label.value not in values:
        return False
    if label.expr is None or found.computed is None:
        return True
    return label.expr_value == found.computed


def match_claims(found: list[Claim], labels: list[LabelledClaim]) -> tuple[int, list[Claim], list[LabelledClaim]]:
    """Greedy matching in order of position: (matched count, extra found claims, missed labelled claims)."""
    remaining = list(labels)
    extra: list[Claim] = []
    matched = 0
    for claim in found:
        hit = next((label for label in remaining if same_claim(claim, label)), None)
        if hit is None:
            extra.append(claim)
        else:
            remaining.remove(hit)
            matched += 1
    return matched, extra, remaining


def malformed_blank(text: str) -> bool:
    if text.count(_BLANK) > 1 or re.search(r"[\u201c\"]\s*[\u201d\"]", text):
        return True
    if _BLANK not in text:
        return False
    # A blank inside a quotation that runs across sentences.
    for quoted in re.findall(r"\u201c([^\u201d]*)\u201d", text):
        if _BLANK in quoted and re.search(r"[.!?]\s+\S", quoted):
            return True
    return False


def load_dialogues(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def student_turn_indices(conversation: str) -> list[int]:
    """Indices (in the ``|EOM|`` split) of the student's turns; a turn not spoken by the teacher is the student's."""
    return [i for i, turn in enumerate(conversation.split("|EOM|")) if not turn.strip().startswith("Teacher:")]


def turn_text(raw: str) -> str:
    return raw.split(":", 1)[1].strip() if ":" in raw[:40] else raw.strip()


def replay_dialogue(dialogue: dict[str, Any], labels: dict[int, dict[str, Any]], tally: Tally, show: int) -> None:
    answer = str(dialogue["ground_truth"]).strip().splitlines()[-1].strip()
    context = ReplayContext(
        id=str(dialogue["qid"]),
        problem=str(dialogue["question"]),
        answer=answer,
        solution=str(dialogue["ground_truth"]),
        dialogue=(),
    )
    problem = problem_for(context)
    seed = zlib.crc32(context.id.encode())
    plan, state = plan_turn(problem, None, None, rng_seed=seed)
    texts: list[str] = []
    previous = deliver(None, plan, GuardContext(problem.text, ())).text
    texts.append(previous)
    turns = dialogue["conversation"].split("|EOM|")
    last_labelled = max(labels)
    for index in student_turn_indices(dialogue["conversation"]):
        if index > last_labelled:
            break
        message = turn_text(turns[index])
        label = labels.get(index)
        alignment = None
        if label is not None:
            said = tuple(m.value for turn in turns[:index] for m in find_numbers(turn_text(turn)))
            examples = similar_case_numbers(problem, turns[:index])
            alignment = score_reading(problem, state, message, label, tally, show, said, examples)
        plan, state = plan_turn(problem, state, message, rng_seed=seed)
        texts.append(message)
        delivered = deliver(None, plan, GuardContext(problem.text, tuple(texts)), previous=previous).text
        tally.replies += 1
        if " ".join(delivered.lower().split()) == " ".join(previous.lower().split()):
            tally.repeated += 1
            tally.note("repeated", delivered, show)
        if malformed_blank(delivered):
            tally.blanks += 1
            tally.note("blank", delivered, show)
        if label is not None and alignment is not None:
            score_reply(plan, alignment, message, label, tally, show)
        texts.append(delivered)
        previous = delivered


_RECORD_ID_RE = re.compile(r"\b[0-9a-f]{16,}\b")


def similar_case_numbers(problem: Problem, turns: list[str]) -> tuple[Fraction, ...]:
    """The numbers of similar cases the teacher brought up ("if you read 24 pages in 4 weeks ..."): a teacher turn
    with numbers that are neither the problem's, nor its solution's, nor said by the student before."""
    tree = build_tree(problem)
    own = set(tree.given_values) | {n.expected.value for n in tree.nodes.values() if n.expected is not None}
    out: list[Fraction] = []
    for turn in turns:
        text = _RECORD_ID_RE.sub(" ", turn_text(turn))
        values = [m.value for m in find_numbers(text)]
        if not turn.strip().startswith("Teacher:"):
            own.update(values)
            continue
        foreign = {v for v in values if v not in own}
        if foreign:
            out.extend(sorted(foreign))
    return tuple(out)


def score_reading(
    problem: Problem,
    state: DialogueState,
    message: str,
    label: dict[str, Any],
    tally: Tally,
    show: int,
    context: tuple[Fraction, ...] = (),
    examples: tuple[Fraction, ...] = (),
) -> Alignment:
    alignment = read_and_align(problem, state, message, context_values=context, example_values=examples)
    found = list(alignment.reading.claims)
    wanted = labelled_claims(label["claims"])
    matched, extra, missed = match_claims(found, wanted)
    tally.matched += matched
    tally.extra += len(extra)
    tally.missed += len(missed)
    if extra or missed:
        tally.note(
            "extraction",
            f"{message[:160]!r}\n      extra={[c.shown for c in extra]} "
            f"missed={[m.expr or str(m.value) for m in missed]}",
            show,
        )
    if not wanted:
        return alignment
    tally.locatable += 1
    if located(alignment, wanted, label.get("first_wrong")):
        tally.located += 1
    else:
        ours = alignment.first_wrong
        tally.note(
            "location",
            f"{message[:160]!r}\n      labelled={label.get('first_wrong')} ({label.get('wrong_kind')}) "
            f"ours={ours.claim.shown + ' ' + ours.verdict if ours else None}",
            show,
        )
    return alignment


def located(alignment: Alignment, wanted: list[LabelledClaim], first_wrong: int | None) -> bool:
    ours = alignment.first_wrong
    if first_wrong is None:
        return ours is None
    return ours is not None and same_claim(ours.claim, wanted[first_wrong])


def score_reply(
    plan: TurnPlan, alignment: Alignment, message: str, label: dict[str, Any], tally: Tally, show: int
) -> None:
    """A false confirmation confirms (or calls solved) the claim labelled as the first wrong one, or calls the
    problem solved on an answer the labels say is built on a wrong claim."""
    wanted = labelled_claims(label["claims"])
    first_wrong = label.get("first_wrong")
    if plan.sub_kind in ("confirm", "wrap_up") and plan.claim is not None and first_wrong is not None:
        confirmed = next((c for c in alignment.reading.claims if c.shown == plan.claim), None)
        wrong_claim = wanted[first_wrong]
        final_claim = wanted[-1]
        if confirmed is not None and (
            same_claim(confirmed, wrong_claim) or (plan.sub_kind == "wrap_up" and same_claim(confirmed, final_claim))
        ):
            tally.false_confirmations += 1
            tally.note("false_confirmation", f"{message[:200]!r} -> {plan.sub_kind} {plan.claim}", show)
    if plan.sub_kind == "probe" and plan.student_value and label.get("shown_work"):
        tally.probes_after_work += 1
        tally.note("probe_after_work", f"{message[:200]!r} -> probe {plan.student_value}", show)


def run_labelled(data: Path, labels_path: Path, show: int) -> Tally:
    dialogues = load_dialogues(data)
    by_dialogue: dict[int, dict[int, dict[str, Any]]] = {}
    with labels_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                label = json.loads(line)
                by_dialogue.setdefault(int(label["dialogue"]), {})[int(label["turn"])] = label
    tally = Tally()
    for index, labels in sorted(by_dialogue.items()):
        replay_dialogue(dialogues[index], labels, tally, show)
    return tally


def label_figures(tally: Tally, labels: Path) -> dict[str, Any]:
    claims_total = tally.matched + tally.missed + tally.extra
    return {
        "messages": sum(1 for _ in labels.open(encoding="utf-8") if _.strip()),
        "claims_labelled": tally.matched + tally.missed,
        "claim_extraction_accuracy": round(tally.matched / claims_total, 4) if claims_total else None,
        "claim_f1": round(2 * tally.matched / max(1, 2 * tally.matched + tally.extra + tally.missed), 4),
        "claim_precision": round(tally.matched / max(1, tally.matched + tally.extra), 4),
        "claim_recall": round(tally.matched / max(1, tally.matched + tally.missed), 4),
        "first_wrong_location_accuracy": round(tally.located / tally.locatable, 4) if tally.locatable else None,
        "false_confirmations": tally.false_confirmations,
        "probes_after_shown_work": tally.probes_after_work,
        "repeated_tutor_texts": tally.repeated,
        "blanks_shown": tally.blanks,
        "tutor_replies": tally.replies,
    }


def print_figures(title: str, figures: dict[str, Any]) -> None:
    print(f"{title}: {figures['messages']} messages ({figures['claims_labelled']} claims)")
    for key, target in TARGETS.items():
        relation = ">=" if isinstance(target, float) else "="
        print(f"  {key:32s} {figures[key]!s:>8}  (target {relation} {target})")
    print(
        f"  claim precision / recall / F1    {figures['claim_precision']} / {figures['claim_recall']}"
        f" / {figures['claim_f1']}"
    )


def print_examples(tally: Tally) -> None:
    for kind, examples in tally.examples.items():
        print(f"\n{kind}:")
        for example in examples:
            print(f"  - {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument(
        "--heldout",
        type=Path,
        default=DEFAULT_HELDOUT,
        help="labels never used to develop the rules, scored separately ('' to skip)",
    )
    parser.add_argument("--show", type=int, default=0, help="print up to N examples of each kind of miss")
    args = parser.parse_args(argv)
    if not args.data.exists():
        print(f"MathDial not found at {args.data} (set TUTOR_SHARED_DATA or --data)", file=sys.stderr)
        return 2
    tally = run_labelled(args.data, args.labels, args.show)
    case_results = [(case, run_case(case)) for case in CASES]
    for _, failures in case_results:
        tally.repeated += sum(1 for f in failures if f.startswith("repeated"))
    failed_cases = {case.name: failures for case, failures in case_results if failures}
    figures = label_figures(tally, args.labels)
    figures |= {"cases": len(CASES), "cases_passed": len(CASES) - len(failed_cases)}
    print_figures(f"Labelled MathDial messages ({args.labels.name})", figures)
    print(f"Own cases: {figures['cases_passed']}/{figures['cases']} pass")
    for name, failures in failed_cases.items():
        print(f"  FAIL {name}: {'; '.join(failures)}")
    if args.show:
        print_examples(tally)
    if args.heldout and args.heldout.is_file() and args.heldout.resolve() != args.labels.resolve():
        # Reported, never tuned on: the figures to expect on messages the rules have not seen.
        heldout = run_labelled(args.data, args.heldout, 0)
        figures["heldout"] = label_figures(heldout, args.heldout)
        print_figures(f"Held-out MathDial messages ({args.heldout.name})", figures["heldout"])
    kinds = Counter(case.failure for case in CASES)
    figures["cases_by_failure"] = dict(sorted(kinds.items()))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
