"""The Euler ODE sampler for rectified flow, over the `v = model_fn(x, t)` contract.

One loop for every prompting mode: text-to-video starts from noise with no condition; image-,
video- and loop-conditioned modes hold some latent frames clean (t = 0) throughout; SDEdit
edits start from noised source latents on a grid that begins at t_start < 1. Edits by FlowEdit
(sample_flowedit) integrate the difference of two prompts' velocities from the source itself.
"""
from __future__ import annotations

from typing import Callable

import torch

from cinegen.common.errors import InputError
from cinegen.flow.objective import ModelFn

Callback = Callable[[int, int, torch.Tensor], None]  # (step, n_steps, x) after each step


def _cond_mask(cond_mask: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(T,) or (B, T) bool -> (B, T)."""
    b, nt = x.shape[0], x.shape[2]
    m = cond_mask.bool().to(x.device)
    if m.ndim == 1:
        m = m[None].expand(b, nt)
    if tuple(m.shape) != (b, nt):
        raise InputError(f"cond_mask must be ({nt},) or ({b}, {nt}), got {tuple(cond_mask.shape)}")
    return m


def hold(x: torch.Tensor, given: torch.Tensor | None, cond_mask: torch.Tensor | None, what: str = "cond_latents"
         ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Every sampler's start with held frames: (x with `given` where held, held (B, T) or None, keep
    (B, 1, T, 1, 1) or None)."""
    if cond_mask is None:
        return x, None, None
    if given is None or given.shape != x.shape:
        raise InputError(f"cond_mask needs {what} of the same shape as the latents")
    held = _cond_mask(cond_mask, x)  # (B, T)
    keep = held[:, None, :, None, None]  # (B, 1, T, 1, 1)
    return torch.where(keep, given.to(x.dtype), x), held, keep


def _check_grid(grid: torch.Tensor) -> None:
    if grid.ndim != 1 or grid.numel() < 2:
        raise InputError(f"grid must be 1-D with >= 2 times, got shape {tuple(grid.shape)}")


@torch.no_grad()
def sample_euler(
    model_fn: ModelFn,
    noise: torch.Tensor,
    grid: torch.Tensor,
    cond_latents: torch.Tensor | None = None,
    cond_mask: torch.Tensor | None = None,
    callback: Callback | None = None,
) -> torch.Tensor:
    """Integrate dx/dt = v from grid[0] down to grid[-1] (= 0) with Euler steps.

    noise (B, C, T, H, W) is x at t = grid[0] (for an edit: the source noised to grid[0]).
    Frames where cond_mask is True are set to cond_latents and held there with t = 0.
    Each step: x ← x + (t_{i+1} − t_i)·v(x, t_i), the same update as diffusers'
    FlowMatchEulerDiscreteScheduler.
    """
    _check_grid(grid)
    if noise.ndim != 5:
        raise InputError(f"noise must be (B, C, T, H, W), got {tuple(noise.shape)}")
    b, nt = noise.shape[0], noise.shape[2]
    x, held, keep = hold(noise.clone(), cond_latents, cond_mask)
    grid = grid.to(torch.float32)
    n = grid.numel() - 1
    for i in range(n):
        t = grid[i].to(x.device).expand(b, nt)  # (B, T)
        if held is not None:
            t = t.masked_fill(held, 0.0)
        v = model_fn(x, t)
        x = x + (grid[i + 1] - grid[i]).to(x.device) * v
        if held is not None:
            x = torch.where(keep, cond_latents.to(x.dtype), x)  # exactly the condition, every step
        if callback is not None:
            callback(i, n, x)
    return x


@torch.no_grad()
def sample_flowedit(
    src_fn: ModelFn,
    tar_fn: ModelFn,
    x_src: torch.Tensor,
    grid: torch.Tensor,
    generator: torch.Generator,
    tar_given: torch.Tensor | None = None,
    cond_mask: torch.Tensor | None = None,
    n_avg: int = 1,
    callback: Callback | None = None,
) -> torch.Tensor:
    """FlowEdit (Kulikov et al. 2024, "FlowEdit: Inversion-Free Text-Based Editing Using Pre-Trained Flow
    Models", Alg. 1): integrate the difference of the target's and the source's velocities from the
    source itself, with no inversion and no noisy start.

    At each t of `grid` (from t_max down to 0) a fresh noise ε gives the source's noisy point
    z_src = (1 − t)·x_src + t·ε and the edit's z_tar = x + z_src − x_src; the edit moves by
    (t_next − t)·(tar_fn(z_tar) − src_fn(z_src)). What both prompts agree on (the layout and motion
    the source shows) cancels, so only what the prompts change moves: SDEdit instead keeps the part
    of the source that its noise level leaves, a background's colour included.

    x_src (B, C, T, H, W): the source latents. Frames where cond_mask is True are held clean (t = 0):
    the source's in src_fn's input, `tar_given`'s in tar_fn's and in the output. n_avg noises per step
    are averaged (the paper's n_avg).
    """
    _check_grid(grid)
    if x_src.ndim != 5:
        raise InputError(f"x_src must be (B, C, T, H, W), got {tuple(x_src.shape)}")
    if n_avg < 1:
        raise InputError(f"n_avg must be >= 1, got {n_avg}")
    b, nt = x_src.shape[0], x_src.shape[2]
    x, held, keep = hold(x_src.clone(), tar_given, cond_mask, "tar_given")
    given = tar_given.to(x.dtype) if held is not None else None
    grid = grid.to(torch.float32)
    n = grid.numel() - 1
    for i in range(n):
        t = grid[i].to(x.device)
        tt = t.expand(b, nt)
        if held is not None:
            tt = tt.masked_fill(held, 0.0)
        delta = torch.zeros_like(x)
        for _ in range(n_avg):
            eps = torch.randn(x.shape, generator=generator, device=generator.device).to(x.device, x.dtype)
            z_src = (1 - t) * x_src + t * eps
            z_tar = x + z_src - x_src
            if held is not None:  # held frames are clean: the source's, and the edit's own
                z_src = torch.where(keep, x_src, z_src)
                z_tar = torch.where(keep, given, z_tar)
            delta = delta + tar_fn(z_tar, tt) - src_fn(z_src, tt)
        x = x + (grid[i + 1] - grid[i]).to(x.device) * delta / n_avg
        if held is not None:
            x = torch.where(keep, given, x)
        if callback is not None:
            callback(i, n, x)
    return x
