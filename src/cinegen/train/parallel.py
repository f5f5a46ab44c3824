"""Parallelism applied from outside the model (as torchtitan does): no forward is patched.

Under `torchrun` every process runs the same training loop (docs/PARALLEL.md):
- parallel=ddp: each process holds the whole model and computes its slice of the global batch;
  DDP averages the gradients (gloo on CPU, NCCL on GPU).
- parallel=fsdp: FSDP2 (`fully_shard` on each block, then the root) keeps 1/N of every parameter,
  gradient and optimizer moment per process and gathers a block's weights only while it runs; on
  CUDA in bf16 with gradients reduced in fp32. Checkpoints are sharded (train/sharded_ckpt.py).
- sequence_parallel=S (DiT): S consecutive ranks share each sample and split its tokens; self-attention
  gathers them by all-to-all (dit/ulysses.py). The batch is sliced over the world / S groups.
- checkpoint_blocks: each block's activations are recomputed in the backward instead of kept.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from torch.nn.parallel import DistributedDataParallel

from cinegen.common.errors import InputError
from cinegen.dit.model import DiT
from cinegen.dit.ulysses import check_heads, sequence_parallel
from cinegen.vae.model import VideoVAE

TORCHRUN_HINT = "launch it with torchrun, e.g. `torchrun --nproc-per-node 2 -m cinegen train ...`"


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    sp: int = 1                # ranks that split each sample's tokens (1: no sequence parallelism)
    sp_group: Any = None       # this rank's sequence-parallel process group (None: the whole world)
    owns_group: bool = False   # setup() started the process group, so teardown() ends it

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def dp_rank(self) -> int:
        return self.rank // self.sp

    @property
    def dp_size(self) -> int:
        return self.world_size // self.sp


def launched() -> bool:
    """Started by torchrun (or anything else that sets the env:// rendezvous variables)."""
    return "RANK" in os.environ


def setup(device: torch.device, parallel: str = "ddp", sp: int = 1) -> Dist:
    """Join the process group when launched by torchrun; a plain run is rank 0 of 1."""
    world = int(os.environ.get("WORLD_SIZE", "1")) if launched() else 1
    if parallel == "fsdp" and not launched():
        raise InputError(f"parallel=fsdp shards the model over processes: {TORCHRUN_HINT}")
    if sp > 1 and world % sp:
        raise InputError(f"sequence_parallel={sp} needs a multiple of {sp} processes, got {world}: {TORCHRUN_HINT}")
    if world == 1 and parallel != "fsdp":
        return Dist()
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank, local = dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local)
    group = None
    if 1 < sp < world:  # every rank creates every group, in the same order (new_group is collective)
        for first in range(0, world, sp):
            g = dist.new_group(list(range(first, first + sp)))
            group = g if first <= rank < first + sp else group
    return Dist(rank, world, local, sp, group, owns)


def check_sequence_parallel(heads: int, sp: int) -> None:
    if sp > 1:
        check_heads(heads, sp)


def wrap(model: torch.nn.Module, d: Dist, device: torch.device) -> torch.nn.Module:
    if d.world_size == 1:
        return model
    return DistributedDataParallel(model, device_ids=[d.local_rank] if device.type == "cuda" else None)


def blocks(model: torch.nn.Module) -> list[tuple[torch.nn.Module, str]]:
    """The repeated blocks of a DiT or a VAE as (parent, name): FSDP's units and checkpointing's."""
    if isinstance(model, DiT):
        return [(model.blocks, str(i)) for i in range(len(model.blocks))]
    if isinstance(model, VideoVAE):
        out: list[tuple[torch.nn.Module, str]] = []
        for half, steps in ((model.encoder, "downs"), (model.decoder, "ups")):
            out += [(level, str(j)) for level in half.levels for j in range(len(level))]
            out += [(getattr(half, steps), str(i)) for i in range(len(getattr(half, steps)))]
            out.append((half, "mid"))
        return out
    raise TypeError(f"no block structure known for {type(model).__name__}")


def checkpoint_blocks(model: torch.nn.Module) -> None:
    """Activation checkpointing per block: keep only each block's input, recompute the rest in the
    backward (~1/3 more compute for activations that no longer grow with depth)."""
    for parent, name in blocks(model):
        # the wrapper's state-dict hooks drop its prefix: checkpoints and exports keep their names
        setattr(parent, name, checkpoint_wrapper(getattr(parent, name)))


def fully_shard_model(root: torch.nn.Module, model: torch.nn.Module, device: torch.device, mixed: bool) -> None:
    """FSDP2 on each block of `model`, then on `root` (the module the loop calls, holding the rest)."""
    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    for p in root.parameters():  # FSDP2 shards dim 0 of contiguous tensors; the VAE keeps convs channels_last
        if not p.is_contiguous():
            p.data = p.data.contiguous()
    # bf16 weights in the matmuls, fp32 sums of the gradients: the sharded master weights stay fp32. Inputs are
    # not cast: the timestep must reach its sinusoids in fp32; the loop's autocast casts what runs in bf16.
    mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, cast_forward_inputs=False) \
        if mixed else MixedPrecisionPolicy()
    for parent, name in blocks(model):
        fully_shard(getattr(parent, name), mesh=mesh, mp_policy=mp)
    fully_shard(root, mesh=mesh, mp_policy=mp)
    # A block that returns a view (the DiT's reshaped residual sum) draws a warning about in-place ops on it;
    # neither model modifies a block's output in place (the tests compare FSDP with one process).
    warnings.filterwarnings("ignore", message="FSDP2-wrapped module .* returned a view tensor")


def parallelize(step_module: torch.nn.Module, model: torch.nn.Module, ema: torch.nn.Module, cfg, d: Dist,
                device: torch.device) -> torch.nn.Module:
    """Apply the run's parallelism to `step_module` (what the loop calls; `model` is inside it) and to
    the EMA copy; returns the module to call. Order as torchtitan: sequence parallel, activation
    checkpointing, compile, then FSDP or DDP."""
    if d.sp > 1:
        sequence_parallel(model, d.sp_group)
    if cfg.checkpoint_blocks:
        checkpoint_blocks(model)
    if cfg.parallel != "fsdp":
        return wrap(torch.compile(step_module) if cfg.compile else step_module, d, device)
    if cfg.compile:
        for parent, name in blocks(model):
            getattr(parent, name).compile()  # per block, so FSDP's hooks stay outside the graphs
    fully_shard_model(step_module, model, device, mixed=device.type == "cuda")
    fully_shard_model(ema, ema, device, mixed=False)  # sharded like the model: the EMA update stays local
    return step_module


def full_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The whole state dict of a (possibly FSDP-sharded) module, on rank 0's CPU; {} on the others.
    A collective: every rank calls it."""
    return get_model_state_dict(module, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def from_main(values: list[float], d: Dist, device: torch.device) -> list[float]:
    """Rank 0's values on every rank (decisions that must agree: stop now, how many steps)."""
    if d.world_size == 1:
        return values
    x = torch.tensor(values, dtype=torch.float64, device=device)
    dist.broadcast(x, src=0)
    return x.tolist()


def my_slice(batch_size: int, d: Dist) -> range:
    """Indices of the global batch this rank computes: one slice per data-parallel group (the ranks of a
    sequence-parallel group share theirs). Equal slices keep the averaged gradient = the global mean."""
    if batch_size % d.dp_size:
        raise InputError(f"batch size {batch_size} does not split over {d.dp_size} data-parallel groups")
    per = batch_size // d.dp_size
    return range(d.dp_rank * per, (d.dp_rank + 1) * per)


def dp_mean(x: torch.Tensor, d: Dist) -> torch.Tensor:
    """Per-rank sums `x` (a few numbers) summed over the data-parallel groups, / dp_size: one all_reduce.

    The ranks of a sequence-parallel group hold the same samples, so the sum over the whole world counts
    each sample sp times, and / world_size (= sp · dp_size) gives exactly what one rank per group would,
    without a process group per data-parallel position.
    """
    if d.world_size == 1:
        return x
    x = x.clone()
    dist.all_reduce(x)
    return x / d.world_size


def barrier(d: Dist) -> None:
    if d.world_size > 1:
        dist.barrier()


def teardown(d: Dist) -> None:
    if d.owns_group and dist.is_initialized():
        dist.destroy_process_group()
