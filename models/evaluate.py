"""Offline evaluation of the tutor model on the MathDial eval split.

    python -m models.evaluate perplexity --finetuned var/finetune/smollm2-cpu-lora/final --max-examples 120
    python -m models.evaluate generate --backend none --max-contexts 40
    python -m models.evaluate replay --input contexts.jsonl --output replies.jsonl --backend local

``perplexity``: perplexity of the reference teacher turns given the same move-conditioned prompts the model is
trained on, for the base model and a fine-tuned checkpoint (a LoRA folder or a merged model). Lower means the
model finds what real teachers said, for the move they made, more likely. Prints a table and writes JSON.

``generate``: the system's own turn (planner, backend, guard; :mod:`models.replay`) for eval-split teacher-turn
contexts, with its leak rate, question rate, guard pass rate and move agreement (:mod:`models.generated`). Prints a
table, then the figures as one JSON line.

``replay``: the system's next turn for each context of a jsonl file (``docs/formats.md``); a bad line is reported
with its number, the others are still replayed, and the exit status is 1 when any line failed.

The eval problems never appear in training (both sides use :func:`models.data.split_of`). MathDial questions come
from GSM8K, so a base model that saw GSM8K may have seen the problems, never these dialogues.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.backends import BACKEND_NAMES, TutorLLM, backend_from_settings, backend_kind
from models.data import EVAL_FRACTION, ChatExample, mathdial_examples
from models.finetune import CONFIG_FILE, collate, encode_example, load_base, load_config, load_finetuned, reply_nll
from models.generated import evaluate_generated
from models.replay import (
    MAX_NEW_TOKENS,
    PROMPT_MODE_BY_BACKEND,
    REPLY_TIMEOUT_SECONDS,
    ContextError,
    parse_context,
    replay,
)
from pedagogy.prompting import PromptMode


@dataclass
class Perplexity:
    label: str
    perplexity: float
    mean_nll: float
    tokens: int
    examples: int
    seconds: float
    by_move: dict[str, float] = field(default_factory=dict)


def eval_subset(examples: Sequence[ChatExample], max_examples: int) -> list[ChatExample]:
    """Up to ``max_examples`` examples spread evenly over the split (every problem's dialogues are contiguous)."""
    if max_examples <= 0 or len(examples) <= max_examples:
        return list(examples)
    stride = len(examples) / max_examples
    return [examples[int(index * stride)] for index in range(max_examples)]


def perplexity(
    model: Any,
    tokenizer: Any,
    examples: Sequence[ChatExample],
    *,
    label: str,
    max_length: int,
    max_history_turns: int,
    batch_size: int = 4,
    device: str = "cpu",
) -> Perplexity:
    """exp of the mean negative log-likelihood per reply token, overall and per move."""
    started = time.perf_counter()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    pairs = [
        (example.move, item)
        for example in examples
        if (item := encode_example(tokenizer, example, max_length=max_length, max_history_turns=max_history_turns))
        is not None
    ]
    by_move: dict[str, list[Any]] = defaultdict(list)
    for move, item in pairs:
        by_move[move].append(item)
    # Batches hold one move each, so each batch's summed loss belongs to a single move.
    totals: dict[str, list[float]] = {}
    for move, items in sorted(by_move.items()):
        nll_sum, count_sum = 0.0, 0
        for start in range(0, len(items), batch_size):
            nll, count = reply_nll(model, collate(items[start : start + batch_size], pad_id), device)
            nll_sum += nll
            count_sum += count
        totals[move] = [nll_sum, float(count_sum)]
    nll_sum = sum(value[0] for value in totals.values())
    tokens = int(sum(value[1] for value in totals.values()))
    mean = nll_sum / max(1, tokens)
    return Perplexity(
        label=label,
        perplexity=math.exp(mean),
        mean_nll=mean,
        tokens=tokens,
        examples=len(pairs),
        seconds=round(time.perf_counter() - started, 1),
        by_move={move: math.exp(value[0] / max(1, value[1])) for move, value in sorted(totals.items())},
    )


def _model_config(checkpoint: Path | None) -> tuple[str, int, int]:
    """Base model and prompt sizes the checkpoint was trained with, so both models see the same prompts."""
    if checkpoint is not None and (checkpoint / CONFIG_FILE).is_file():
        config = load_config(checkpoint / CONFIG_FILE)
        return config.base_model, config.max_length, config.max_history_turns
    defaults = load_config(None)
    return defaults.base_model, defaults.max_length, defaults.max_history_turns


def run_perplexity(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    base_model, max_length, history = _model_config(args.finetuned)
    if args.base is not None:
        base_model = args.base
    max_length = args.max_length or max_length
    examples = mathdial_examples("eval", folder=args.data_dir, eval_fraction=args.eval_fraction)
    subset = eval_subset(examples, args.max_examples)
    options = {"max_length": max_length, "max_history_turns": history, "batch_size": args.batch_size}
    results = []
    model, tokenizer = load_base(base_model, "cpu")
    model.eval()
    results.append(perplexity(model, tokenizer, subset, label="base", **options))
    del model
    if args.finetuned is not None:
        model, tokenizer = load_finetuned(args.finetuned)
        results.append(perplexity(model, tokenizer, subset, label=f"fine-tuned ({args.finetuned})", **options))
    report = {
        "split": "eval",
        "eval_fraction": args.eval_fraction,
        "eval_examples_total": len(examples),
        "eval_problems": len({example.qid for example in subset}),
        "max_length": max_length,
        "max_history_turns": history,
        "results": [vars(result) for result in results],
    }
    print(f"{'model':<60} {'ppl':>8} {'nll':>7} {'tokens':>7} {'examples':>8} {'seconds':>8}")
    for result in results:
        print(
            f"{result.label:<60} {result.perplexity:>8.2f} {result.mean_nll:>7.3f} {result.tokens:>7} "
            f"{result.examples:>8} {result.seconds:>8.1f}"
        )
        moves = ", ".join(f"{move} {value:.2f}" for move, value in result.by_move.items())
        print(f"{'':<4}by move: {moves}")
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(f"wrote {args.output}")
    return report


def _backend(args: argparse.Namespace) -> tuple[TutorLLM, PromptMode]:
    """The backend the flags name, over the environment's ``TUTOR_LLM_*`` settings, and its prompt mode."""
    settings = {key: value for key, value in os.environ.items() if key.startswith("TUTOR_LLM_")}
    for key, value in (
        ("TUTOR_LLM_BACKEND", args.backend),
        ("TUTOR_LLM_URL", args.url),
        ("TUTOR_LLM_MODEL", args.model),
        ("TUTOR_LLM_DEVICE", args.device),
    ):
        if value is not None:
            settings[key] = value
    llm = backend_from_settings(settings)
    # The backend actually built: with ``auto`` it follows what is available, and the prompt mode follows it.
    mode: PromptMode = args.mode or PROMPT_MODE_BY_BACKEND.get(backend_kind(llm), "paraphrase")
    return llm, mode


def _phrasing_options(args: argparse.Namespace) -> dict[str, Any]:
    return {"max_new_tokens": args.max_new_tokens, "temperature": args.temperature, "timeout": args.timeout}


async def _replay_lines(args: argparse.Namespace, llm: TutorLLM, mode: PromptMode) -> tuple[int, int]:
    done = failed = 0
    name = str(args.input)
    with args.input.open(encoding="utf-8") as source, args.output.open("w", encoding="utf-8") as sink:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                context = parse_context(raw)
            except (json.JSONDecodeError, ContextError) as exc:
                reason = f"not JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
                print(f"{name}:{number}: {reason}", file=sys.stderr)
                failed += 1
                continue
            turn = await replay(context, llm, mode=mode, **_phrasing_options(args))
            sink.write(json.dumps({**raw, "reply": turn.to_json()}, ensure_ascii=False) + "\n")
            done += 1
    return done, failed


def run_replay(args: argparse.Namespace) -> int:
    """Replay every context of ``--input`` into ``--output``; 1 when any line failed, else 0."""
    if args.threads > 0:
        os.environ["TUTOR_TORCH_THREADS"] = str(args.threads)
    llm, mode = _backend(args)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    done, failed = asyncio.run(_replay_lines(args, llm, mode))
    print(f"replayed {done} contexts with {llm.name} ({mode}) into {args.output}; {failed} bad lines")
    return 1 if failed else 0


def run_generate(args: argparse.Namespace) -> dict[str, Any]:
    if args.threads > 0:
        os.environ["TUTOR_TORCH_THREADS"] = str(args.threads)
    llm, mode = _backend(args)
    examples = mathdial_examples("eval", folder=args.data_dir, eval_fraction=args.eval_fraction)
    subset = eval_subset(examples, args.max_contexts)
    figures, records = asyncio.run(
        evaluate_generated(subset, llm, label=f"{llm.name} ({mode})", mode=mode, **_phrasing_options(args))
    )
    report = {
        "split": "eval",
        "eval_fraction": args.eval_fraction,
        "eval_examples_total": len(examples),
        "eval_problems": len({example.qid for example in subset}),
        "max_new_tokens": args.max_new_tokens,
        "temperature": args.temperature,
        "results": [vars(figures)],
    }
    columns = ("leak", "model leak", "question", "guard pass", "move agree", "ref. agree", "seconds")
    print(f"{'backend':<40} {'contexts':>8} " + " ".join(f"{c:>10}" for c in columns))
    model_leak = "-" if figures.model_leak_rate is None else f"{figures.model_leak_rate:.3f}"
    values = (
        f"{figures.leak_rate:.3f}",
        model_leak,
        f"{figures.question_rate:.3f}",
        f"{figures.guard_pass_rate:.3f}",
        f"{figures.move_agreement:.3f}",
        f"{figures.reference_move_agreement:.3f}",
        f"{figures.seconds:.1f}",
    )
    print(f"{figures.label:<40} {figures.contexts:>8} " + " ".join(f"{v:>10}" for v in values))
    print(f"    delivered from: {figures.sources}; planned moves: {figures.planned_moves}")
    if args.replies is not None:
        args.replies.parent.mkdir(parents=True, exist_ok=True)
        with args.replies.open("w", encoding="utf-8") as sink:
            for record in records:
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"wrote {args.replies}")
    print(json.dumps(report))
    return report


def _add_backend_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--backend", choices=BACKEND_NAMES, default=None, help="default: TUTOR_LLM_BACKEND, else auto")
    command.add_argument("--url", default=None, help="openai: the server's base URL (TUTOR_LLM_URL)")
    command.add_argument("--model", default=None, help="local: a model folder; openai: the served model name")
    command.add_argument("--device", default=None, help="local: cpu, cuda or auto")
    command.add_argument("--mode", choices=("paraphrase", "plan"), default=None, help="default: by backend, as the app")
    command.add_argument("--max-new-tokens", type=int, default=MAX_NEW_TOKENS)
    command.add_argument("--temperature", type=float, default=0.0, help="0: greedy, reproducible")
    command.add_argument("--timeout", type=float, default=REPLY_TIMEOUT_SECONDS, help="seconds per reply")
    command.add_argument("--threads", type=int, default=0, help="local: torch threads")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ppl = commands.add_parser("perplexity", help="teacher-turn perplexity, base vs fine-tuned")
    ppl.add_argument("--finetuned", type=Path, help="a checkpoint from models.finetune (LoRA or merged)")
    ppl.add_argument("--base", help="base model folder (default: the checkpoint's base, else packaged SmolLM2)")
    ppl.add_argument("--data-dir", type=Path, default=None, help="the mathdial folder")
    ppl.add_argument("--eval-fraction", type=float, default=EVAL_FRACTION)
    ppl.add_argument("--max-examples", type=int, default=120, help="0: the whole eval split")
    ppl.add_argument("--max-length", type=int, default=0, help="0: the checkpoint's max_length")
    ppl.add_argument("--batch-size", type=int, default=4)
    ppl.add_argument("--threads", type=int, default=0)
    ppl.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    generate = commands.add_parser("generate", help="leak, question, guard and move figures of generated turns")
    _add_backend_options(generate)
    generate.add_argument("--data-dir", type=Path, default=None, help="the mathdial folder")
    generate.add_argument("--eval-fraction", type=float, default=EVAL_FRACTION)
    generate.add_argument("--max-contexts", type=int, default=40, help="0: every eval teacher turn")
    generate.add_argument("--replies", type=Path, default=None, help="write each context's reply here (jsonl)")
    replayer = commands.add_parser("replay", help="the system's next turn for each context of a jsonl file")
    _add_backend_options(replayer)
    replayer.add_argument("--input", type=Path, required=True, help="contexts, one JSON object a line")
    replayer.add_argument("--output", type=Path, required=True, help="the contexts with their replies")
    args = parser.parse_args(argv)
    if args.command == "perplexity":
        run_perplexity(args)
    elif args.command == "generate":
        run_generate(args)
    elif args.command == "replay":
        sys.exit(run_replay(args))


if __name__ == "__main__":
    main()
