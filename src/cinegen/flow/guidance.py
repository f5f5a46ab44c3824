"""Classifier-free guidance (Ho & Salimans 2022) as a wrapper over the model, not a model method."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from cinegen.common.errors import InputError
from cinegen.flow.objective import ModelFn, clean_estimate

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
    parallel: float = 1.0,
) -> ModelFn:
    """model_fn(x, t) = v_neg + scale·(v_text − v_neg), both halves in one batched model call.

    text (B, L, E) is the prompt; neg_text (B or 1, L', E) is the negative prompt (or the empty
    prompt for plain CFG). Scale 1 gives the conditional velocity. Guidance applies only while
    the noisiest frame's t lies in `interval` (Kynkäänniemi et al. 2024, "Applying guidance in a
    limited interval"); outside it one conditional call is made, half the cost of a guided step.

    parallel < 1 is adaptive projected guidance (APG; Sadat et al. 2025, "Eliminating oversaturation and
    artifacts of high guidance scales"): the guidance's part along each frame's conditional clean estimate,
    which shifts whole colours, is weighted by `parallel` (their η), the rest kept (`project_guidance`).
    """
    lo, hi = interval
    if not 0.0 <= lo <= hi <= 1.0:
        raise InputError(f"guidance interval must satisfy 0 <= lo <= hi <= 1, got {interval}")
    if not 0.0 <= parallel <= 1.0:
        raise InputError(f"guidance parallel weight must be in [0, 1], got {parallel}")
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
        if parallel == 1.0:
            return v_neg + scale * (v_text - v_neg)
        return v_text + (scale - 1.0) * project_guidance(v_text - v_neg, x, t, v_text, parallel)

    return model_fn


def project_guidance(dv: torch.Tensor, x: torch.Tensor, t: torch.Tensor, v: torch.Tensor,
                     parallel: float) -> torch.Tensor:
    """dv with its component along the clean estimate x0 = x − t·v weighted by `parallel`, per sample and frame.

    dv, x, v (B, C, T, H, W); t (B,) or (B, T). APG projects in the clean-estimate space; there the guidance
    is −t·dv, a per-frame scalar times dv, so projecting dv itself gives the same split without dividing by t.
    """
    dims = (1, 3, 4)  # each frame of each sample: frames of one window sit at different t
    x0, d = clean_estimate(x, t, v).float(), dv.float()
    along = (d * x0).sum(dim=dims, keepdim=True) / x0.pow(2).sum(dim=dims, keepdim=True).clamp(min=1e-12) * x0
    return (d - (1.0 - parallel) * along).to(dv.dtype)
