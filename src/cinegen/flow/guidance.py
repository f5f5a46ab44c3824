"""Classifier-free guidance (Ho & Salimans 2022) as a wrapper over the model, not a model method."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from cinegen.common.errors import InputError
from cinegen.flow.objective import ModelFn

# v = model(x, t, text, text_mask): the DiT's call contract; flow/ never imports the model itself.
TextModel = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _pad(text: torch.Tensor, mask: torch.Tensor | None, length: int, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Text (B or 1, L, E) and mask -> (batch, length, E), (batch, length); padding is masked out."""
    if mask is None:
        mask = torch.ones(text.shape[:2], dtype=torch.bool, device=text.device)
    if text.shape[0] not in (1, batch):
        raise InputError(f"text batch {text.shape[0]} must be 1 or {batch}")
    pad = length - text.shape[1]
    text = F.pad(text, (0, 0, 0, pad))
    mask = F.pad(mask.bool(), (0, pad), value=False)
    return text.expand(batch, -1, -1), mask.expand(batch, -1)


def cfg_velocity(
    model: TextModel,
    text: torch.Tensor,
    mask: torch.Tensor | None,
    neg_text: torch.Tensor,
    neg_mask: torch.Tensor | None,
    scale: float,
    interval: tuple[float, float] = (0.0, 1.0),
) -> ModelFn:
    """model_fn(x, t) = v_neg + scale·(v_text − v_neg), both halves in one batched model call.

    text (B, L, E) is the prompt; neg_text (B or 1, L', E) is the negative prompt (or the empty
    prompt for plain CFG). Scale 1 gives the conditional velocity. Guidance applies only while
    the noisiest frame's t lies in `interval` (Kynkäänniemi et al. 2024, "Applying guidance in a
    limited interval"); outside it one conditional call is made, half the cost of a guided step.
    """
    lo, hi = interval
    if not 0.0 <= lo <= hi <= 1.0:
        raise InputError(f"guidance interval must satisfy 0 <= lo <= hi <= 1, got {interval}")
    batch = text.shape[0]
    length = max(text.shape[1], neg_text.shape[1])
    pos, pos_mask = _pad(text, mask, length, batch)
    neg, neg_mask_p = _pad(neg_text, neg_mask, length, batch)
    both = torch.cat([pos, neg])  # (2B, L, E)
    both_mask = torch.cat([pos_mask, neg_mask_p])  # (2B, L)

    def model_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t_max = float(t.max())
        if scale == 1.0 or not lo <= t_max <= hi:
            return model(x, t, pos, pos_mask)
        v = model(torch.cat([x, x]), torch.cat([t, t]), both, both_mask)  # (2B, C, T, H, W)
        v_text, v_neg = v.chunk(2)
        return v_neg + scale * (v_text - v_neg)

    return model_fn
