"""The causal video VAE: 4× time, 4× or 8× space (config.spatial_down), the first frame encoded alone.

A video of T = 1 + 4k frames becomes 1 + k latent frames: latent 0 sees frame 0 only, latent j
sees frames ≤ 4j. An image is a 1-frame video. Layout and causality follow Wan2.1's VAE
(Wan team, "Wan: Open and Advanced Large-Scale Video Generative Models", 2025), made cheaper
for CPU: space-to-depth in front (no conv at full resolution), (2+1)D causal convs, and the
streaming state passed explicitly:

    z, cache = vae.encode_chunk(x, None)      # first chunk: 1 + 4n frames (usually 1)
    z, cache = vae.encode_chunk(x, cache)     # later chunks: 4n frames
    x, cache = vae.decode_chunk(z, None)      # first chunk: 1 + n latent frames -> 1 + 4n frames
    x, cache = vae.decode_chunk(z, cache)     # later chunks: n latent frames -> 4n frames

A whole-video call equals the same video streamed in chunks (tested to float tolerance).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from cinegen.common.errors import InputError
from cinegen.vae.config import VAEConfig, check_latents, check_pixels
from cinegen.vae.layers import (
    CausalTimeConv, Down, FrameNorm, ResBlock, StreamState, Up, average_channels, conv_frames, depth_to_space,
    space_to_depth,
)


@dataclass
class DiagonalGaussian:
    """The encoder's posterior q(z | x) = N(mean, exp(logvar)), each (B, C, T', H', W')."""

    mean: torch.Tensor
    logvar: torch.Tensor

    def mode(self) -> torch.Tensor:
        return self.mean

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        eps = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + torch.exp(0.5 * self.logvar) * eps

    def kl(self) -> torch.Tensor:
        """KL(q || N(0, I)) per latent element, averaged: a scalar."""
        return 0.5 * (self.mean.pow(2) + self.logvar.exp() - 1.0 - self.logvar).mean()


class Encoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        ch, p, k, g = cfg.channels, cfg.patch, cfg.temporal_kernel, cfg.norm_groups
        self.patch, self.latent_channels = p, cfg.latent_channels
        self.conv_in = nn.Conv2d(cfg.in_channels * p * p, ch[0], 3, padding=1)
        self.levels = nn.ModuleList(nn.ModuleList(ResBlock(c, k, g) for _ in range(cfg.enc_blocks)) for c in ch)
        self.downs = nn.ModuleList(Down(ch[i], ch[i + 1], t) for i, t in enumerate(cfg.time_down_levels))
        self.mid = ResBlock(ch[-1], k, g)
        self.norm_out = FrameNorm(g, ch[-1])
        self.conv_out = nn.Conv2d(ch[-1], 2 * cfg.latent_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, state: StreamState) -> torch.Tensor:
        """(B, T, H, W, 3) pixels -> (B, T', H/s, W/s, 2·C) posterior mean and log-variance; s = spatial_down."""
        x = conv_frames(self.conv_in, space_to_depth(x, self.patch))  # (B, T, H/p, W/p, c0)
        for i, blocks in enumerate(self.levels):
            for block in blocks:
                x = block(x, state)
            if i < len(self.downs):
                x = self.downs[i](x, state)  # (B, T or T/2, H/2, W/2, c_(i+1))
        x = self.mid(x, state)
        out = conv_frames(self.conv_out, F.silu(self.norm_out(x)))  # (B, T', h, w, 2C)
        if x.shape[-1] % self.latent_channels == 0:
            # DC-AE style shortcut into the posterior mean: averaged features pass from the start.
            mean, logvar = out.chunk(2, dim=-1)
            out = torch.cat([mean + average_channels(x, self.latent_channels), logvar], dim=-1)
        return out


class Decoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        ch, p, k, g = cfg.channels, cfg.patch, cfg.temporal_kernel, cfg.norm_groups
        self.patch = p
        self.conv_in = nn.Conv2d(cfg.latent_channels, ch[-1], 3, padding=1)
        self.mid = ResBlock(ch[-1], k, g)
        self.levels = nn.ModuleList(nn.ModuleList(ResBlock(c, k, g) for _ in range(cfg.dec_blocks)) for c in ch)
        # ups[i] goes from level i + 1 up to level i; the decoder walks the levels deepest first.
        self.ups = nn.ModuleList(Up(ch[i + 1], ch[i], t) for i, t in enumerate(cfg.time_down_levels))
        self.norm_out = FrameNorm(g, ch[0])
        self.conv_out = nn.Conv2d(ch[0], cfg.in_channels * p * p, 3, padding=1)

    def forward(self, z: torch.Tensor, state: StreamState) -> torch.Tensor:
        """(B, T', h, w, C) raw latents -> (B, T, 8h, 8w, 3) pixels."""
        x = conv_frames(self.conv_in, z)  # (B, T', h, w, c_last)
        if x.shape[-1] % z.shape[-1] == 0:
            x = x + z.repeat_interleave(x.shape[-1] // z.shape[-1], dim=-1)  # shortcut, as in Up
        x = self.mid(x, state)
        for i in reversed(range(len(self.levels))):
            for block in self.levels[i]:
                x = block(x, state)
            if i > 0:
                x = self.ups[i - 1](x, state)  # (B, T' or 2T', 2h, 2w, c_(i-1))
        x = conv_frames(self.conv_out, F.silu(self.norm_out(x)))  # (B, T, H/p, W/p, 3p²)
        return depth_to_space(x, self.patch)


def _to_frames(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, T, H, W, C): the layout the layers work in."""
    return x.permute(0, 2, 3, 4, 1)


def _from_frames(x: torch.Tensor) -> torch.Tensor:
    """(B, T, H, W, C) -> (B, C, T, H, W), contiguous."""
    return x.permute(0, 4, 1, 2, 3).contiguous()


class VideoVAE(nn.Module):
    """Encoder + decoder. Public tensors are channel-major (B, C, T, H, W) like Conv3d and diffusers;
    inside, the layers work channels-last (B, T, H, W, C)."""

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        # Each causal conv stores its past under its own module name: explicit, unique, stable.
        for name, m in self.named_modules():
            if isinstance(m, CausalTimeConv):
                m.cache_key = name
        # Conv weights in the layout of their inputs, or every call reorders them (loading keeps it).
        self.to(memory_format=torch.channels_last)

    def config_dict(self) -> dict[str, Any]:
        return self.cfg.to_dict()

    # ---- input checks --------------------------------------------------------------------
    def _check_pixels(self, x: torch.Tensor, first: bool) -> None:
        check_pixels(self.cfg, x, first)

    def _check_latents(self, z: torch.Tensor) -> None:
        check_latents(self.cfg, z)

    # ---- whole videos --------------------------------------------------------------------
    def _encode(self, x: torch.Tensor, state: StreamState) -> DiagonalGaussian:
        h = _from_frames(self.encoder(_to_frames(x), state))  # (B, 2C, T', h, w)
        mean, logvar = h.chunk(2, dim=1)  # (B, C, T', h, w) each
        return DiagonalGaussian(mean, logvar.clamp(-30.0, 20.0))

    def encode_dist(self, x: torch.Tensor) -> DiagonalGaussian:
        """x: (B, 3, 1 + 4k, H, W) in [-1, 1] -> posterior over raw latents (B, C, 1 + k, H/s, W/s)."""
        self._check_pixels(x, first=True)
        return self._encode(x, StreamState())

    def normalise(self, z_raw: torch.Tensor) -> torch.Tensor:
        return (z_raw - self.cfg.latent_mean) / self.cfg.latent_std

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.cfg.latent_std + self.cfg.latent_mean

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised latents, what the DiT sees: (mode − latent_mean) / latent_std."""
        return self.normalise(self.encode_dist(x).mode())

    def decode_raw(self, z_raw: torch.Tensor) -> torch.Tensor:
        """Raw (un-normalised) latents (B, C, 1 + k, h, w) -> pixels (B, 3, 1 + 4k, 8h, 8w)."""
        self._check_latents(z_raw)
        return _from_frames(self.decoder(_to_frames(z_raw), StreamState()))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised latents -> pixels in about [-1, 1]."""
        return self.decode_raw(self.denormalise(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, DiagonalGaussian]:
        """Reconstruct through a posterior sample: (recon, posterior), for training."""
        post = self.encode_dist(x)
        return self.decode_raw(post.sample(generator)), post

    # ---- streaming -----------------------------------------------------------------------
    def encode_chunk(self, x: torch.Tensor, cache: StreamState | None) -> tuple[torch.Tensor, StreamState]:
        """One chunk of pixels -> its normalised latents and the cache for the next chunk.

        cache None starts a video (1 + 4n frames, usually 1); later chunks hold 4n frames.
        The given cache is not modified.
        """
        state = StreamState() if cache is None else cache.copy()
        self._check_pixels(x, first=state.first)
        z = self.normalise(self._encode(x, state).mode())
        state.first, state.n_in = False, state.n_in + x.shape[2]
        return z, state

    def decode_chunk(self, z: torch.Tensor, cache: StreamState | None) -> tuple[torch.Tensor, StreamState]:
        """Normalised latent frames -> pixels: the video's first latent frame gives 1 frame, each later one 4."""
        state = StreamState() if cache is None else cache.copy()
        self._check_latents(z)
        x = _from_frames(self.decoder(_to_frames(self.denormalise(z)), state))
        state.first, state.n_in = False, state.n_in + z.shape[2]
        return x, state

    def encode_stream(self, frames: Iterable[torch.Tensor]) -> Iterator[torch.Tensor]:
        """Pixel pieces (B, 3, t, H, W) of any lengths -> latent chunks (B, C, n, h, w), 1 then 1 each.

        Frames are regrouped as 1, 4, 4, ...; memory holds one chunk and the cache, whatever the
        length. Raises InputError at the end if the total is not 1 + 4k frames.
        """
        td, cache, buf = self.cfg.temporal_down, None, []
        n_buf = 0
        for piece in frames:
            buf.append(piece)
            n_buf += piece.shape[2]
            while n_buf >= (1 if cache is None else td):
                x = torch.cat(buf, dim=2)
                n = 1 if cache is None else td
                z, cache = self.encode_chunk(x[:, :, :n], cache)
                buf, n_buf = [x[:, :, n:]], n_buf - n
                yield z
        if n_buf or cache is None:
            seen = (cache.n_in if cache is not None else 0) + n_buf
            raise InputError(f"a video needs 1 + {td}k frames, got {seen}")

    def decode_stream(self, z: torch.Tensor, chunk: int = 1) -> Iterator[torch.Tensor]:
        """Normalised latents (B, C, T', h, w) -> pixel chunks: 1 frame, then 4·chunk frames at a time."""
        if chunk < 1:
            raise InputError(f"chunk must be >= 1 latent frame, got {chunk}")
        self._check_latents(z)
        x, cache = self.decode_chunk(z[:, :, :1], None)
        yield x
        for i in range(1, z.shape[2], chunk):
            x, cache = self.decode_chunk(z[:, :, i : i + chunk], cache)
            yield x
