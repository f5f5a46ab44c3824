"""Provenance benchmark: watermark detection / bit accuracy per attack, false alarms, PSNR, cost.

    python benchmarks/bench_provenance.py                       # full: 100 marked, 1000 unmarked
    python benchmarks/bench_provenance.py --marked 10 --unmarked 50   # quick

On a shared CPU run it with OMP_NUM_THREADS=1: BLAS threads fighting over busy cores inflate wall times.

Marked videos: world renders when cinegen.world.render exists, else soft synthetic scenes; every
second one is blurred (sigma 1.2 px) like the soft output of a small generator, whose smooth
gradients are where H.264 erases a mark most. Unmarked: world renders and clips panned / zoomed
over scikit-image photos.
Writes benchmarks/results/provenance.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from cinegen.common.video_io import write_video
from cinegen.provenance import (
    detect_watermark,
    embed_watermark,
    make_payload,
    sign_file,
)
from cinegen.provenance.attacks import standard_attacks
from cinegen.provenance.watermark import coded_bits, detect_with_bits

PHOTOS = ("astronaut", "camera", "cat", "chelsea", "coffee", "rocket", "immunohistochemistry", "moon", "page",
          "brick", "grass", "gravel", "horse", "clock", "coins", "text", "retina", "hubble_deep_field", "colorwheel")


def scene_video(seed: int, t: int, size: int) -> np.ndarray:
    try:  # the world package, when it exists, gives the real training / eval content
        from cinegen.world import render, sample_scene  # type: ignore[attr-defined]

        clip = render(sample_scene(seed, duration=(t - 1) / 8), size, size, fps=8, n_frames=t)
        return np.asarray(getattr(clip, "frames", clip), dtype=np.uint8)[:t]
    except ImportError:
        pass
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    bg = rng.uniform(30, 220, 3) * (1 - yy[..., None]) + rng.uniform(30, 220, 3) * yy[..., None]
    colour, p, v = rng.uniform(0, 255, 3), rng.uniform(0.3, 0.7, 2), rng.uniform(-0.02, 0.02, 2)
    frames = []
    for i in range(t):
        blob = np.exp(-((xx - p[0] - v[0] * i) ** 2 + (yy - p[1] - v[1] * i) ** 2) / 0.0128)[..., None]
        frames.append(bg * (1 - blob) + colour * blob)
    return np.clip(np.rint(np.stack(frames)), 0, 255).astype(np.uint8)


def soft(video: np.ndarray, sigma: float = 1.2) -> np.ndarray:
    """The frames blurred in space: what a small VAE's decoder makes of a crisp render."""
    from scipy.ndimage import gaussian_filter

    return np.clip(np.rint(gaussian_filter(video.astype(np.float64), (0, sigma, sigma, 0))), 0, 255).astype(np.uint8)


def photo_video(seed: int, t: int, size: int) -> np.ndarray:
    import skimage.data as skd

    rng = np.random.default_rng(seed)
    im = getattr(skd, PHOTOS[seed % len(PHOTOS)])()
    im = np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3]
    if im.dtype != np.uint8:
        im = im.astype(np.float64)
        im = (255 * (im - im.min()) / (np.ptp(im) + 1e-9)).astype(np.uint8)
    pil = Image.fromarray(im)
    w, h = pil.size
    s0 = rng.uniform(0.3, 0.8) * min(w, h)
    s1 = s0 * rng.uniform(0.85, 1.15)
    lo, hi = np.array([max(s0, s1) / 2] * 2), np.array([w, h]) - max(s0, s1) / 2
    c0, c1 = rng.uniform(lo, hi), rng.uniform(lo, hi)
    frames = []
    for i in range(t):
        a = i / max(1, t - 1)
        s, c = s0 + (s1 - s0) * a, c0 + (c1 - c0) * (0.3 * a)
        frames.append(np.asarray(pil.resize((size, size), Image.BILINEAR, box=(c[0] - s / 2, c[1] - s / 2, c[0] + s / 2, c[1] + s / 2))))
    return np.stack(frames)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--marked", type=int, default=100)
    ap.add_argument("--unmarked", type=int, default=1000)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--generation-seconds", type=float, default=10.0, help="generation time of a 10-second video")
    args = ap.parse_args()
    attacks = standard_attacks()  # for the names; each video gets its own seeded trim / noise below
    rows = {k: {"detected": 0, "exact": 0, "bit_acc": []} for k in attacks}
    psnr = []
    for i in range(args.marked):
        video = scene_video(i, args.frames, args.size)
        if i % 2 == 1:
            video = soft(video)
        payload = make_payload("bench-model", i)
        marked = embed_watermark(video, payload)
        psnr.append(10 * np.log10(255**2 / max(1e-12, ((marked.astype(np.float64) - video) ** 2).mean())))
        truth = coded_bits(payload)
        for name, attack in standard_attacks(seed=i).items():
            res, bits = detect_with_bits(attack(marked))
            rows[name]["detected"] += res.detected
            rows[name]["exact"] += res.payload == payload
            rows[name]["bit_acc"].append(float((bits == truth).mean()))
    # Unmarked: half world renders, half photo clips, each passed through one of the attacks (the
    # detector sees re-encoded, resized, cropped files in practice). p-values are checked too: an
    # honest bound has at most a fraction q of them below q.
    false_alarms, pvals = 0, []
    names = list(attacks)
    for i in range(args.unmarked):
        video = (scene_video if i % 2 == 0 else photo_video)(10_000 + i, args.frames, args.size)
        res = detect_watermark(standard_attacks(seed=i)[names[i % len(names)]](video))
        false_alarms += res.detected
        pvals.append(res.p_false_alarm)
    pvals_arr = np.asarray(pvals)
    pmin = float(pvals_arr.min())
    calibration = {q: float((pvals_arr < q).mean()) for q in (0.1, 0.01, 0.001)}
    # Cost: a 10-second video at 8 fps.
    video = scene_video(0, 81, args.size)
    with tempfile.TemporaryDirectory() as tmp:
        c0, t0 = time.process_time(), time.perf_counter()
        marked = embed_watermark(video, make_payload("bench-model", 0))
        t1, c1 = time.perf_counter(), time.process_time()
        path = write_video(Path(tmp) / "v.mp4", marked, fps=8)
        t2 = time.perf_counter()
        sign_file(path, model_id="bench-model", prompt="bench")
        t3 = time.perf_counter()
    cost = (t1 - t0) + (t3 - t2)
    result = {
        "marked": args.marked, "unmarked": args.unmarked, "frames": args.frames, "size": args.size,
        "psnr_min_db": float(min(psnr)), "psnr_mean_db": float(np.mean(psnr)),
        "attacks": {k: {"detection_rate": v["detected"] / args.marked, "payload_exact_rate": v["exact"] / args.marked,
                        "bit_accuracy": float(np.mean(v["bit_acc"]))} for k, v in rows.items()},
        "false_alarm_rate": false_alarms / args.unmarked, "min_p_false_alarm_unmarked": pmin,
        "p_below_q_unmarked": calibration,
        "embed_s_10s_video": t1 - t0, "embed_cpu_s_10s_video": c1 - c0, "sign_s": t3 - t2,
        "cost_fraction_of_generation": cost / args.generation_seconds,
    }
    print(f"{'attack':18s} {'detect':>7s} {'exact':>7s} {'bit acc':>8s}")
    for k, v in result["attacks"].items():
        print(f"{k:18s} {v['detection_rate']:7.3f} {v['payload_exact_rate']:7.3f} {v['bit_accuracy']:8.3f}")
    print(f"unmarked p-values: fraction below 0.1 / 0.01 / 0.001 = "
          f"{calibration[0.1]:.3f} / {calibration[0.01]:.3f} / {calibration[0.001]:.4f}")
    print(f"false alarms {false_alarms}/{args.unmarked} (min p {pmin:.2g}); PSNR min {min(psnr):.2f} dB; "
          f"embed {t1 - t0:.2f} s (CPU {c1 - c0:.2f} s) + sign {t3 - t2:.3f} s = {100 * result['cost_fraction_of_generation']:.1f}% of "
          f"{args.generation_seconds:.0f} s generation")
    out = Path(__file__).parent / "results" / "provenance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
