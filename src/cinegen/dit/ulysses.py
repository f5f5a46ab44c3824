"""Ulysses sequence parallelism for the DiT, applied from outside the model with hooks.

DeepSpeed-Ulysses (Jacobs et al. 2023, "DeepSpeed Ulysses: System Optimizations for Enabling Training
of Extreme Long Sequence Transformer Models"): each of P processes holds N/P of a clip's tokens. Only
self-attention needs every token; before it an all-to-all turns (tokens/P, all heads) into (all tokens,
heads/P), after it a second one turns the result back. Cross-attention to the text, the FFN, the norms
and the modulations work per token, so they run on each process's shard unchanged.

    DiT.forward (replicated):  patch embed, time/text embedding, RoPE table  ──► z (B, N, D)
    blocks[0] pre-hook:        z ──► this rank's contiguous shard (B, N_r, D)
    time_mod hook:             per-frame modulation ──► one row per token of the shard (B, N_r, 6D)
    self-attention:            q_norm, k_norm, v outputs (B, N_r, D) ──all-to-all──► (B, N, D/P)
                               attn.heads = H/P: SDPA and RoPE run on the whole sequence for H/P heads
                               out's input (B, N, D/P) ──all-to-all──► (B, N_r, D)
    norm_out pre-hook:         gather the shards ──► (B, N, D); the output head runs replicated

N need not divide by P (shards differ by at most one token); H must. Every process passes the same
inputs and gets the same output. The backward of each collective is its adjoint, so under training
the parameter gradients averaged over the group (what DDP and FSDP do) equal one process's.
dit/model.py stays as it is: a single process never sees these hooks.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch.utils.hooks import RemovableHandle

from cinegen.common.errors import InputError
from cinegen.dit.model import DiT


def shard_sizes(n: int, parts: int) -> list[int]:
    """Tokens per rank: contiguous shards, the first n % parts one token longer."""
    return [n // parts + (1 if r < n % parts else 0) for r in range(parts)]


def check_heads(heads: int, ranks: int) -> None:
    """Ulysses gives each rank whole heads: the group size must divide the head count."""
    if ranks < 1 or heads % ranks:
        raise InputError(f"sequence parallelism over {ranks} processes needs heads divisible by {ranks}; "
                         f"the DiT has {heads} heads")


class _AllToAll(torch.autograd.Function):
    """dist.all_to_all_single along dim 0 with uneven splits; its adjoint swaps the splits."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, in_splits: list[int], out_splits: list[int], group) -> torch.Tensor:
        ctx.in_splits, ctx.out_splits, ctx.group = in_splits, out_splits, group
        out = x.new_empty((sum(out_splits), *x.shape[1:]))
        dist.all_to_all_single(out, x.contiguous(), out_splits, in_splits, group=group)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return _AllToAll.apply(grad, ctx.out_splits, ctx.in_splits, ctx.group), None, None, None


def seq_to_heads(x: torch.Tensor, sizes: list[int], rank: int, group) -> torch.Tensor:
    """(B, N_r, D) this rank's tokens, all heads -> (B, N, D/P) all tokens, this rank's heads."""
    b, n_r, d = x.shape
    p = len(sizes)
    chunks = x.reshape(b, n_r, p, d // p).permute(2, 1, 0, 3).reshape(p * n_r, b, d // p)  # head group j -> rank j
    out = _AllToAll.apply(chunks, [n_r] * p, sizes, group)  # (N, B, D/P), shards in rank order
    return out.permute(1, 0, 2)


def heads_to_seq(x: torch.Tensor, sizes: list[int], rank: int, group) -> torch.Tensor:
    """(B, N, D/P) all tokens, this rank's heads -> (B, N_r, D) this rank's tokens, all heads."""
    b, _, dp = x.shape
    p, n_r = len(sizes), sizes[rank]
    out = _AllToAll.apply(x.permute(1, 0, 2), sizes, [n_r] * p, group)  # (P·N_r, B, D/P), head groups in order
    return out.view(p, n_r, b, dp).permute(2, 1, 0, 3).reshape(b, n_r, p * dp)


def gather_seq(x: torch.Tensor, sizes: list[int], rank: int, group) -> torch.Tensor:
    """(B, N_r, D) -> (B, N, D) on every rank. The adjoint sums each shard's gradient over the ranks."""
    p = len(sizes)
    out = _AllToAll.apply(x.transpose(0, 1).repeat(p, 1, 1), [sizes[rank]] * p, sizes, group)  # (N, B, D)
    return out.transpose(0, 1)


class SequenceParallel:
    """The hooks that make one DiT sequence-parallel over `group`; `remove()` restores it exactly."""

    def __init__(self, dit: DiT, group=None):
        self.dit, self.group = dit, group
        self.ranks = dist.get_world_size(group)
        self.rank = dist.get_rank(group)
        check_heads(dit.cfg.heads, self.ranks)
        self.sizes: list[int] = []
        self.lo = self.hi = 0
        self.tokens_per_frame = 1
        self._handles: list[RemovableHandle] = []
        hook = lambda m, f: self._handles.append(f(m))  # noqa: E731
        hook(dit, lambda m: m.register_forward_pre_hook(self._plan, with_kwargs=True))
        hook(dit.time_mod, lambda m: m.register_forward_hook(self._shard_modulation))
        hook(dit.blocks[0], lambda m: m.register_forward_pre_hook(self._shard_tokens))
        hook(dit.norm_out, lambda m: m.register_forward_pre_hook(self._gather_tokens))
        for block in dit.blocks:
            attn = block.self_attn
            attn.heads //= self.ranks  # after the all-to-all each rank holds H/P whole heads
            for m in (attn.q_norm, attn.k_norm, attn.v):
                hook(m, lambda m: m.register_forward_hook(self._to_heads))
            hook(attn.out, lambda m: m.register_forward_pre_hook(self._to_seq))

    def remove(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()
        for block in self.dit.blocks:
            block.self_attn.heads *= self.ranks

    # ---- hooks, in the order a forward meets them -----------------------------------------
    def _plan(self, dit: DiT, args: tuple, kwargs: dict) -> None:
        """From the latents' shape: the token count, this rank's token range, tokens per frame."""
        x = args[0] if args else kwargs["x"]
        pt, ph, pw = dit.cfg.patch_size
        grid = (x.shape[2] // pt, x.shape[3] // ph, x.shape[4] // pw)
        n = grid[0] * grid[1] * grid[2]
        if n < self.ranks:
            raise InputError(f"{n} tokens cannot be split over {self.ranks} processes")
        self.sizes = shard_sizes(n, self.ranks)
        self.lo = sum(self.sizes[: self.rank])
        self.hi = self.lo + self.sizes[self.rank]
        self.tokens_per_frame = grid[1] * grid[2]

    def _shard_modulation(self, _m, _args, mod: torch.Tensor) -> torch.Tensor:
        """(B, F', 6D) per token frame -> (B, N_r, 6D), one row per token of the shard (F' = 1: shared)."""
        if mod.shape[1] == 1:
            return mod
        frame = torch.arange(self.lo, self.hi, device=mod.device) // self.tokens_per_frame  # (N_r,)
        return mod.index_select(1, frame)

    def _shard_tokens(self, _m, args: tuple) -> tuple:
        z, *rest = args
        return (z[:, self.lo : self.hi], *rest)  # (B, N_r, D)

    def _to_heads(self, _m, _args, y: torch.Tensor) -> torch.Tensor:
        return seq_to_heads(y, self.sizes, self.rank, self.group)

    def _to_seq(self, _m, args: tuple) -> tuple:
        return (heads_to_seq(args[0], self.sizes, self.rank, self.group),)

    def _gather_tokens(self, _m, args: tuple) -> tuple:
        return (gather_seq(args[0], self.sizes, self.rank, self.group),)


def sequence_parallel(dit: DiT, group=None) -> SequenceParallel:
    """Split every forward of `dit` over the processes of `group` (default: all) by Ulysses.

    Call it once after loading, on every rank, with the same model; pass the same inputs on every rank.
    Returns the handle whose `remove()` makes the model single-process again.
    """
    if not dist.is_initialized():
        raise InputError("sequence parallelism needs torch.distributed: launch with torchrun")
    return SequenceParallel(dit, group)
