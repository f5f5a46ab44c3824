"""Start a DiT with finer patches from one trained with coarser ones (e.g. 4×4 → 2×2 latent cells).

Only the patch embedding and the output projection depend on the patch size. The finer model is
given exactly the coarse model's function on a zoomed copy of its input: its embedding of a 2×2
patch is the coarse embedding of that patch upsampled ×2 (nearest), and its 2×2 output is the
coarse 4×4 output averaged over 2×2 blocks. With the same token grid and RoPE positions in token
units, new(x) = avgpool(old(upsample(x))) holds to float rounding: the transformer blocks keep
all they learned (denoising, text, motion) and fine-tuning teaches the new scale, far sooner than
training from scratch.
"""
from __future__ import annotations

import torch

from cinegen.common.errors import InputError


def repatch_state(state: dict[str, torch.Tensor], old: tuple[int, int, int], new: tuple[int, int, int],
                  out_dim: int) -> dict[str, torch.Tensor]:
    """A copy of a DiT state dict for patch size `new`, from one trained with `old` (time patch
    equal, `old`'s spatial sides multiples of `new`'s)."""
    (pt, ph, pw), (qt, qh, qw) = old, new
    if pt != qt or ph % qh or pw % qw:
        raise InputError(f"cannot start patch size {list(new)} from {list(old)}: the time patch must match "
                         "and the old spatial sides be multiples of the new")
    rh, rw = ph // qh, pw // qw
    out = dict(state)
    w = state["patch_embed.weight"]  # (D, C, pt, ph, pw)
    d, c = w.shape[:2]
    out["patch_embed.weight"] = w.reshape(d, c, pt, qh, rh, qw, rw).sum(dim=(4, 6)).contiguous()
    w, b = state["out_proj.weight"], state["out_proj.bias"]  # rows ordered (pt, ph, pw, C)
    out["out_proj.weight"] = (w.reshape(pt, qh, rh, qw, rw, out_dim, -1).mean(dim=(2, 4))
                              .reshape(pt * qh * qw * out_dim, -1).contiguous())
    out["out_proj.bias"] = b.reshape(pt, qh, rh, qw, rw, out_dim).mean(dim=(2, 4)).reshape(-1).contiguous()
    return out
