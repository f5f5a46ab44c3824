"""A look inside a trained model: one contact sheet that shows where its objects and motion go wrong.

For each of a few world clips of one level (rendered, captioned and encoded here, as a training batch would
be), the rows are:
  1. the clip's latents decoded by the VAE alone (what the DiT is asked to draw: the VAE's ceiling)
  2. those latents noised to t = 0.5 and denoised by the DiT (does it keep what is plainly there?)
  3. the same from t = 0.8 (does it keep the layout it is given?)
  4–6. sampled from noise at guidance 1, 4 and 8 (does it draw an object unguided? where, and does it move?)
  7. its one-step clean estimate at t = 0.9 (what it thinks the video is, early in sampling)
Eight frames a row, the caption above each block. One window, no expansion, no memory, marks off: the
model alone.

usage: python benchmarks/diagnose_model.py MODEL [--world L1] [--clips 2] [--steps 20] [-o sheet.png]
MODEL is a model folder (config.json + safetensors) or "default".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROWS = ("VAE decode", "denoise t=0.5", "denoise t=0.8", "sample g=1", "sample g=4", "sample g=8", "x0 est t=0.9")
LABEL_W, SCALE, N_SHOW = 120, 2, 8


def clip_latents(pipe, world: str, index: int, n_frames: int):
    """A world clip of the level (seeds apart from training's), its long caption and its latents (1, C, n, h, w)."""
    from cinegen.pipeline.pipeline import frames_to_tensor
    from cinegen.world import make_captions, render
    from cinegen.world.levels import EVAL_SEED, sample_level_scene

    seed = EVAL_SEED + 500_000 + index
    fps = float(pipe.sampling.fps)
    spec = sample_level_scene(seed, world, duration=(n_frames - 1) / fps + 0.5)
    w, h = int(pipe.sampling.width), int(pipe.sampling.height)
    frames = render(spec, w, h, fps, n_frames=n_frames).frames
    caps = make_captions(spec, np.random.default_rng(seed)).long
    with torch.no_grad():
        z = pipe.vae.encode(frames_to_tensor(frames).to(pipe.device))
    return z, caps[0]


@torch.no_grad()
def rows_for(pipe, z0: torch.Tensor, caption: str, steps: int, seed: int) -> list[torch.Tensor]:
    from cinegen.flow import sample_euler, time_grid
    from cinegen.flow.objective import add_noise

    emb, mask, neg, neg_mask = pipe.text_states(caption, "")
    _, ph, pw = pipe.dit.cfg.patch_size
    n_tokens = z0.shape[2] * (z0.shape[3] // ph) * (z0.shape[4] // pw)
    shift = pipe.sampling_shift(n_tokens)
    noise = torch.randn(z0.shape, generator=torch.Generator().manual_seed(seed)).to(z0)
    out = [z0]
    for t0 in (0.5, 0.8):  # guided as the model samples (a checkpoint may guide only part of the way)
        fn = pipe.guided(pipe.dit, emb, mask, neg, neg_mask, 4.0)
        out.append(sample_euler(fn, add_noise(z0, noise, torch.tensor([t0])), time_grid(steps, shift, t_start=t0)))
    for g in (1.0, 4.0, 8.0):
        fn = pipe.guided(pipe.dit, emb, mask, neg, neg_mask, g)
        out.append(sample_euler(fn, noise.clone(), time_grid(steps, shift)))
    t = torch.full((1, z0.shape[2]), 0.9)
    xt = add_noise(z0, noise, t)
    out.append(xt - 0.9 * pipe.dit(xt, t, emb, mask))  # x0 = x_t − t·v
    return out


def decode(pipe, z: torch.Tensor) -> np.ndarray:
    return np.concatenate(list(pipe.decode_stream(iter(z[0].unbind(1)))))  # (T, H, W, 3) uint8


def sheet(blocks: list[tuple[str, list[np.ndarray]]]) -> Image.Image:
    """blocks: (caption, one decoded video per ROWS entry) → a labelled grid, N_SHOW frames a row."""
    h, w = blocks[0][1][0].shape[1:3]
    cell_h, cell_w = h * SCALE, w * SCALE
    title_h = 16
    height = sum(title_h + len(ROWS) * cell_h for _ in blocks)
    img = Image.new("RGB", (LABEL_W + N_SHOW * cell_w, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    y = 0
    for caption, videos in blocks:
        draw.text((4, y + 2), caption[:150], fill=(0, 0, 0))
        y += title_h
        for name, frames in zip(ROWS, videos):
            draw.text((4, y + cell_h // 2 - 6), name, fill=(0, 0, 0))
            for k, i in enumerate(np.linspace(0, len(frames) - 1, N_SHOW).round().astype(int)):
                tile = Image.fromarray(frames[i]).resize((cell_w, cell_h), Image.NEAREST)
                img.paste(tile, (LABEL_W + k * cell_w, y))
            y += cell_h
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--world", default="L1", help="level of the clips shown (L1..L4)")
    ap.add_argument("--clips", type=int, default=2)
    ap.add_argument("--frames", type=int, default=17, help="pixel frames per clip (1 + 4k)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", default="diagnose.png")
    args = ap.parse_args(argv)
    from cinegen.common.errors import CinegenError
    from cinegen.pipeline.pipeline import Pipeline
    from cinegen.world.levels import check_level

    try:
        check_level(args.world)
        pipe = Pipeline.from_pretrained(None if args.model == "default" else args.model)
    except CinegenError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    blocks = []
    for i in range(args.clips):
        z0, caption = clip_latents(pipe, args.world, i, args.frames)
        blocks.append((caption, [decode(pipe, z) for z in rows_for(pipe, z0, caption, args.steps, args.seed + i)]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet(blocks).save(args.out)
    print(f"wrote {args.out}: {args.clips} clips of {args.world}, rows: {', '.join(ROWS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
