"""Recipes: functions that return full training configs (as nanoGPT's and torchtitan's runs are). `default` reproduces the shipped model."""
from __future__ import annotations

import dataclasses

from cinegen.train.config import TrainConfig


def default_vae() -> TrainConfig:
    # 5-frame clips and images of the world rendered at 64×64, trained on random 32×32 crops
    # (the VAE is convolutional: crops cost a quarter and teach the same local statistics).
    # "fine" = 4× space: an 8× grid cannot hold the shape of a 6-pixel object (vae/config.py).
    return TrainConfig(kind="vae", model="fine", n_frames=5, crop=32, batch_size=8, steps=4000, lr=1e-3,
                       warmup=100, image_fraction=0.2, ema_decay=0.995, ckpt_every=250, log_every=20,
                       fg_weight=8.0)


def default_dit(vae_dir: str) -> TrainConfig:
    # Latent clips of 5 latent frames (17 px frames) + images; high lr after a short warm-up (DESIGN.md).
    # 4×4 latent cells per token over the 4× VAE: 16 tokens per latent frame at 64×64, as with 8× and 2×2.
    # The lr cools down to 0 over the last 2,000 steps.
    return TrainConfig(kind="dit", model="small", model_overrides={"patch_size": [1, 4, 4]}, vae_dir=vae_dir,
                       n_frames=17, batch_size=16, steps=12000,
                       lr=1e-3, warmup=200, cooldown=2000, image_fraction=0.25, ema_decay=0.998, ckpt_every=250,
                       cache_clips=2000, captions_per_clip=3, memory_fraction=0.25, log_every=20)


def ladder_dit(vae_dir: str) -> list[TrainConfig]:
    """The DiT climbing the world ladder (world/levels.py, docs/EXPERIMENTS.md), each stage started from the
    weights of the one before (`cinegen train --recipe ladder` sets init_from): the chain of runs that was
    measured, stage for stage (`d_motion`, `d_more`, `l2_rc`, `l3_rc`, `l4_rc`; 28,103 steps, 7.3 hours of
    one core beside other jobs). L1 is arm D of the L1 study (plain text-to-video, the object-weighted loss,
    the motion loss), then a warm restart to three times its samples, which learned L1: motion 0.30 → 0.78 and
    background 0.09 → 0.66 (session 15). From L2 on, the modes' conditioning tasks (clean frames, images,
    memory frames) come back after each stage's first half (t2v_first). L2 took L2 motion 0.13 → 0.45 and
    kept L1 (session 16); L3 took L3 motion 0.24 → 0.49 (session 17). L4 was sized to 70 minutes of one
    core (`--fit-minutes 70`, session 18), not the 18,000 steps first planned. With its decoder, on the 206
    full-world dev prompts: motion 0.39 and consistency 0.92 (shipped 0.14, 0.78), background 0.62 (0.93)."""
    base = dataclasses.replace(default_dit(vae_dir), batch_size=8, fg_weight=16.0, motion_weight=1.0, warmup=100)
    return [
        dataclasses.replace(base, world="L1", steps=3000, cooldown=600, t2v_first=1.0, warmup=200),
        dataclasses.replace(base, world="L1", steps=6000, cooldown=1200, t2v_first=1.0),
        dataclasses.replace(base, world="L2", steps=6000, cooldown=1200, t2v_first=0.5),
        dataclasses.replace(base, world="L3", steps=8000, cooldown=1600, t2v_first=0.5),
        dataclasses.replace(base, world="L4", steps=5103, cooldown=680, t2v_first=0.5),
    ]


def redraw_decoder(vae_dir: str, dit_dir: str, world: str) -> TrainConfig:
    """The decoder fine-tuned on the final DiT's own latents (train/redraw.py): the encoder, and so the DiT's
    latent space, stay. On L1 it gave background +0.27 to +0.30 and count +0.11 (session 15, `j_rd`). 280 steps
    is what 25 minutes of one core gave `l4_rc_dec` (session 18; 400 planned)."""
    return dataclasses.replace(default_vae(), init_from=vae_dir, decoder_only=True, redraw_from=dit_dir,
                               world=world, n_frames=17, steps=280, lr=3e-4, warmup=50, cooldown=105, redraw_t=0.8,
                               ckpt_every=100)


def tiny_ladder(vae_dir: str) -> list[TrainConfig]:
    return [dataclasses.replace(tiny_dit(vae_dir), world=w, steps=3, cache_clips=4, fg_weight=16.0,
                                t2v_first=0.5) for w in ("L1", "L2")]


def tiny_redraw_decoder(vae_dir: str, dit_dir: str, world: str) -> TrainConfig:
    return dataclasses.replace(tiny_vae(), init_from=vae_dir, decoder_only=True, redraw_from=dit_dir, world=world,
                               steps=3, redraw_steps=2)


def tiny_vae() -> TrainConfig:
    """Seconds-long runs for tests and smoke checks."""
    return TrainConfig(kind="vae", model="tiny", width=32, height=32, n_frames=5, batch_size=2, steps=20,
                       lr=2e-3, warmup=2, ckpt_every=10, log_every=5)


def tiny_dit(vae_dir: str) -> TrainConfig:
    return TrainConfig(kind="dit", model="tiny", vae_dir=vae_dir, width=32, height=32, n_frames=5, batch_size=4,
                       steps=20, lr=2e-3, warmup=2, ckpt_every=10, log_every=5, cache_clips=16, captions_per_clip=2)


# name -> (VAE config, DiT config or the DiT's stages in order, the redraw decoder's config or None)
RECIPES = {"default": (default_vae, default_dit, None), "tiny": (tiny_vae, tiny_dit, None),
           "ladder": (default_vae, ladder_dit, redraw_decoder),
           "tiny-ladder": (tiny_vae, tiny_ladder, tiny_redraw_decoder)}
