"""Sharded training checkpoints (FSDP runs) with torch.distributed.checkpoint (DCP).

    run/ckpt/
      .metadata            # which slice of which tensor lies where (written by rank 0)
      __0_0.distcp, ...    # one file per rank: its shards of model, EMA, aux head and AdamW moments
      state.json           # {"step", "config"}, as in a full checkpoint

Every rank writes only what it holds; at load, DCP reads the slices each rank now needs, so a run
resumes on any number of processes, sharded or not. The run folder must be one shared filesystem
for all nodes. A full checkpoint (plain or DDP run: model.safetensors, optim.pt) resumes under FSDP
as well: weights are loaded before sharding, the optimizer's moments by parameter name after it.
"""
from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict, set_model_state_dict,
                                                     set_optimizer_state_dict)

from cinegen.train import parallel

Modules = tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module, torch.nn.Module | None]  # step, model, ema, aux


def is_sharded(ckpt: Path) -> bool:
    return (ckpt / ".metadata").exists()


def _state(mods: Modules, opt: torch.optim.Optimizer) -> dict:
    step_module, model, ema, aux = mods
    state = {"model": get_model_state_dict(model), "ema": get_model_state_dict(ema),
             "optim": get_optimizer_state_dict(step_module, opt)}  # moments keyed by parameter name
    if aux is not None:
        state["aux"] = get_model_state_dict(aux)
    return state


def save(run: Path, meta: dict, mods: Modules, opt: torch.optim.Optimizer, d: parallel.Dist) -> None:
    """All ranks write their shards into a fresh folder; rank 0 adds state.json and swaps it into place."""
    tmp, ckpt = run / ".ckpt.tmp", run / "ckpt"
    if d.main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    parallel.barrier(d)
    dcp.save(_state(mods, opt), checkpoint_id=tmp)
    if d.main:
        (tmp / "state.json").write_text(json.dumps(meta, indent=2))
        old = run / ".ckpt.old"
        shutil.rmtree(old, ignore_errors=True)
        if ckpt.exists():
            os.replace(ckpt, old)
        os.replace(tmp, ckpt)  # a crash before this line leaves the previous checkpoint whole
        shutil.rmtree(old, ignore_errors=True)
    parallel.barrier(d)


def load(ckpt: Path, mods: Modules, opt: torch.optim.Optimizer) -> None:
    """Fill model, EMA, aux and optimizer (sharded or not) from a sharded checkpoint, in place."""
    step_module, model, ema, aux = mods
    state = _state(mods, opt)
    with warnings.catch_warnings():  # a single process without a process group is a supported case
        warnings.filterwarnings("ignore", message=".*assuming the intent is to load in a single process")
        dcp.load(state, checkpoint_id=ckpt)
    set_model_state_dict(model, state["model"])
    set_model_state_dict(ema, state["ema"])
    if aux is not None:
        set_model_state_dict(aux, state["aux"])
    set_optimizer_state_dict(step_module, opt, state["optim"])


def optimizer_by_name(step_module: torch.nn.Module, params: list[torch.nn.Parameter], saved: dict) -> dict:
    """A full checkpoint's optim.pt (keyed by position in `params`) keyed by parameter name instead, so it
    can be loaded into an optimizer over sharded parameters. Call before sharding."""
    plain = torch.optim.AdamW(params)
    plain.load_state_dict(saved)
    return get_optimizer_state_dict(step_module, plain)


def load_optimizer_by_name(step_module: torch.nn.Module, opt: torch.optim.Optimizer, by_name: dict) -> None:
    set_optimizer_state_dict(step_module, opt, by_name, options=StateDictOptions(full_state_dict=True))
