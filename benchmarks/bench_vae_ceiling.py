"""What the VAE lets any DiT show: cinegen eval on ground-truth world clips and on their VAE round trips.

    python benchmarks/bench_vae_ceiling.py [--model DIR] [--n 40] [--seconds 4] [--side 64]

A DiT makes latents; the pixels a user sees are the VAE's decode of them. So the eval scores of the VAE's
own reconstructions of ground truth (encode, then decode) bound what the whole model can score on each
dimension, at the default size and length. For N random world scenes (seeds apart from the training
caches), each clip is scored against one of its short captions, as rendered and after the round trip,
side by side. Prints a table; writes benchmarks/results/vae_ceiling.json.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results" / "vae_ceiling.json"
SEED0 = 900_000  # the latent caches use seeds from 50,000,000 on, the VAE's training clips from 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--side", type=int, default=64)
    ap.add_argument("--fps", type=float, default=8.0)
    a = ap.parse_args()

    from cinegen.eval.report import DIMENSIONS, evaluate_video, mean_ci
    from cinegen.pipeline import Pipeline
    from cinegen.pipeline.pipeline import frames_to_tensor, tensor_to_frames
    from cinegen.world import make_captions, render, sample_scene

    vae = Pipeline.from_pretrained(a.model).vae
    n_frames = 1 + 4 * round(a.seconds * a.fps / 4)
    scores: dict[str, dict[str, list[float]]] = {"truth": {d: [] for d in DIMENSIONS}, "vae": {d: [] for d in DIMENSIONS}}
    psnr = []
    for i in range(a.n):
        spec = sample_scene(SEED0 + i, duration=a.seconds)
        clip = render(spec, a.side, a.side, a.fps, n_frames=n_frames)
        prompt = make_captions(spec, np.random.default_rng(SEED0 + i)).short[0]
        with torch.inference_mode():
            rec = tensor_to_frames(vae.decode(vae.encode(frames_to_tensor(clip.frames))))
        mse = np.mean((rec.astype(np.float64) - clip.frames.astype(np.float64)) ** 2)
        psnr.append(10 * np.log10(255.0**2 / max(mse, 1e-9)))
        for name, frames in (("truth", clip.frames), ("vae", rec)):
            for d, s in evaluate_video(frames, a.fps, prompt)["scores"].items():
                if s["value"] is not None:
                    scores[name][d].append(s["value"])
    rows = []
    print(f"{a.n} world clips, {a.seconds:g} s at {a.side}x{a.side}, {a.fps:g} fps; VAE round-trip PSNR "
          f"{np.mean(psnr):.2f} dB")
    print(f"{'dimension':<12} {'truth':>7} {'VAE':>7} {'95% CI of VAE':>17} {'n':>4}")
    for d in DIMENSIONS:
        t, v = scores["truth"][d], scores["vae"][d]
        if not t or not v:
            continue
        m, lo, hi = mean_ci(v)
        rows.append({"dimension": d, "truth": float(np.mean(t)), "vae": m, "vae_ci": [lo, hi], "n": len(v)})
        print(f"{d:<12} {np.mean(t):7.3f} {m:7.3f}    [{lo:.3f}, {hi:.3f}] {len(v):4d}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"model": a.model or "shipped", "n": a.n, "seconds": a.seconds, "side": a.side,
                                   "fps": a.fps, "psnr_db": float(np.mean(psnr)), "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
