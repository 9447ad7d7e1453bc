"""Supervised fine-tuning of the tutor model on move-conditioned MathDial turns (LoRA by default).

    python -m models.finetune --config models/configs/smollm2-cpu-lora.yaml [--max_steps 20 ...] [--merge]

A YAML file sets :class:`FinetuneConfig`; ``--name value`` flags override single fields. Every checkpoint folder
holds the weights (a LoRA adapter, or the whole model with ``method: full``), the tokenizer, the config that made
it (``finetune_config.yaml``) and the loss history (``trainer_state.json``). ``--merge`` then writes ``merged/``,
a plain model folder that ``vllm serve`` (and the ``local`` backend) can load.

Only the teacher's reply is learned: prompt tokens are masked out of the loss. Training never sees an eval
problem (see :func:`models.data.split_of`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import sys
import time
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from models.backends import pick_device, resolve_model_source
from models.data import EVAL_FRACTION, MOVES, ChatExample, default_mathdial_dir, mathdial_examples

CONFIG_FILE = "finetune_config.yaml"
STATE_FILE = "trainer_state.json"
IGNORE_INDEX = -100


@dataclass
class FinetuneConfig:
    """Everything a run depends on; saved beside every checkpoint."""

    name: str = "tutor-lora"
    base_model: str = ""  # a local model folder or GGUF file; empty: the packaged SmolLM2-135M-Instruct
    data_dir: str = ""  # the mathdial folder; empty: the shared data folder beside the repository
    output_dir: str = "var/finetune/tutor-lora"
    method: str = "lora"  # "lora" or "full"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_layers: int = 0  # 0: every layer; N: only the top N layers, which also shortens the backward pass
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    moves: list[str] = field(default_factory=lambda: list(MOVES))
    eval_fraction: float = EVAL_FRACTION
    max_train_examples: int = 0  # 0: all of the train split
    # Synthetic dialogues (models.synthetic): the planner tutoring simulated students on this content, mixed in.
    synthetic_from: str = ""  # a GSM8K jsonl or native problem set; empty: GSM8K train beside the repository
    synthetic_problems: int = 0  # 0: no synthetic dialogues
    max_length: int = 512  # tokens; longer examples drop their oldest dialogue turns first
    max_history_turns: int = 4
    max_steps: int = 100
    batch_size: int = 4
    grad_accum_steps: int = 1
    learning_rate: float = 2e-4
    warmup_steps: int = 5
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # torch CPU threads; 0 leaves torch's default
    log_every: int = 5
    save_every: int = 0  # 0: save only the final checkpoint

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        items = value if isinstance(value, list) else [part for part in str(value).split(",") if part.strip()]
        return [_coerce(part, item, key) for part in items]
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(annotation) if option is not type(None)]
        if value is None or str(value).lower() in {"none", "null"}:
            return None
        return _coerce(value, options[0], key)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"1", "true", "yes", "on"}:
            return True
        if str(value).lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{key} must be true or false, got {value!r}")
    if annotation in (int, float, str):
        try:
            return annotation(value) if not isinstance(value, str) else annotation(value.strip())
        except ValueError as exc:
            raise ValueError(f"{key} must be a {annotation.__name__}, got {value!r}") from exc
    raise TypeError(f"unsupported config type for {key}: {annotation}")


def config_from_mapping(values: dict[str, Any]) -> FinetuneConfig:
    """A config from a mapping, with every value converted to its field's type; unknown keys are errors."""
    hints = typing.get_type_hints(FinetuneConfig)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ValueError(f"unknown config keys: {', '.join(unknown)}")
    return FinetuneConfig(**{key: _coerce(value, hints[key], key) for key, value in values.items()})


def load_config(path: Path | None, overrides: Sequence[str] = ()) -> FinetuneConfig:
    """The YAML file's config with ``--name value`` (or ``--name=value``) overrides applied."""
    values: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path} must hold a mapping of config keys")
        values.update(loaded)
    tokens = list(overrides)
    while tokens:
        token = tokens.pop(0)
        if not token.startswith("--"):
            raise ValueError(f"expected --name value, got {token!r}")
        key, has_value, value = token[2:].partition("=")
        if not has_value:
            if not tokens:
                raise ValueError(f"{token} needs a value")
            value = tokens.pop(0)
        values[key.replace("-", "_")] = value
    return config_from_mapping(values)


def save_config(config: FinetuneConfig, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")


# -- tokens ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]


def encode_example(tokenizer: Any, example: ChatExample, *, max_length: int, max_history_turns: int) -> Encoded | None:
    """Prompt and reply tokens, the prompt masked out of the labels; ``None`` if even a bare prompt is too long.

    The reply ends with the end-of-turn token so the model learns to stop.
    """
    reply_ids = tokenizer(example.reply + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    for history in range(min(max_history_turns, len(example.history)), -1, -1):
        prompt_text = tokenizer.apply_chat_template(
            list(example.prompt(history)), tokenize=False, add_generation_prompt=True
        )
        prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
        if len(prompt_ids) + len(reply_ids) <= max_length:
            return Encoded(prompt_ids + reply_ids, [IGNORE_INDEX] * len(prompt_ids) + reply_ids)
    return None


def collate(batch: Sequence[Encoded], pad_id: int) -> dict[str, Any]:
    """Left-padded tensors, so every reply ends at the right edge and logits are needed only there."""
    import torch

    width = max(len(item.input_ids) for item in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, item in enumerate(batch):
        start = width - len(item.input_ids)
        input_ids[row, start:] = torch.tensor(item.input_ids)
        labels[row, start:] = torch.tensor(item.labels)
        attention[row, start:] = 1
    positions = (attention.cumsum(dim=1) - 1).clamp(min=0)
    return {"input_ids": input_ids, "attention_mask": attention, "position_ids": positions, "labels": labels}


def reply_logits(model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
    """The logits that predict the reply tokens of a :func:`collate` batch, and those target tokens.

    Only the last positions, where the replies are, go through the output layer: with a 49k-token vocabulary
    that layer is a large share of a small model's compute.
    """
    labels = batch["labels"]
    # Every row starts with prompt tokens, so the earliest reply token sits at index 1 or later and the logits
    # that predict the replies are those from one position before it up to the second-to-last.
    first = int((labels != IGNORE_INDEX).float().argmax(dim=1).min())
    keep = labels.size(1) - first
    logits = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        logits_to_keep=keep + 1,
    ).logits[:, :-1]
    return logits, labels[:, -keep:]


def reply_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Summed cross-entropy of the reply tokens in a :func:`collate` batch (a tensor) and how many there were."""
    import torch

    logits, targets = reply_logits(model, batch)
    total = torch.nn.functional.cross_entropy(
        logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
    )
    return total, int((targets != IGNORE_INDEX).sum())


def reply_nll(model: Any, batch: dict[str, Any], device: str) -> tuple[float, int]:
    """Summed negative log-likelihood of the reply tokens in ``batch`` and how many there were (no gradients)."""
    import torch

    with torch.no_grad():
        total, count = reply_loss(model, {key: value.to(device) for key, value in batch.items()})
    return float(total), count


# -- model -----------------------------------------------------------------------------------------------------


def load_base(base_model: str, device: str) -> tuple[Any, Any]:
    """The base model (float32) and its tokenizer, from the packaged model or a local folder; never a hub."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_source(base_model or None)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model: Any = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    model.to(device)
    return model, tokenizer


def load_finetuned(checkpoint: Path, device: str = "cpu") -> tuple[Any, Any]:
    """A checkpoint (LoRA adapter on its base, or a full model) and its tokenizer, ready for inference."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model: Any
    if (checkpoint / "adapter_config.json").is_file():
        from peft import PeftModel

        config = load_config(checkpoint / CONFIG_FILE)
        base, _ = load_base(config.base_model, device)
        model = PeftModel.from_pretrained(base, checkpoint)
    else:
        model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
    model.to(device)
    model.eval()
    return model, tokenizer


def trainable_model(model: Any, config: FinetuneConfig) -> Any:
    if config.method == "full":
        return model
    if config.method != "lora":
        raise ValueError(f"method must be lora or full, got {config.method!r}")
    from peft import LoraConfig, get_peft_model

    layers = None
    if config.lora_layers > 0:
        depth = int(model.config.num_hidden_layers)
        layers = list(range(max(0, depth - config.lora_layers), depth))
    lora = LoraConfig(
        r=config.lora_r,
        layers_to_transform=layers,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


# -- training --------------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    checkpoint: Path
    losses: list[float]
    examples: int
    skipped: int
    seconds: float
    model: Any = field(repr=False, default=None)
    tokenizer: Any = field(repr=False, default=None)


def save_checkpoint(model: Any, tokenizer: Any, config: FinetuneConfig, folder: Path, state: dict[str, Any]) -> None:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    save_config(config, folder)
    (folder / STATE_FILE).write_text(json.dumps(state, indent=2), encoding="utf-8")


def synthetic_for(config: FinetuneConfig, mathdial_folder: Path | None) -> list[ChatExample]:
    from models.synthetic import eval_questions, load_problems, synthetic_examples

    source = (
        Path(config.synthetic_from)
        if config.synthetic_from
        else default_mathdial_dir().parent / "gsm8k" / "train.jsonl"
    )
    problems = load_problems(
        source,
        limit=config.synthetic_problems,
        exclude=eval_questions(mathdial_folder, config.eval_fraction),
    )
    return synthetic_examples(problems, seed=config.seed)


def start_run(config: FinetuneConfig) -> tuple[float, str, Path]:
    """Seed everything, set the CPU threads, pick the device and save the config where the checkpoints will go.

    Returns the start time, the device and the output folder.
    """
    import torch

    started = time.perf_counter()
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    output = Path(config.output_dir)
    save_config(config, output)
    return started, pick_device(config.device), output


def train(config: FinetuneConfig, examples: Sequence[ChatExample] | None = None, *, log: Any = print) -> TrainResult:
    """Fine-tune per ``config`` on ``examples`` (default: the MathDial train split) and save checkpoints.

    1. Load the base model and tokenizer; wrap the model in LoRA unless ``method`` is ``full``.
    2. Encode the examples (prompt masked), shuffle them with ``seed`` and cycle through them in batches.
    3. AdamW with linear warm-up and linear decay to zero over ``max_steps`` optimizer steps.
    4. Save a checkpoint every ``save_every`` steps and at the end, with the config and loss history.
    """
    import torch

    started, device, output = start_run(config)

    if examples is None:
        folder = Path(config.data_dir) if config.data_dir else None
        examples = mathdial_examples("train", folder=folder, eval_fraction=config.eval_fraction, moves=config.moves)
        if config.max_train_examples > 0:
            examples = random.Random(config.seed).sample(list(examples), config.max_train_examples)
        if config.synthetic_problems > 0:
            examples = [*examples, *synthetic_for(config, folder)]

    base, tokenizer = load_base(config.base_model, device)
    model = trainable_model(base, config)
    encoded = [
        item
        for example in examples
        if (
            item := encode_example(
                tokenizer, example, max_length=config.max_length, max_history_turns=config.max_history_turns
            )
        )
        is not None
    ]
    skipped = len(examples) - len(encoded)
    if not encoded:
        raise ValueError("no training example fits in max_length")
    order = list(range(len(encoded)))
    random.Random(config.seed).shuffle(order)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    parameters = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)

    def schedule(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / (config.warmup_steps + 1)
        left = config.max_steps - step
        return max(0.0, left / max(1, config.max_steps - config.warmup_steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    losses: list[float] = []
    cursor = 0
    checkpoint = output / "final"
    log(
        f"training {config.name}: {len(encoded)} examples ({skipped} too long), {config.max_steps} steps of "
        f"{config.batch_size}x{config.grad_accum_steps}, method {config.method}, device {device}"
    )
    for step in range(1, config.max_steps + 1):
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for _ in range(config.grad_accum_steps):
            indices = [order[(cursor + offset) % len(order)] for offset in range(config.batch_size)]
            cursor += config.batch_size
            batch = {key: value.to(device) for key, value in collate([encoded[i] for i in indices], pad_id).items()}
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
                total, count = reply_loss(model, batch)
                loss = total / max(1, count) / config.grad_accum_steps
            loss.backward()
            step_loss += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        losses.append(step_loss)
        if not math.isfinite(step_loss):
            raise FloatingPointError(f"loss became {step_loss} at step {step}")
        if config.log_every and (step % config.log_every == 0 or step == 1):
            rate = (time.perf_counter() - started) / step
            log(f"step {step}/{config.max_steps} loss {step_loss:.4f} ({rate:.2f} s/step)")
        last = step == config.max_steps
        if last or (config.save_every and step % config.save_every == 0):
            checkpoint = output / ("final" if last else f"checkpoint-{step:05d}")
            state = {
                "step": step,
                "losses": losses,
                "examples": len(encoded),
                "skipped": skipped,
                "seconds": round(time.perf_counter() - started, 2),
                "device": device,
            }
            save_checkpoint(model, tokenizer, config, checkpoint, state)
    model.eval()
    seconds = time.perf_counter() - started
    log(f"saved {checkpoint} after {seconds:.1f} s")
    return TrainResult(checkpoint, losses, len(encoded), skipped, seconds, model, tokenizer)


def merge(checkpoint: Path, destination: Path) -> Path:
    """Fold a LoRA checkpoint into its base model and write a plain model folder that vLLM can serve."""
    model, tokenizer = load_finetuned(checkpoint)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(destination)
    tokenizer.save_pretrained(destination)
    save_config(load_config(checkpoint / CONFIG_FILE), destination)
    return destination


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Any config field can be overridden: --max_steps 20 --learning_rate 1e-4 ...",
    )
    parser.add_argument("--config", type=Path, help="a YAML file of FinetuneConfig fields")
    parser.add_argument("--merge", action="store_true", help="also write a merged model folder for serving")
    args, overrides = parser.parse_known_args(argv)
    try:
        config = load_config(args.config, overrides)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    result = train(config)
    if args.merge:
        merged = merge(result.checkpoint, Path(config.output_dir) / "merged")
        print(f"merged model written to {merged}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
