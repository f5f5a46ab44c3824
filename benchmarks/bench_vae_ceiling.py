"""What the VAE lets any DiT show: cinegen eval on ground-truth world clips and on their VAE round trips.

    python benchmarks/bench_vae_ceiling.py [--model DIR] [--against DIR] [--n 40] [--seconds 4] [--side 64] [--world L1]

A DiT makes latents; the pixels a user sees are the VAE's decode of them. So the eval scores of the VAE's
own reconstructions of ground truth (encode, then decode) bound what the whole model can score on each
dimension, at the default size and length. For N random world scenes (seeds apart from the training
caches), each clip is scored against one of its short captions, as rendered and after the round trip,
side by side. With --against, a second model's VAE is scored beside on the same clips and the same
encoder's latents (the first model's: what a DiT trained on them makes), so two decoders for one DiT are
compared in one run.

Also per VAE: PSNR by a frame's place in its 4-frame latent group, and the group-boundary step ratio:
the mean frame-to-frame change into the first frame of each group over the mean change inside groups,
pooled over clips (ground truth's own ratio, about 1, is printed beside; a decoder that jumps at group
boundaries reads higher).
With --world L1..L3 the scenes come from that slice of the world (world/levels.py) and each is scored
against its long caption, as the level's dev prompts are written. The shape dimension is also broken
down by the first object's size class (its diameter in pixels), which says where the decoder loses shape.
Prints a table; writes benchmarks/results/vae_ceiling.json (vae_ceiling_L1.json, … for a slice;
_128px for --side 128).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).parent / "results" / "vae_ceiling.json"
SEED0 = 900_000  # the latent caches use seeds from 50,000,000 on, the VAE's training clips from 0


def group_steps(frames: np.ndarray) -> tuple[float, float]:
    """(mean frame step into each group's first frame (frames 5, 9, ...), mean step inside groups)."""
    steps = np.abs(np.diff(frames.astype(np.float64), axis=0)).mean(axis=(1, 2, 3))  # steps[t-1]: into frame t
    into_first = np.arange(4, len(steps), 4)
    inside = np.setdiff1d(np.arange(len(steps)), into_first)
    return float(steps[into_first].mean()), float(steps[inside].mean())


def boundary_ratio(pairs: list[tuple[float, float]]) -> float:
    """Pooled over clips (a still clip's steps are all ~0): mean boundary step / mean step inside groups."""
    b, i = np.array(pairs).mean(axis=0)
    return float(b / max(i, 1e-6))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--against", default=None, help="a second checkpoint folder whose VAE decodes the same latents")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--side", type=int, default=64)
    ap.add_argument("--fps", type=float, default=8.0)
    ap.add_argument("--world", default="L4", help="world slice L1..L4 (L4: the full world)")
    a = ap.parse_args()
    suffix = ("" if a.world == "L4" else f"_{a.world}") + ("" if a.side == 64 else f"_{a.side}px")
    results = RESULTS.with_name(f"vae_ceiling{suffix}.json")

    from cinegen.eval.report import DIMENSIONS, evaluate_video, mean_ci
    from cinegen.pipeline import Pipeline
    from cinegen.pipeline.pipeline import frames_to_tensor, tensor_to_frames
    from cinegen.world import make_captions, render
    from cinegen.world.levels import check_level, sample_level_scene
    from cinegen.world.spec import SIZES

    check_level(a.world)

    vaes = {"vae": Pipeline.from_pretrained(a.model).vae}
    if a.against:
        vaes["against"] = Pipeline.from_pretrained(a.against).vae
    n_frames = 1 + 4 * round(a.seconds * a.fps / 4)
    scores = {name: {d: [] for d in DIMENSIONS} for name in ["truth", *vaes]}
    psnr = {name: [] for name in vaes}
    ratio = {name: [] for name in ["truth", *vaes]}
    shape_by_size = {name: {size: [] for size in SIZES} for name in vaes}
    for i in range(a.n):
        spec = sample_level_scene(SEED0 + i, a.world, duration=a.seconds)
        clip = render(spec, a.side, a.side, a.fps, n_frames=n_frames)
        caps = make_captions(spec, np.random.default_rng(SEED0 + i))
        prompt = caps.short[0] if a.world == "L4" else caps.long[0]
        videos = {"truth": clip.frames}
        with torch.inference_mode():
            z = vaes["vae"].encode(frames_to_tensor(clip.frames))
            for name, vae in vaes.items():
                videos[name] = tensor_to_frames(vae.decode(z))
        for name, frames in videos.items():
            ratio[name].append(group_steps(frames))
            if name != "truth":
                err = ((frames.astype(np.float64) - clip.frames.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
                psnr[name].append(10 * np.log10(255.0**2 / np.maximum(err, 1e-9)))  # (T,) per frame
            for d, s in evaluate_video(frames, a.fps, prompt)["scores"].items():
                if s["value"] is not None:
                    scores[name][d].append(s["value"])
                    if d == "shape" and name != "truth":
                        shape_by_size[name][spec.objects[0].size].append(s["value"])
    names = list(vaes)
    label = {"vae": a.model or "shipped", "against": a.against}
    print(f"{a.n} world clips, {a.seconds:g} s at {a.side}x{a.side}, {a.fps:g} fps; latents of {label['vae']}'s encoder")
    summary = {}
    for name in names:
        p = np.array(psnr[name])  # (N, T)
        by_place = [float(p[:, [t for t in range(1, n_frames) if (t - 1) % 4 == k]].mean()) for k in range(4)]
        summary[name] = {"model": label[name], "psnr_db": float(p.mean()), "psnr_frame0_db": float(p[:, 0].mean()),
                         "psnr_by_place_in_group_db": by_place, "boundary_step_ratio": boundary_ratio(ratio[name])}
        print(f"  {name:<8} {label[name]}: PSNR {p.mean():.2f} dB (frame 0 {p[:, 0].mean():.2f}; by place in group "
              f"{' / '.join(f'{v:.2f}' for v in by_place)}), group-boundary step ratio {boundary_ratio(ratio[name]):.2f} "
              f"(truth {boundary_ratio(ratio['truth']):.2f})")
    print(f"{'dimension':<12} {'truth':>7} " + " ".join(f"{n:>8} {'95% CI':>15}" for n in names) + f" {'n':>4}")
    rows = []
    for d in DIMENSIONS:
        t = scores["truth"][d]
        if not t or not all(scores[n][d] for n in names):
            continue
        row = {"dimension": d, "truth": float(np.mean(t)), "n": len(scores[names[0]][d])}
        cells = []
        for n in names:
            m, lo, hi = mean_ci(scores[n][d])
            row[n], row[f"{n}_ci"] = m, [lo, hi]
            cells.append(f"{m:8.3f} [{lo:.3f}, {hi:.3f}]")
        rows.append(row)
        print(f"{d:<12} {np.mean(t):7.3f} " + " ".join(cells) + f" {row['n']:4d}")
    print("shape by the first object's size: " + "; ".join(
        f"{size} ({SIZES[size] * a.side:.0f} px) " + " ".join(
            f"{n} {np.mean(v):.2f} (n {len(v)})" if (v := shape_by_size[n][size]) else f"{n} - (n 0)" for n in names)
        for size in SIZES))
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"model": label["vae"], "against": a.against, "world": a.world, "n": a.n,
                                   "seconds": a.seconds,
                                   "side": a.side, "fps": a.fps, "psnr_db": summary["vae"]["psnr_db"],
                                   "truth_boundary_step_ratio": boundary_ratio(ratio["truth"]),
                                   "vaes": summary, "rows": rows,
                                   "shape_by_size": shape_by_size}, indent=1) + "\n")


if __name__ == "__main__":
    main()
