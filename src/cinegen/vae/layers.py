"""Building blocks of the causal video VAE, on the channels-last layout (B, T, H, W, C).

Why channels-last: on CPU every 1×1 mixing (time taps, patch merging, channel changes) is then
one matmul over the last dimension (nn.Linear), and a 3×3 conv runs on a free channels_last
view of (B·T, C, H, W). Down- and upsampling are patch merging / splitting (space-to-depth and
back, as in Swin and LTX-Video's VAE) instead of strided convs and nearest-neighbour copies:
the same receptive field through the 3×3 convs around them at a fraction of the memory traffic.

Time is mixed only by causal convolutions padded in front, written as one matmul over the last
`k` frames stacked in channels: a (2+1)D factorisation of a causal 3D conv (Tran et al.,
"A Closer Look at Spatiotemporal Convolutions for Action Recognition", 2018). Normalisation is
GroupNorm over each frame alone (a per-pixel LayerNorm learned far slower: it erases each
pixel's brightness): no statistic crosses frames, so a chunked pass equals the whole pass.

Streaming state is explicit: every module that looks back in time reads and writes its own
entry of `StreamState.frames`, and `StreamState.first` says whether this chunk starts a video
(then the past is zeros and the time samplers keep the first frame alone).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from cinegen.common.errors import InputError


@dataclass
class StreamState:
    """What a streaming encode or decode carries from one chunk to the next."""

    first: bool = True                                              # the next chunk starts the video
    frames: dict[str, torch.Tensor] = field(default_factory=dict)  # cache key -> last frames (B, k-1, H, W, C)
    n_in: int = 0                                                   # frames (or latent frames) consumed so far

    def copy(self) -> "StreamState":
        return StreamState(self.first, dict(self.frames), self.n_in)


def conv_frames(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """A 2D conv on every frame: (B, T, H, W, C) -> (B, T, H', W', C'), through channels_last views."""
    b, t, h, w, c = x.shape
    y = conv(x.reshape(b * t, h, w, c).permute(0, 3, 1, 2))  # (B·T, C', H', W'), channels_last
    return y.permute(0, 2, 3, 1).reshape(b, t, y.shape[2], y.shape[3], y.shape[1])


def space_to_depth(x: torch.Tensor, p: int) -> torch.Tensor:
    """(B, T, H, W, C) -> (B, T, H/p, W/p, p·p·C): each p×p cell of pixels becomes one vector."""
    b, t, h, w, c = x.shape
    x = x.reshape(b, t, h // p, p, w // p, p, c).permute(0, 1, 2, 4, 3, 5, 6)
    return x.reshape(b, t, h // p, w // p, p * p * c)


def depth_to_space(x: torch.Tensor, p: int) -> torch.Tensor:
    """Inverse of space_to_depth: (B, T, h, w, p·p·C) -> (B, T, h·p, w·p, C)."""
    b, t, h, w, c = x.shape
    x = x.reshape(b, t, h, w, p, p, c // (p * p)).permute(0, 1, 2, 4, 3, 5, 6)
    return x.reshape(b, t, h * p, w * p, c // (p * p))


class FrameNorm(nn.GroupNorm):
    """GroupNorm over (H, W, C/groups) of each frame alone: no statistic crosses time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, H, W, C)
        b, t, h, w, c = x.shape
        y = F.group_norm(x.reshape(b * t, h, w, c).permute(0, 3, 1, 2), self.num_groups, self.weight, self.bias, self.eps)
        return y.permute(0, 2, 3, 1).reshape(b, t, h, w, c)


class CausalTimeConv(nn.Module):
    """y_t = sum_i W_i x_(t-i), i < k: a causal conv over time, 1×1 in space, zeros before frame 0.

    Starts as the identity so a fresh network behaves like a per-frame 2D network.
    """

    def __init__(self, channels: int, kernel: int):
        super().__init__()
        self.kernel = kernel
        self.cache_key = ""  # set by the owning model: its name in named_modules()
        self.proj = nn.Linear(kernel * channels, channels)
        with torch.no_grad():
            self.proj.weight.zero_()
            self.proj.bias.zero_()
            self.proj.weight[:, (kernel - 1) * channels :].copy_(torch.eye(channels))  # the taps on x_t

    def forward(self, x: torch.Tensor, state: StreamState) -> torch.Tensor:  # (B, T, H, W, C)
        k = self.kernel
        if k == 1:
            return self.proj(x)
        if state.first:
            past = x.new_zeros(x.shape[0], k - 1, *x.shape[2:])
        elif self.cache_key in state.frames:
            past = state.frames[self.cache_key]
        else:
            raise InputError("stream cache does not belong to this model (missing causal state)")
        xp = torch.cat([past, x], dim=1)  # (B, T + k - 1, H, W, C)
        # clone: a view would keep the whole chunk alive and memory would grow with chunk size.
        state.frames[self.cache_key] = xp[:, -(k - 1) :].clone()
        t = x.shape[1]
        stacked = torch.cat([xp[:, i : i + t] for i in range(k)], dim=-1)  # (B, T, H, W, k·C), oldest first
        return self.proj(stacked)


class ResBlock(nn.Module):
    """norm → SiLU → 3×3 conv → causal time conv → norm → SiLU → 3×3 conv, plus the input."""

    def __init__(self, channels: int, time_kernel: int, groups: int):
        super().__init__()
        self.norm1 = FrameNorm(groups, channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.time = CausalTimeConv(channels, time_kernel)
        self.norm2 = FrameNorm(groups, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, state: StreamState) -> torch.Tensor:  # (B, T, H, W, C)
        h = conv_frames(self.conv1, F.silu(self.norm1(x)))
        h = self.time(h, state)
        h = conv_frames(self.conv2, F.silu(self.norm2(h)))
        return x + h


def average_channels(x: torch.Tensor, c_out: int) -> torch.Tensor:
    """(..., k·c_out) -> (..., c_out): mean of each run of k neighbouring channels."""
    return x.reshape(*x.shape[:-1], c_out, x.shape[-1] // c_out).mean(-1)


class Down(nn.Module):
    """Merge 2×2 pixels (and, with time, 2 frames) into one vector, then project: a causal
    conv of kernel = stride = (2, 2, 2), plus a parameter-free shortcut that averages the merged
    channels (DC-AE's residual autoencoding, Chen et al. 2024): low frequencies pass from the
    start instead of being learned.

    Time pairs are (0, f0), (f1, f2), (f3, f4), ... with a zero frame in front of the video,
    so 1 + 2m frames -> 1 + m, a 1-frame image stays 1 frame, and chunk edges never split a pair.
    """

    def __init__(self, c_in: int, c_out: int, time: bool):
        super().__init__()
        self.time = time
        self.c_out = c_out
        n_in = (8 if time else 4) * c_in
        self.proj = nn.Linear(n_in, c_out)
        self.shortcut = n_in % c_out == 0

    def forward(self, x: torch.Tensor, state: StreamState) -> torch.Tensor:  # (B, T, H, W, C)
        if self.time:
            if state.first:
                x = torch.cat([x.new_zeros(x.shape[0], 1, *x.shape[2:]), x], dim=1)
            b, t, h, w, c = x.shape
            if t % 2:
                raise InputError("chunk length does not fit the VAE's temporal downsampling")
            # consecutive frames side by side in channels: (B, T/2, H, W, 2C), older first
            x = x.reshape(b, t // 2, 2, h, w, c).permute(0, 1, 3, 4, 2, 5).reshape(b, t // 2, h, w, 2 * c)
        x = space_to_depth(x, 2)  # (B, T', H/2, W/2, 4·(2·)C)
        y = self.proj(x)
        return y + average_channels(x, self.c_out) if self.shortcut else y  # (B, T', H/2, W/2, C')


class Up(nn.Module):
    """Mirror of Down: project each vector to 2×2 pixels (and, with time, 2 frames), plus a
    shortcut that repeats channels. The video's first latent frame stands for one frame alone,
    so its older twin is dropped.
    """

    def __init__(self, c_in: int, c_out: int, time: bool):
        super().__init__()
        self.time = time
        self.c_in = c_in
        n_out = (8 if time else 4) * c_out
        self.proj = nn.Linear(c_in, n_out)
        self.shortcut = n_out % c_in == 0

    def forward(self, x: torch.Tensor, state: StreamState) -> torch.Tensor:  # (B, T, H, W, C)
        y = self.proj(x)  # (B, T, H, W, (2·)4·C')
        if self.shortcut:
            y = y + x.repeat_interleave(y.shape[-1] // self.c_in, dim=-1)
        if self.time:
            b, t, h, w, c = y.shape
            y = y.reshape(b, t, h, w, 2, c // 2).permute(0, 1, 4, 2, 3, 5).reshape(b, 2 * t, h, w, c // 2)
            if state.first:
                y = y[:, 1:]
        return depth_to_space(y, 2)  # (B, T', 2H, 2W, C')
