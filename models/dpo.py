"""Direct preference optimisation (Rafailov et al. 2023) on teachers' corrections of tutor turns.

    python manage.py export_preferences --output var/preferences.jsonl
    python -m models.dpo --config models/configs/smollm2-cpu-lora.yaml --preferences var/preferences.jsonl \
        [--beta 0.1] [--max_steps 30 ...]

Each pair is the prompt the tutor answered, the teacher's rewrite (chosen) and the tutor's turn (rejected). The
model learns to prefer the rewrite relative to where it started: the loss is
``-log sigmoid(beta * ((log p(chosen) - log p_ref(chosen)) - (log p(rejected) - log p_ref(rejected))))``.

The objective is the one trl's ``DPOTrainer`` implements, computed here in the same small loop as supervised
fine-tuning, so the training environment needs no trl and its dataset stack. Training is LoRA only: the reference
model is the same network with the adapter switched off, so no second copy is held in memory.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from models.finetune import (
    IGNORE_INDEX,
    Encoded,
    FinetuneConfig,
    TrainResult,
    collate,
    load_base,
    load_config,
    reply_logits,
    save_checkpoint,
    start_run,
    trainable_model,
)


@dataclass(frozen=True)
class PreferencePair:
    id: str
    prompt: list[dict[str, str]]
    chosen: str
    rejected: str


def load_pairs(path: Path) -> list[PreferencePair]:
    """Read a preference file; a malformed line is an error naming the line."""
    pairs = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            prompt = [{"role": str(m["role"]), "content": str(m["content"])} for m in data["prompt"]]
            pair = PreferencePair(str(data.get("id", lineno)), prompt, str(data["chosen"]), str(data["rejected"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{lineno}: not a preference pair ({exc!r})") from exc
        if not prompt or pair.chosen.strip() == pair.rejected.strip():
            raise ValueError(f"{path}:{lineno}: a pair needs a prompt and two different replies")
        pairs.append(pair)
    return pairs


def encode_pair(tokenizer: Any, pair: PreferencePair, *, max_length: int) -> tuple[Encoded, Encoded] | None:
    """The prompt followed by each reply, prompt masked; ``None`` if either does not fit in ``max_length``."""
    prompt_text = tokenizer.apply_chat_template(pair.prompt, tokenize=False, add_generation_prompt=True)
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    encoded = []
    for reply in (pair.chosen, pair.rejected):
        reply_ids = tokenizer(reply + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
        if len(prompt_ids) + len(reply_ids) > max_length:
            return None
        encoded.append(Encoded(prompt_ids + reply_ids, [IGNORE_INDEX] * len(prompt_ids) + reply_ids))
    return encoded[0], encoded[1]


def reply_logps(model: Any, batch: dict[str, Any]) -> Any:
    """Per row, the summed log-probability of the reply tokens of a :func:`models.finetune.collate` batch."""
    import torch

    logits, targets = reply_logits(model, batch)
    mask = targets != IGNORE_INDEX
    token_logps = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (token_logps * mask).sum(dim=1)


def dpo_loss(
    policy_chosen: Any, policy_rejected: Any, reference_chosen: Any, reference_rejected: Any, beta: float
) -> tuple[Any, Any]:
    """The mean DPO loss and the per-pair reward margin ``beta * (chosen gain - rejected gain)``."""
    import torch

    margin = beta * ((policy_chosen - reference_chosen) - (policy_rejected - reference_rejected))
    return -torch.nn.functional.logsigmoid(margin).mean(), margin.detach()


def train_dpo(
    config: FinetuneConfig, pairs: Sequence[PreferencePair], *, beta: float = 0.1, log: Any = print
) -> TrainResult:
    """Optimise a LoRA adapter on ``pairs``; the checkpoint layout is the same as supervised fine-tuning's.

    1. Load the base model and wrap it in LoRA (the adapter switched off is the frozen reference).
    2. Encode each pair as prompt + chosen and prompt + rejected; pairs that do not fit are skipped.
    3. Per step: reference log-probabilities without gradients, policy log-probabilities, the DPO loss, AdamW.
    4. Save the adapter, the config and the loss and margin history.
    """
    import torch

    if config.method != "lora":
        raise ValueError("preference training runs on a LoRA adapter (method: lora)")
    started, device, output = start_run(config)
    base, tokenizer = load_base(config.base_model, device)
    model = trainable_model(base, config)
    encoded = [e for pair in pairs if (e := encode_pair(tokenizer, pair, max_length=config.max_length)) is not None]
    skipped = len(pairs) - len(encoded)
    if not encoded:
        raise ValueError("no preference pair fits in max_length")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    order = list(range(len(encoded)))
    random.Random(config.seed).shuffle(order)
    losses: list[float] = []
    margins: list[float] = []
    cursor = 0
    log(f"preference training {config.name}: {len(encoded)} pairs ({skipped} too long), beta {beta}, {device}")
    model.train()
    for step in range(1, config.max_steps + 1):
        indices = [order[(cursor + k) % len(order)] for k in range(config.batch_size)]
        cursor += config.batch_size
        # Chosen rows first, then rejected: one forward pass scores both.
        rows = [encoded[i][0] for i in indices] + [encoded[i][1] for i in indices]
        batch = {key: value.to(device) for key, value in collate(rows, pad_id).items()}
        with torch.no_grad(), model.disable_adapter():
            reference = reply_logps(model, batch)
        policy = reply_logps(model, batch)
        n = len(indices)
        loss, margin = dpo_loss(policy[:n], policy[n:], reference[:n], reference[n:], beta)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
        optimizer.step()
        losses.append(float(loss.detach()))
        margins.append(float(margin.mean()))
        if not math.isfinite(losses[-1]):
            raise FloatingPointError(f"loss became {losses[-1]} at step {step}")
        if config.log_every and (step % config.log_every == 0 or step == 1):
            log(f"step {step}/{config.max_steps} loss {losses[-1]:.4f} margin {margins[-1]:.4f}")
    checkpoint = output / "final"
    state = {
        "step": config.max_steps,
        "losses": losses,
        "margins": margins,
        "pairs": len(encoded),
        "skipped": skipped,
        "beta": beta,
        "seconds": round(time.perf_counter() - started, 2),
        "device": device,
    }
    save_checkpoint(model, tokenizer, config, checkpoint, state)
    model.eval()
    return TrainResult(checkpoint, losses, len(encoded), skipped, time.perf_counter() - started, model, tokenizer)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, help="A YAML config (models/configs/*.yaml).")
    parser.add_argument("--preferences", type=Path, required=True, help="JSON lines from export_preferences.")
    parser.add_argument("--beta", type=float, default=0.1, help="How far from the reference the model may move.")
    args, overrides = parser.parse_known_args(argv)
    try:
        config = load_config(args.config, overrides)
        pairs = load_pairs(args.preferences)
    except (ValueError, OSError) as exc:
        parser.exit(2, f"error: {exc}\n")
    config = replace(config, output_dir=str(Path(config.output_dir).with_name(Path(config.output_dir).name + "-dpo")))
    result = train_dpo(config, pairs, beta=args.beta)
    print(json.dumps({"checkpoint": str(result.checkpoint), "losses": result.losses, "pairs": result.examples}))


if __name__ == "__main__":
    main(sys.argv[1:])
