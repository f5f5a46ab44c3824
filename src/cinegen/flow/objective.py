"""The rectified-flow objective (Liu et al. 2022; Lipman et al. 2022; Esser et al. 2024).

THE time convention of cinegen, written once:
    t = 0 is clean data x0, t = 1 is pure noise ε, and in between a straight line
        x_t = (1 − t)·x0 + t·ε
    The model predicts the velocity along that line, dx_t/dt:
        v = ε − x0
    so sampling integrates from t = 1 down to t = 0 with x ← x + (t_next − t)·v.

Every latent frame carries its own t, shape (B, T). Condition frames (an image, a prefix of a
video, ...) are held clean: t = 0 and x_t = x0 there, and the loss ignores them.
"""
from __future__ import annotations

from typing import Callable

import torch

from cinegen.common.errors import InputError

ModelFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # v = model_fn(x (B, C, T, H, W), t (B, T))

# Which latent frames training holds clean, in the order of sample_clean_mask's `p`.
CLEAN_MODES = ("none", "first", "prefix", "suffix", "first_last")


def _frame_t(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Broadcastable time: (B,) -> (B, 1, 1, 1, 1); (B, T) -> (B, 1, T, 1, 1) for x (B, C, T, H, W)."""
    if x.ndim != 5:
        raise InputError(f"latents must be (B, C, T, H, W), got {tuple(x.shape)}")
    if t.ndim == 1 and t.shape[0] == x.shape[0]:
        return t.view(-1, 1, 1, 1, 1).to(x.dtype)
    if t.ndim == 2 and tuple(t.shape) == (x.shape[0], x.shape[2]):
        return t[:, None, :, None, None].to(x.dtype)
    raise InputError(f"t must be (B,) or (B, T) for latents {tuple(x.shape)}, got {tuple(t.shape)}")


def add_noise(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 − t)·x0 + t·noise, with t (B,) or per frame (B, T)."""
    tt = _frame_t(t, x0)
    return (1 - tt) * x0 + tt * noise


def clean_estimate(x: torch.Tensor, t: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The clean latents a velocity v at x_t points to: x0 = x_t − t·v, with t (B,) or per frame (B, T)."""
    return x - _frame_t(t, x) * v


def velocity_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """The velocity the model learns: d x_t / dt = noise − x0."""
    return noise - x0


def sample_clean_mask(
    batch: int,
    n_frames: int,
    generator: torch.Generator | None = None,
    p: tuple[float, float, float, float, float] = (0.5, 0.2, 0.1, 0.1, 0.1),
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """(B, T) bool: latent frames held clean as conditions, one mode per sample from CLEAN_MODES.

    none (text-to-video), first (image-to-video), a prefix / suffix of 1..T−1 frames (extend
    forward / backward), first+last (loop, connect). At least one frame always stays noisy:
    a mode that would leave none (a 1-frame video; first+last of 2 frames) falls back to none.
    """
    if len(p) != len(CLEAN_MODES) or min(p) < 0 or sum(p) <= 0:
        raise InputError(f"p must be {len(CLEAN_MODES)} non-negative weights for {CLEAN_MODES}, got {p}")
    gdev = generator.device if generator is not None else "cpu"
    mode = torch.multinomial(torch.tensor(p, dtype=torch.float, device=gdev), batch, replacement=True, generator=generator)
    k = torch.randint(1, max(n_frames, 2), (batch,), generator=generator, device=gdev)  # prefix/suffix length 1..T−1
    idx = torch.arange(n_frames, device=gdev)[None]  # (1, T)
    mode, k = mode[:, None], k[:, None]
    clean = (
        ((mode == 1) & (idx == 0))
        | ((mode == 2) & (idx < k))
        | ((mode == 3) & (idx >= n_frames - k))
        | ((mode == 4) & ((idx == 0) | (idx == n_frames - 1)))
    )  # (B, T)
    clean &= ~clean.all(dim=1, keepdim=True)
    return clean.to(device)


FG_SCALE = 2.0  # latent distance from the frame's median that counts as fully foreground (latents ~unit std)


def foreground_weights(x0: torch.Tensor, fg_weight: float, scale: float = FG_SCALE) -> torch.Tensor:
    """(B, 1, T, H, W) loss weights 1 + fg_weight·d, d = min(|x0 − frame median| / scale, 1) per latent pixel.

    Objects cover a few latent pixels of a plain frame, so a plain mean spends the loss on background;
    this weights the latent pixels unlike their frame's median (the latent twin of vae/loss.py's
    pixel_weights). fg_weight = 0 gives ones.
    """
    if fg_weight < 0:
        raise InputError(f"fg_weight must be >= 0, got {fg_weight}")
    b, c, nt, h, w = x0.shape
    if fg_weight == 0:
        return torch.ones(b, 1, nt, h, w, dtype=x0.dtype, device=x0.device)
    med = x0.flatten(3).median(dim=-1).values[..., None, None]  # (B, C, T, 1, 1)
    d = (x0 - med).float().pow(2).sum(dim=1, keepdim=True).sqrt()  # (B, 1, T, H, W)
    return 1.0 + fg_weight * (d / scale).clamp(max=1.0)


def flow_loss(
    model_fn: ModelFn,
    x0: torch.Tensor,
    noise: torch.Tensor,
    t: torch.Tensor,
    clean_mask: torch.Tensor | None = None,
    weight: torch.Tensor | None = None,
    motion_weight: float = 0.0,
    frames: float | torch.Tensor | None = None,
    pairs: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared velocity error over the noisy frames; clean frames keep x0 and t = 0.

    x0, noise (B, C, T, H, W); t (B,) or (B, T); clean_mask (B, T) bool or None; weight (B, 1, T, H, W)
    per-latent-pixel weights (foreground_weights) or None: each frame's error is their weighted mean,
    so the loss keeps its scale. motion_weight > 0 adds motion_loss on top.

    frames, pairs: what the summed errors are divided by (None: this batch's own noisy frames and noisy
    frame pairs, `noisy_counts`). Data parallelism passes the whole batch's counts / its rank count, so
    that the mean over ranks of each rank's loss is the whole batch's loss (train/tasks.py).
    """
    b, _, nt = x0.shape[:3]
    t = t[:, None].expand(b, nt) if t.ndim == 1 else t
    if clean_mask is None:
        clean_mask = torch.zeros(b, nt, dtype=torch.bool, device=x0.device)
    if tuple(clean_mask.shape) != (b, nt):
        raise InputError(f"clean_mask must be ({b}, {nt}), got {tuple(clean_mask.shape)}")
    t = t.masked_fill(clean_mask, 0.0)  # (B, T)
    x_t = add_noise(x0, noise, t)
    v = model_fn(x_t, t)
    sq = (v.float() - velocity_target(x0, noise).float()).pow(2)  # (B, C, T, H, W)
    if weight is None:
        err = sq.mean(dim=(1, 3, 4))  # (B, T)
    else:
        wt = weight.float().expand(b, 1, nt, *sq.shape[3:])
        err = (sq * wt).mean(dim=1).sum(dim=(2, 3)) / wt[:, 0].sum(dim=(2, 3)).clamp(min=1e-8)  # (B, T)
    w = (~clean_mask).to(err.dtype)
    loss = (err * w).sum() / (w.sum().clamp(min=1.0) if frames is None else frames)
    if motion_weight > 0:
        loss = loss + motion_weight * motion_loss(v, x0, noise, t, clean_mask, weight, pairs)
    return loss


def noisy_counts(clean_mask: torch.Tensor) -> torch.Tensor:
    """(2,) float: the noisy frames and the noisy neighbouring frame pairs of clean_mask (B, T), the counts
    flow_loss and motion_loss average over."""
    noisy = ~clean_mask
    return torch.stack([noisy.sum(), (noisy[:, 1:] & noisy[:, :-1]).sum()]).float()


def motion_loss(v: torch.Tensor, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, clean_mask: torch.Tensor,
                weight: torch.Tensor | None = None, pairs: float | torch.Tensor | None = None) -> torch.Tensor:
    """Squared error of the clean estimate's change from one latent frame to the next (cinegen's own term).

    The clean estimate is x̂0 = x_t − t·v, so its error is −t·(v − v*). A plain mean pays as much for a
    colour that is off in every frame as for an object that stays where it should have moved; this term
    sees only the difference between neighbouring frames' errors, which is zero for an error the frames
    share and large for motion drawn wrong. Pairs with a clean frame are skipped. v, x0, noise
    (B, C, T, H, W); t, clean_mask (B, T); weight (B, 1, T, H, W) or None; pairs: the divisor of the summed
    errors (None: this batch's noisy pairs; see flow_loss's frames).
    """
    if x0.shape[2] < 2:
        return v.sum() * 0.0
    e = (v.float() - velocity_target(x0, noise).float()) * t[:, None, :, None, None].float()  # (B, C, T, H, W)
    d = (e[:, :, 1:] - e[:, :, :-1]).pow(2).mean(dim=1, keepdim=True)  # (B, 1, T−1, H, W)
    wt = torch.ones_like(d) if weight is None else 0.5 * (weight[:, :, 1:] + weight[:, :, :-1]).float()
    err = (d * wt).sum(dim=(1, 3, 4)) / wt.sum(dim=(1, 3, 4)).clamp(min=1e-8)  # (B, T−1)
    pair = (~clean_mask[:, 1:] & ~clean_mask[:, :-1]).to(err.dtype)
    return (err * pair).sum() / (pair.sum().clamp(min=1.0) if pairs is None else pairs)
