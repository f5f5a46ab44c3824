"""Wan's VAE (diffusers' AutoencoderKLWan) behind the interface cinegen's pipeline uses of its own VideoVAE.

What is the same as cinegen's VideoVAE (vae/model.py): tensors (B, C, T, H, W); pixels in [-1, 1];
T = 1 + 4k frames <-> 1 + k latent frames, the first frame alone; encode/decode take and give
*normalised* latents, and decode_chunk streams latent frames with an explicit cache.

What differs: the sizes come from the folder's config (`cfg`: 4× time, 8× space, 16 channels for
Wan2.1); normalisation is per channel, z = (raw − mean_c) / std_c, written as WanPipeline writes it
(decode: z / (1 / std) + mean); decoded pixels are clamped to [-1, 1] by the VAE itself; there is
no trainable posterior sampling here (encode gives the posterior mode, as Wan's image-to-video does).

Streaming drives diffusers' own decoder one latent frame at a time with its causal feature cache
(CACHE_T frames per conv), exactly the loop AutoencoderKLWan.decode runs, but with the cache passed
explicitly; so a video decoded chunk by chunk equals vae.decode of the whole (tested).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cinegen.common.errors import CheckpointError
from cinegen.vae.config import check_latents, check_pixels, latent_frames, pixel_frames


@dataclass(frozen=True)
class WanVAEConfig:
    """The sizes the pipeline reads from `vae.cfg` (the names of cinegen's VAEConfig), from Wan's config."""

    temporal_down: int
    spatial_down: int
    latent_channels: int
    latents_mean: tuple[float, ...]
    latents_std: tuple[float, ...]
    in_channels: int = 3

    @classmethod
    def from_diffusers(cls, cfg: dict[str, Any]) -> "WanVAEConfig":
        z = int(cfg["z_dim"])
        mean, std = tuple(float(v) for v in cfg["latents_mean"]), tuple(float(v) for v in cfg["latents_std"])
        if len(mean) != z or len(std) != z:
            raise CheckpointError(f"Wan VAE latents_mean / latents_std need {z} values, got {len(mean)} / {len(std)}")
        return cls(int(cfg.get("scale_factor_temporal") or 4), int(cfg.get("scale_factor_spatial") or 8), z, mean,
                   std, int(cfg.get("in_channels", 3)))

    def n_latent_frames(self, n_frames: int) -> int:
        return latent_frames(n_frames, self.temporal_down)

    def n_frames(self, n_latent: int) -> int:
        return pixel_frames(n_latent, self.temporal_down)


@dataclass
class WanStreamState:
    """The causal cache between chunks: diffusers' per-conv feature list, and how much went in so far."""

    feats: list[Any] = field(default_factory=list)
    first: bool = True
    n_in: int = 0

    def copy(self) -> "WanStreamState":
        return WanStreamState(list(self.feats), self.first, self.n_in)  # entries are replaced, never mutated


class WanVAE(nn.Module):
    """AutoencoderKLWan with normalised-latent encode/decode and explicit-cache streaming."""

    def __init__(self, model: nn.Module):
        super().__init__()
        from diffusers.models.autoencoders.autoencoder_kl_wan import WanCausalConv3d

        self.model = model
        self.cfg = WanVAEConfig.from_diffusers(dict(model.config))
        self.register_buffer("mean", torch.tensor(self.cfg.latents_mean).view(1, -1, 1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(self.cfg.latents_std).view(1, -1, 1, 1, 1), persistent=False)
        self._n_enc = sum(isinstance(m, WanCausalConv3d) for m in model.encoder.modules())
        self._n_dec = sum(isinstance(m, WanCausalConv3d) for m in model.decoder.modules())

    @classmethod
    def from_folder(cls, folder: str | Path, device: str | torch.device = "cpu",
                    dtype: torch.dtype = torch.float32) -> "WanVAE":
        from diffusers import AutoencoderKLWan

        try:
            model = AutoencoderKLWan.from_pretrained(str(folder), torch_dtype=dtype)
        except (OSError, ValueError, KeyError) as e:
            raise CheckpointError(f"cannot load the Wan VAE from {folder}: {str(e).splitlines()[0]}") from None
        return cls(model.eval().requires_grad_(False)).to(device)

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    # ---- normalisation, as WanPipeline (decode) and WanImageToVideoPipeline (encode) write it ----------
    def normalise(self, z_raw: torch.Tensor) -> torch.Tensor:
        mean, std = self.mean.to(z_raw), self.std.to(z_raw)
        return (z_raw - mean) * (1.0 / std)

    def denormalise(self, z: torch.Tensor) -> torch.Tensor:
        mean, std = self.mean.to(z), self.std.to(z)
        return z / (1.0 / std) + mean

    # ---- checks ------------------------------------------------------------------------------
    def _check_pixels(self, x: torch.Tensor, first: bool) -> None:
        check_pixels(self.cfg, x, first)

    def _check_latents(self, z: torch.Tensor) -> None:
        check_latents(self.cfg, z)

    # ---- whole videos: diffusers' own calls --------------------------------------------------
    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Pixels (B, 3, 1 + 4k, H, W) in [-1, 1] -> normalised latents (B, C, 1 + k, H/8, W/8): the posterior mode."""
        self._check_pixels(x, first=True)
        return self.normalise(self.model.encode(x.to(self.dtype)).latent_dist.mode())

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Normalised latents (B, C, 1 + k, h, w) -> pixels (B, 3, 1 + 4k, 8h, 8w) in [-1, 1]."""
        self._check_latents(z)
        return self.model.decode(self.denormalise(z.to(self.dtype)), return_dict=False)[0]

    # ---- streaming -------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_chunk(self, x: torch.Tensor, cache: WanStreamState | None) -> tuple[torch.Tensor, WanStreamState]:
        """One chunk of pixels (1 + 4n frames first, then 4n) -> its normalised latents and the next cache."""
        state = WanStreamState([None] * self._n_enc) if cache is None else cache.copy()
        self._check_pixels(x, first=state.first)
        x = x.to(self.dtype)
        if self.model.config.patch_size is not None:
            from diffusers.models.autoencoders.autoencoder_kl_wan import patchify

            x = patchify(x, patch_size=self.model.config.patch_size)
        td, outs, start = self.cfg.temporal_down, [], 0
        while start < x.shape[2]:
            n = 1 if state.first and start == 0 else td  # the video's first frame alone, then 4 at a time
            outs.append(self.model.encoder(x[:, :, start : start + n], feat_cache=state.feats, feat_idx=[0]))
            start += n
        state.first, state.n_in = False, state.n_in + x.shape[2]
        h = self.model.quant_conv(torch.cat(outs, dim=2))  # (B, 2C, n, h, w); a 1×1×1 conv: per frame
        return self.normalise(h[:, : self.cfg.latent_channels]), state  # the posterior mean

    @torch.no_grad()
    def decode_chunk(self, z: torch.Tensor, cache: WanStreamState | None) -> tuple[torch.Tensor, WanStreamState]:
        """Normalised latent frames -> pixels in [-1, 1]: the video's first latent frame gives 1 frame, each later 4."""
        state = WanStreamState([None] * self._n_dec) if cache is None else cache.copy()
        self._check_latents(z)
        x = self.model.post_quant_conv(self.denormalise(z.to(self.dtype)))  # 1×1×1: per frame
        outs = []
        for i in range(x.shape[2]):  # one latent frame per call, as AutoencoderKLWan._decode does
            outs.append(self.model.decoder(x[:, :, i : i + 1], feat_cache=state.feats, feat_idx=[0],
                                           first_chunk=state.first))
            state.first = False
        out = torch.cat(outs, dim=2)
        if self.model.config.patch_size is not None:
            from diffusers.models.autoencoders.autoencoder_kl_wan import unpatchify

            out = unpatchify(out, patch_size=self.model.config.patch_size)
        state.n_in += z.shape[2]
        return out.clamp(-1.0, 1.0), state
