"""Data parallelism applied from outside the model (as torchtitan does): no forward is patched.

Under `torchrun --nproc-per-node N` every process trains on its slice of the same global batch;
gradients are averaged by DDP (gloo on CPU, NCCL on GPU). FSDP2 (`fully_shard` per block) can
replace `wrap` later without touching the models.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: torch.device) -> Dist:
    """Join the process group when launched by torchrun; a plain run is rank 0 of 1."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    d = Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(d.local_rank)
    return d


def wrap(model: torch.nn.Module, d: Dist, device: torch.device) -> torch.nn.Module:
    if d.world_size == 1:
        return model
    return DistributedDataParallel(model, device_ids=[d.local_rank] if device.type == "cuda" else None)


def my_slice(batch_size: int, d: Dist) -> range:
    """Indices of the global batch this rank computes; equal slices keep DDP's mean = the global mean."""
    if batch_size % d.world_size:
        raise ValueError(f"batch size {batch_size} does not split over {d.world_size} processes")
    per = batch_size // d.world_size
    return range(d.rank * per, (d.rank + 1) * per)


def barrier(d: Dist) -> None:
    if d.world_size > 1:
        dist.barrier()


def teardown(d: Dist) -> None:
    if d.world_size > 1 and dist.is_initialized():
        dist.destroy_process_group()
