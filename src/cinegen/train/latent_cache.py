"""The DiT's training set, computed once: world clips → VAE latents, captions → text states.

DESIGN.md: re-rendering and re-encoding every step wastes most of the CPU, so encode the clips
once and cache latents and text states on disk (the cache is deterministic per seed, so a lost
cache is rebuilt identically).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from cinegen.common.atomic import atomic_path
from cinegen.pipeline.pipeline import frames_to_tensor
from cinegen.text import TextEncoder
from cinegen.train.config import TrainConfig
from cinegen.vae import VideoVAE

CACHE_SEED_OFFSET = 50_000_000  # cache clips never share seeds with the VAE's training clips


def _pad(emb: torch.Tensor, mask: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    b, l, dim = emb.shape
    out = torch.zeros(b, length, dim, dtype=emb.dtype)
    m = torch.zeros(b, length, dtype=torch.bool)
    out[:, : min(l, length)] = emb[:, :length]
    m[:, : min(l, length)] = mask[:, :length]
    return out, m


@torch.no_grad()
def build_cache(cfg: TrainConfig, vae: VideoVAE, folder: Path, main: bool = True,
                barrier: Callable[[], None] = lambda: None, progress: bool = True) -> dict[str, torch.Tensor]:
    """Load `folder/cache.safetensors`, or build it (on rank 0) and save it."""
    path = folder / "cache.safetensors"
    if main and not path.exists():
        from cinegen.world import make_captions, render, sample_scene

        folder.mkdir(parents=True, exist_ok=True)
        text = TextEncoder(cfg.text_encoder)
        latents, captions = [], []
        it = range(cfg.cache_clips)
        if progress:
            from rich.progress import track

            it = track(it, description="encoding the latent cache")
        for i in it:
            seed = CACHE_SEED_OFFSET + cfg.seed * 1_000_000 + i
            spec = sample_scene(seed, duration=(cfg.n_frames - 1) / cfg.fps + 0.5)
            frames = render(spec, cfg.width, cfg.height, cfg.fps, n_frames=cfg.n_frames).frames
            latents.append(vae.encode(frames_to_tensor(frames))[0].half())
            caps = make_captions(spec, np.random.default_rng(seed))
            pool = list(caps.long) + list(caps.short)
            rng = np.random.default_rng(seed + 1)
            # mostly long captions (what prompts are expanded into), some short ones
            picks = [caps.long[rng.integers(len(caps.long))] if c < cfg.captions_per_clip - 1 or len(caps.short) == 0
                     else caps.short[rng.integers(len(caps.short))] for c in range(cfg.captions_per_clip)]
            captions.extend(picks if pool else [""] * cfg.captions_per_clip)
        embs, masks = [], []
        for s in range(0, len(captions), 64):
            e, m = text.encode(captions[s : s + 64])
            embs.append(e)
            masks.append(m)
        length = max(int(m.sum(1).max()) for m in masks)
        padded = [_pad(e, m, length) for e, m in zip(embs, masks)]
        empty, empty_mask = _pad(*text.encode([""]), length)
        cache = {
            "latents": torch.stack(latents),
            "text": torch.cat([p[0] for p in padded]).half(),
            "text_mask": torch.cat([p[1] for p in padded]).to(torch.uint8),
            "empty": empty[0].half(),
            "empty_mask": empty_mask[0].to(torch.uint8),
        }
        with atomic_path(path) as tmp:
            save_file({k: v.contiguous() for k, v in cache.items()}, str(tmp))
        (folder / "captions.txt").write_text("\n".join(c.replace("\n", " ") for c in captions) + "\n")
    barrier()
    return load_file(str(path))
