"""The world's exact state per DiT token: what a middle block is made to predict (world-state alignment).

REPA (Yu et al. 2024) speeds up diffusion training by aligning a middle block's tokens with a strong
encoder's features; we have no such encoder, but the procedural world knows every pixel's truth. So each
token of a cached clip gets the state of the object that covers most of its cell in its latent frame:
presence, colour, shape, the object's centre relative to the cell, and its velocity. A small head reads
a middle block's tokens and is trained to predict it (../shared/RESEARCH.md §2.3), and the alignment is
switched off for the end of training (HASTE: alignment helps early, then holds the model back).

One state vector per token, STATE_DIM numbers:
    [0]      presence: the covered share of the cell (0 = background only)
    [1]      colour index of that object (COLOURS order), −1 where none
    [2]      shape index (SHAPES order), −1 where none
    [3:5]    centre − cell centre, in cells (x, y), clipped to ±2
    [5:7]    velocity, cells per latent frame (x, y), clipped to ±2
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cinegen.world.render import Clip
from cinegen.world.spec import COLOURS, SHAPES

STATE_DIM = 7
COLOUR_INDEX = {c: i for i, c in enumerate(COLOURS)}
SHAPE_INDEX = {s: i for i, s in enumerate(SHAPES)}
HEAD_DIM = 1 + len(COLOURS) + len(SHAPES) + 4  # presence logit, colour and shape logits, offset, velocity


def latent_frame_pixels(n_frames: int, temporal_down: int) -> list[int]:
    """The pixel frame each latent frame of a causal VAE stands for: frame 0 alone, then the last of each
    group of `temporal_down` (1 + 4k frames → 0, 4, 8, …)."""
    return [0] + [k * temporal_down for k in range(1, (n_frames - 1) // temporal_down + 1)]


def token_state(clip: Clip, grid: tuple[int, int], temporal_down: int) -> np.ndarray:
    """(n_latent, gh, gw, STATE_DIM) float32: each token's world state (see the module docstring)."""
    n, height, width = clip.frames.shape[:3]
    gh, gw = grid
    ch, cw = height / gh, width / gw  # cell size in pixels
    frames = latent_frame_pixels(n, temporal_down)
    out = np.zeros((len(frames), gh, gw, STATE_DIM), np.float32)
    out[..., 1:3] = -1
    ys0, xs0 = np.arange(gh)[:, None] * ch, np.arange(gw)[None, :] * cw  # cell corners
    for k, p in enumerate(frames):
        best = np.zeros((gh, gw), np.float32)
        step = temporal_down if p + temporal_down < n else -temporal_down
        q = min(max(p + step, 0), n - 1)
        # nearer objects (higher depth) drawn last, so they win a cell they cover as much as another
        for obj, truth in sorted(zip(clip.spec.objects, clip.truth), key=lambda ot: ot[0].depth):
            if truth.visible[p] <= 0:
                continue
            x0, y0, x1, y1 = truth.box[p]
            ox = np.clip(np.minimum(x1, xs0 + cw) - np.maximum(x0, xs0), 0, None)  # (1, gw)
            oy = np.clip(np.minimum(y1, ys0 + ch) - np.maximum(y0, ys0), 0, None)  # (gh, 1)
            cover = (ox * oy / (ch * cw) * truth.visible[p]).astype(np.float32)  # (gh, gw)
            win = (cover > 0) & (cover >= best)
            if not win.any():
                continue
            best = np.where(win, cover, best)
            cx, cy = truth.centre[p]
            vel = (truth.centre[q] - truth.centre[p]) / (q - p) * temporal_down if q != p else np.zeros(2)
            state = np.zeros((gh, gw, STATE_DIM), np.float32)
            state[..., 0] = cover
            state[..., 1], state[..., 2] = COLOUR_INDEX[obj.colour], SHAPE_INDEX[obj.shape]
            state[..., 3] = np.clip((cx - (xs0 + cw / 2)) / cw, -2, 2)
            state[..., 4] = np.clip((cy - (ys0 + ch / 2)) / ch, -2, 2)
            state[..., 5], state[..., 6] = np.clip(vel[0] / cw, -2, 2), np.clip(vel[1] / ch, -2, 2)
            out[k][win] = state[win]
    return out


def state_loss(pred: torch.Tensor, target: torch.Tensor, cover_total: torch.Tensor | None = None) -> torch.Tensor:
    """pred (B, N, HEAD_DIM) from the head; target (B, N, STATE_DIM) from token_state, flattened the DiT's way.

    Presence is a soft binary cross-entropy on every token; colour, shape (cross-entropy), offset and
    velocity (squared error) count only on tokens an object covers, each weighted by its cover and divided
    by `cover_total` (None: this batch's total cover; data-parallel training passes the whole batch's / the
    number of ranks, so the mean over ranks is one process's loss).
    """
    nc, ns = len(COLOURS), len(SHAPES)
    cover = target[..., 0]
    loss = F.binary_cross_entropy_with_logits(pred[..., 0].float(), (cover > 0).float())
    here = cover > 0
    if not bool(here.any()):
        return loss
    p, t, w = pred[here].float(), target[here], cover[here]
    colour = F.cross_entropy(p[:, 1 : 1 + nc], t[:, 1].long(), reduction="none")
    shape = F.cross_entropy(p[:, 1 + nc : 1 + nc + ns], t[:, 2].long(), reduction="none")
    geometry = (p[:, 1 + nc + ns :] - t[:, 3:7]).pow(2).sum(dim=1)
    total = w.sum() if cover_total is None else cover_total.clamp(min=1e-12)
    return loss + ((colour + shape + geometry) * w).sum() / total


def cover_total(target: torch.Tensor) -> torch.Tensor:
    """The total object cover of targets (B, N, STATE_DIM): state_loss's divisor."""
    c = target[..., 0]
    return c[c > 0].sum()
