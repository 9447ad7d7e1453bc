"""The ``vllm serve`` command for the tutor model: a merged model folder, or a base model plus a LoRA adapter.

    python -m models.serve --model var/finetune/smollm2-cpu-lora/merged            # print the command
    python -m models.serve --lora var/finetune/smollm2-cpu-lora/final --exec       # base + adapter, and run it

vLLM pins its own torch and transformers, so it runs from its own environment (see docs/serving.md); this module
only builds its command line and never imports it. The server speaks the OpenAI API; point the app at it with
``TUTOR_LLM_BACKEND=openai``, ``TUTOR_LLM_URL=http://HOST:PORT/v1`` and ``TUTOR_LLM_MODEL`` set to the served
name. The API key is read by vLLM from ``VLLM_API_KEY`` in its environment, never passed on the command line
(where any local user could read it from the process list).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from models.backends import resolve_model_source

CONFIG_FILE = "finetune_config.yaml"
VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


@dataclass(frozen=True)
class ServeOptions:
    host: str = "0.0.0.0"  # noqa: S104 - a model server is meant to be reached by the app's workers
    port: int = 8000
    dtype: str = "auto"
    max_model_len: int = 4096
    gpu_memory_utilization: float = 0.90
    tensor_parallel_size: int = 1
    max_num_seqs: int = 64


def _served_name(folder: Path, default: str) -> str:
    config = folder / CONFIG_FILE
    if config.is_file():
        loaded = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        if isinstance(loaded, dict) and loaded.get("name"):
            return str(loaded["name"])
    return default


def _common(options: ServeOptions) -> list[str]:
    return [
        "--host",
        options.host,
        "--port",
        str(options.port),
        "--dtype",
        options.dtype,
        "--max-model-len",
        str(options.max_model_len),
        "--gpu-memory-utilization",
        f"{options.gpu_memory_utilization:g}",
        "--tensor-parallel-size",
        str(options.tensor_parallel_size),
        "--max-num-seqs",
        str(options.max_num_seqs),
    ]


def merged_command(model: Path, *, name: str | None = None, options: ServeOptions | None = None) -> list[str]:
    """Serve a whole model folder (``finetune --merge`` output, or any local model) under ``name``."""
    if not (model / "config.json").is_file():
        raise ValueError(f"{model} is not a model folder (no config.json)")
    served = name or _served_name(model, model.name)
    return ["vllm", "serve", str(model), "--served-model-name", served, *_common(options or ServeOptions())]


def lora_command(
    adapter: Path,
    *,
    base: Path | None = None,
    name: str | None = None,
    options: ServeOptions | None = None,
) -> list[str]:
    """Serve a base model with a LoRA adapter; clients ask for the adapter's ``name`` as their model.

    The base defaults to the one the adapter was trained on (from its saved config).
    """
    adapter_config = adapter / "adapter_config.json"
    if not adapter_config.is_file():
        raise ValueError(f"{adapter} is not a LoRA adapter folder (no adapter_config.json)")
    rank = int(json.loads(adapter_config.read_text(encoding="utf-8"))["r"])
    if base is None:
        trained: dict[str, Any] = {}
        if (adapter / CONFIG_FILE).is_file():
            trained = yaml.safe_load((adapter / CONFIG_FILE).read_text(encoding="utf-8")) or {}
        base = resolve_model_source(str(trained.get("base_model") or "") or None)
    served = name or _served_name(adapter, adapter.name)
    max_rank = next((size for size in VLLM_LORA_RANKS if size >= rank), rank)
    return [
        "vllm",
        "serve",
        str(base),
        "--enable-lora",
        "--lora-modules",
        f"{served}={adapter}",
        "--max-lora-rank",
        str(max_rank),
        *_common(options or ServeOptions()),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", type=Path, help="a merged (or any whole) model folder")
    which.add_argument("--lora", type=Path, help="a LoRA checkpoint folder written by models.finetune")
    parser.add_argument("--base", type=Path, help="base model folder for --lora (default: the one it was trained on)")
    parser.add_argument("--name", help="the model name clients request (TUTOR_LLM_MODEL)")
    defaults = ServeOptions()
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--dtype", default=defaults.dtype)
    parser.add_argument("--max-model-len", type=int, default=defaults.max_model_len)
    parser.add_argument("--gpu-memory-utilization", type=float, default=defaults.gpu_memory_utilization)
    parser.add_argument("--tensor-parallel-size", type=int, default=defaults.tensor_parallel_size)
    parser.add_argument("--max-num-seqs", type=int, default=defaults.max_num_seqs)
    parser.add_argument("--exec", action="store_true", help="run the command (vllm must be on PATH)")
    args = parser.parse_args(argv)
    options = ServeOptions(
        host=args.host,
        port=args.port,
        dtype=args.dtype,
        max_model_len=args.max_model_len,
        gpu_memory_utilization=args.gpu_memory_utilization,
        tensor_parallel_size=args.tensor_parallel_size,
        max_num_seqs=args.max_num_seqs,
    )
    try:
        if args.model is not None:
            command = merged_command(args.model.resolve(), name=args.name, options=options)
        else:
            base = args.base.resolve() if args.base else None
            command = lora_command(args.lora.resolve(), base=base, name=args.name, options=options)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    print(shlex.join(command))
    if args.exec:
        executable = shutil.which(command[0])
        if executable is None:
            sys.exit("vllm is not on PATH: activate the serving environment (docs/serving.md)")
        sys.stdout.flush()
        os.execv(executable, command)  # noqa: S606 - replacing this process with the server is the point


if __name__ == "__main__":
    main()
