"""Latents as a trained DiT draws them, to fine-tune a decoder on (train vae: decoder_only + redraw_from).

A decoder trained on the encoder's own latents meets, at sampling time, the DiT's latents, which lie
off them (session 7: a decoder sharpened on exact latents drew the DiT's worse). So the target clip is
encoded, noised to a random t0 and sampled back to t = 0 by the DiT with its caption, as SDEdit does:
what comes out has the clip's layout and the DiT's own errors, and the decoder learns to draw the clip
from it. Pure sampling under no_grad; the decoder's gradient starts after it.
"""
from __future__ import annotations

from pathlib import Path

import torch

from cinegen.common.checkpoint import load_config
from cinegen.common.errors import CheckpointError
from cinegen.flow import cfg_velocity, sample_euler, shift_for_tokens, time_grid


class Redrawer:
    """z_raw (B, C, n, h, w) → the DiT's SDEdit redraw of it from t0, in the same raw latent space."""

    def __init__(self, folder: str | Path, device: torch.device, steps: int, guidance: float,
                 latent_mean: float, latent_std: float):
        from cinegen.pipeline.pipeline import Pipeline

        config = load_config(folder)
        vae = config.get("vae", {})
        if "dit" not in config:
            raise CheckpointError(f"redraw_from {folder} has no DiT (config.json needs a 'dit' section)")
        if abs(float(vae.get("latent_mean", 0)) - latent_mean) > 1e-6 or abs(float(vae.get("latent_std", 1)) - latent_std) > 1e-6:
            raise CheckpointError(f"redraw_from {folder}'s DiT was trained on another latent space than init_from's VAE")
        pipe = Pipeline.from_pretrained(folder, device=str(device))
        self.dit, self.text, self.device = pipe.dit.eval().requires_grad_(False), pipe.text, device
        self.steps, self.guidance = steps, guidance
        self.mean, self.std = latent_mean, latent_std
        self.empty = self.text.encode([""])

    @torch.no_grad()
    def __call__(self, z_raw: torch.Tensor, captions: list[str], t0: float, noise: torch.Tensor) -> torch.Tensor:
        z = (z_raw - self.mean) / self.std
        emb, mask = self.text.encode(captions)
        neg, neg_mask = self.empty
        fn = cfg_velocity(self.dit, emb.to(self.device), mask.to(self.device), neg.to(self.device),
                          neg_mask.to(self.device), self.guidance)
        _, ph, pw = self.dit.cfg.patch_size
        n_tokens = z.shape[2] * (z.shape[3] // ph) * (z.shape[4] // pw)
        grid = time_grid(self.steps, shift_for_tokens(n_tokens), t_start=t0).to(self.device)
        out = sample_euler(fn, (1 - t0) * z + t0 * noise.to(z), grid)
        return out * self.std + self.mean
