"""The ``vllm serve`` command lines that ``models.serve`` builds (vLLM itself is never imported here)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from models import serve


@pytest.fixture
def merged(tmp_path: Path) -> Path:
    folder = tmp_path / "merged"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "finetune_config.yaml").write_text("name: socratic-tutor\n")
    return folder


@pytest.fixture
def adapter(tmp_path: Path) -> Path:
    folder = tmp_path / "final"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"r": 12}))
    (folder / "finetune_config.yaml").write_text("name: socratic-tutor-lora\n")
    return folder


def option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_a_merged_model_is_served_under_its_training_name(merged: Path) -> None:
    command = serve.merged_command(merged, options=serve.ServeOptions(port=8011, tensor_parallel_size=2))

    assert command[:3] == ["vllm", "serve", str(merged)]
    assert option(command, "--served-model-name") == "socratic-tutor"
    assert option(command, "--port") == "8011"
    assert option(command, "--tensor-parallel-size") == "2"
    assert "--api-key" not in command


def test_an_adapter_is_served_on_the_given_base_with_a_rank_vllm_accepts(adapter: Path, merged: Path) -> None:
    command = serve.lora_command(adapter, base=merged)

    assert command[:3] == ["vllm", "serve", str(merged)]
    assert "--enable-lora" in command
    assert option(command, "--lora-modules") == f"socratic-tutor-lora={adapter}"
    assert option(command, "--max-lora-rank") == "16"


def test_folders_that_are_not_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"config\.json"):
        serve.merged_command(tmp_path)
    with pytest.raises(ValueError, match=r"adapter_config\.json"):
        serve.lora_command(tmp_path, base=tmp_path)


def test_the_command_line_prints_a_shell_ready_command(merged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serve.main(["--model", str(merged), "--name", "tutor a", "--max-model-len", "2048"])

    printed = shlex.split(capsys.readouterr().out)
    assert printed[:3] == ["vllm", "serve", str(merged.resolve())]
    assert option(printed, "--served-model-name") == "tutor a"
    assert option(printed, "--max-model-len") == "2048"
