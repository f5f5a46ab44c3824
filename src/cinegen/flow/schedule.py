"""Time schedules for rectified flow: the shift, training-time sampling and sampling grids.

Time convention (see objective.py): t = 0 is clean data, t = 1 is pure noise.
"""
from __future__ import annotations

import math

import torch

from cinegen.common.errors import InputError


def time_shift(t: torch.Tensor | float, shift: float) -> torch.Tensor | float:
    """Move time toward noise: s·t / (1 + (s − 1)·t). Fixes 0 and 1; s = 1 is the identity.

    The resolution-dependent shift of Esser et al. 2024 ("Scaling Rectified Flow Transformers",
    SD3, §5.3.2): more tokens carry more redundant signal, so the same t destroys less of it and
    training/sampling must spend more time at high noise. time_shift(·, 1/s) is its inverse.
    """
    if shift <= 0:
        raise InputError(f"time shift must be > 0, got {shift}")
    return shift * t / (1 + (shift - 1) * t)


def shift_for_tokens(n_tokens: int, base_tokens: int = 144, base_shift: float = 3.0, max_shift: float = 8.0) -> float:
    """Shift that grows as sqrt(token count) (SD3's sqrt(m/n) rule), anchored at 3.0 for 144 tokens.

    The anchor is DESIGN.md's measurement: shift 3 at 144 tokens is what made motion learnable
    within half an hour. Clamped to [1, max_shift].
    """
    if n_tokens < 1:
        raise InputError(f"n_tokens must be >= 1, got {n_tokens}")
    return float(min(max(base_shift * math.sqrt(n_tokens / base_tokens), 1.0), max_shift))


def sample_train_t(
    batch: int,
    n_frames: int,
    n_tokens: int,
    generator: torch.Generator | None = None,
    mean: float = 0.0,
    std: float = 1.0,
    shift: float | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Training times (B, T): logit-normal (SD3 §3.1), shifted by shift_for_tokens(n_tokens).

    One time per video, shared by its frames; which frames are held clean is decided apart
    (objective.sample_clean_mask).
    """
    if batch < 1 or n_frames < 1:
        raise InputError(f"batch and n_frames must be >= 1, got {batch}, {n_frames}")
    u = torch.randn(batch, generator=generator, device=generator.device if generator is not None else device)
    t = torch.sigmoid(mean + std * u)
    t = time_shift(t, shift_for_tokens(n_tokens) if shift is None else shift)
    return t.to(device)[:, None].expand(batch, n_frames).contiguous()  # (B, T)


def time_grid(steps: int, shift: float = 1.0, t_start: float = 1.0) -> torch.Tensor:
    """Sampling times (steps + 1,) from t_start down to exactly 0, uniform before the shift.

    t_start < 1 starts part-way (SDEdit edits): the grid is the tail of the full shifted grid's
    shape, scaled so that its first point is exactly t_start.
    """
    if steps < 1:
        raise InputError(f"steps must be >= 1, got {steps}")
    if not 0.0 < t_start <= 1.0:
        raise InputError(f"t_start must be in (0, 1], got {t_start}")
    u_start = time_shift(t_start, 1.0 / shift)  # the unshifted time that maps onto t_start
    u = torch.linspace(u_start, 0.0, steps + 1, dtype=torch.float64)
    grid = time_shift(u, shift).float()
    grid[0], grid[-1] = t_start, 0.0
    return grid
