"""The DiT's training set, computed once: world clips → VAE latents, captions → text states.

DESIGN.md: re-rendering and re-encoding every step wastes most of the CPU, so encode the clips
once and cache latents and text states on disk (the cache is deterministic per seed, so a lost
cache is rebuilt identically).
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import partial
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


def _scene(cfg: TrainConfig, i: int):
    from cinegen.world.levels import sample_level_scene

    seed = CACHE_SEED_OFFSET + cfg.seed * 1_000_000 + i
    return seed, sample_level_scene(seed, cfg.world, duration=(cfg.n_frames - 1) / cfg.fps + 0.5)


def _track(it, description: str, progress: bool, total: int | None = None):
    if not progress:
        return it
    from rich.progress import track

    return track(it, description=description, total=total)


@torch.no_grad()
def build_text(cfg: TrainConfig, path: Path, progress: bool = True, device: str | torch.device = "cpu") -> None:
    """Captions of every cache clip → padded text states (fp16) + masks; independent of the VAE."""
    from cinegen.world import make_captions

    text = TextEncoder(cfg.text_encoder, device=device)
    captions = []
    for i in _track(range(cfg.cache_clips), "writing captions", progress):
        seed, spec = _scene(cfg, i)
        caps = make_captions(spec, np.random.default_rng(seed))
        rng = np.random.default_rng(seed + 1)
        # mostly long captions (what prompts are expanded into), one short one per clip
        for c in range(cfg.captions_per_clip):
            short = c == cfg.captions_per_clip - 1 and len(caps.short) > 0
            pool = caps.short if short else caps.long
            captions.append(pool[rng.integers(len(pool))])
    embs, masks = [], []
    for s in _track(range(0, len(captions), 64), "encoding captions", progress):
        e, m = text.encode(captions[s : s + 64])
        embs.append(e.cpu())
        masks.append(m.cpu())
    length = max(int(m.sum(1).max()) for m in masks)
    padded = [_pad(e, m, length) for e, m in zip(embs, masks)]
    empty, empty_mask = _pad(*text.encode([""]), length)
    out = {
        "text": torch.cat([p[0] for p in padded]).half(),
        "text_mask": torch.cat([p[1] for p in padded]).to(torch.uint8),
        "empty": empty[0].half(),
        "empty_mask": empty_mask[0].to(torch.uint8),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in out.items()}, str(tmp))
    (path.parent / "captions.txt").write_text("\n".join(c.replace("\n", " ") for c in captions) + "\n")


def _render_clip(cfg: TrainConfig, i: int) -> np.ndarray:
    from cinegen.world import render

    _, spec = _scene(cfg, i)
    return render(spec, cfg.width, cfg.height, cfg.fps, n_frames=cfg.n_frames).frames


def _rendered(cfg: TrainConfig) -> Iterator[np.ndarray]:
    """Every cache clip's frames, in order; over `cfg.render_workers` processes when > 1 (a GPU
    machine's cores: one core renders ~90 clips/s at 64×64, far slower than the GPU encodes them)."""
    if cfg.render_workers <= 1:
        yield from (_render_clip(cfg, i) for i in range(cfg.cache_clips))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: the parent may hold a CUDA context, which a forked child must not inherit
    with ProcessPoolExecutor(cfg.render_workers, mp_context=mp.get_context("spawn")) as pool:
        yield from pool.map(partial(_render_clip, cfg), range(cfg.cache_clips), chunksize=64)


ENCODE_BATCH = 16  # clips per VAE call


@torch.no_grad()
def build_latents(cfg: TrainConfig, vae: VideoVAE, path: Path, progress: bool = True) -> None:
    """Every cache clip rendered and encoded once by the VAE: (N, C, 1 + k, h, w) fp16."""
    device = next(vae.parameters()).device
    latents, batch = [], []
    for frames in _track(_rendered(cfg), "encoding the latent cache", progress, total=cfg.cache_clips):
        batch.append(frames_to_tensor(frames))
        if len(batch) == ENCODE_BATCH:
            latents.append(vae.encode(torch.cat(batch).to(device)).half().cpu())
            batch = []
    if batch:
        latents.append(vae.encode(torch.cat(batch).to(device)).half().cpu())
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file({"latents": torch.cat(latents).contiguous()}, str(tmp))


@torch.no_grad()
def build_state(cfg: TrainConfig, grid: tuple[int, int], temporal_down: int, path: Path, progress: bool = True) -> None:
    """Every cache clip's world state per DiT token (train/world_state.py): (N, 1 + k, gh, gw, STATE_DIM)."""
    from cinegen.world import render
    from cinegen.train.world_state import token_state

    states = []
    for i in _track(range(cfg.cache_clips), "writing the world state", progress):
        _, spec = _scene(cfg, i)
        clip = render(spec, cfg.width, cfg.height, cfg.fps, n_frames=cfg.n_frames)
        states.append(torch.from_numpy(token_state(clip, grid, temporal_down)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_file({"state": torch.stack(states).contiguous()}, str(tmp))


def build_cache(cfg: TrainConfig, vae: VideoVAE, folder: Path, main: bool = True,
                barrier: Callable[[], None] = lambda: None, progress: bool = True) -> dict[str, torch.Tensor]:
    """Load `folder/{text,latents}.safetensors`, building what is missing (on rank 0) first."""
    if main and not (folder / "text.safetensors").exists():
        build_text(cfg, folder / "text.safetensors", progress, device=next(vae.parameters()).device)
    if main and not (folder / "latents.safetensors").exists():
        build_latents(cfg, vae, folder / "latents.safetensors", progress)
    barrier()
    return {**load_file(str(folder / "text.safetensors")), **load_file(str(folder / "latents.safetensors"))}
