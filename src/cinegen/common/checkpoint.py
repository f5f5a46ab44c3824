"""Checkpoint folders: config.json + one safetensors file (or ≤ 15 MB shards) per component.

    model/
      config.json                 # {"vae": {...}, "dit": {...}, "text": {...}, ...}
      vae.safetensors
      dit.safetensors             # or dit-00001-of-00003.safetensors, ...
      MODEL_CARD.md
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from cinegen.common.atomic import atomic_path
from cinegen.common.errors import CheckpointError

MAX_SHARD_BYTES = 15 * 1024 * 1024


def _shards(state: dict[str, torch.Tensor], max_bytes: int) -> list[dict[str, torch.Tensor]]:
    shards: list[dict[str, torch.Tensor]] = [{}]
    size = 0
    for name, t in state.items():
        n = t.numel() * t.element_size()
        if shards[-1] and size + n > max_bytes:
            shards.append({})
            size = 0
        shards[-1][name] = t
        size += n
    return shards


def save_state(
    folder: str | os.PathLike,
    name: str,
    state: dict[str, torch.Tensor],
    dtype: torch.dtype | None = None,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> list[Path]:
    """Save a state dict as `name.safetensors`, or as shards when larger than one shard."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().to("cpu", dtype) if dtype is not None and v.is_floating_point() else v.detach().cpu())
        .contiguous()
        for k, v in state.items()
    }
    for old in folder.glob(f"{name}*.safetensors"):
        old.unlink()
    shards = _shards(state, max_shard_bytes)
    paths = []
    for i, shard in enumerate(shards):
        fname = f"{name}.safetensors" if len(shards) == 1 else f"{name}-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        with atomic_path(folder / fname) as tmp:
            save_file(shard, str(tmp))
        paths.append(folder / fname)
    return paths


def load_state(folder: str | os.PathLike, name: str, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """Load `name.safetensors` or all its shards; raise CheckpointError if missing or corrupt."""
    folder = Path(folder)
    files = sorted(folder.glob(f"{name}.safetensors")) or sorted(folder.glob(f"{name}-*-of-*.safetensors"))
    if not files:
        raise CheckpointError(f"checkpoint {folder} has no {name}.safetensors")
    if len(files) > 1:
        expected = int(files[0].stem.rsplit("-of-", 1)[1])
        if len(files) != expected:
            raise CheckpointError(f"checkpoint {folder}: {len(files)} of {expected} {name} shards present")
    state: dict[str, torch.Tensor] = {}
    for f in files:
        try:
            part = load_file(str(f))
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"checkpoint file {f} is corrupt: {e}") from None
        state.update(part)
    return {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}


def save_config(folder: str | os.PathLike, config: dict[str, Any]) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "config.json") as tmp:
        tmp.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def load_config(folder: str | os.PathLike) -> dict[str, Any]:
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    path = folder / "config.json"
    if not path.exists():
        raise CheckpointError(f"checkpoint folder {folder} has no config.json")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{path} must hold a JSON object")
    return config


def load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """Strict load with a one-line error naming what does not fit."""
    try:
        missing, unexpected = module.load_state_dict(state, strict=False)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise CheckpointError(f"{where}: weights do not fit the config ({first[-1].strip() if first else e})") from None
    if missing or unexpected:
        raise CheckpointError(
            f"{where}: weights do not fit the config (missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]})"
        )
