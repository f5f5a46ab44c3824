"""Provenance benchmark: watermark detection / bit accuracy per attack, false alarms, PSNR, eval-score
change, cost.

    python benchmarks/bench_provenance.py          # full: 100 generated, 100 world renders, 1000 unmarked
    python benchmarks/bench_provenance.py --generated 10 --marked 10 --unmarked 50   # quick
    python benchmarks/bench_provenance.py --generated 0                             # no model needed
    python benchmarks/bench_provenance.py --cache /tmp/wm_cache                     # reuse generated videos

On a shared CPU run it with OMP_NUM_THREADS=1: BLAS threads fighting over busy cores inflate wall times.

Generated videos: the shipped default model (Pipeline.from_pretrained(None), whichever weights are
there) makes short clips for prompts spread over eval/prompts/dev.txt with the watermark off (what
CINEGEN_WATERMARK=0 gives); each is then marked exactly as Pipeline.marker does, with a known
generation id so the bits can be checked. The unmarked versions join the false-alarm set.
World renders: when cinegen.world.render exists, else soft synthetic scenes; every second one is
blurred (sigma 1.2 px) like the soft output of a small generator. Unmarked: world renders and clips
panned / zoomed over scikit-image photos, each through one of the attacks.
Eval invariance, on the generated videos and the world renders (prompt: the scene's first short
caption): each video is scored by cinegen.eval clean, marked, and with two controls of the mark's
energy in every frame that carry no watermark: a smooth random field (Gaussian-blurred noise, the
same in every frame, like the mark) and independent pixel noise. Per dimension, paired over videos:
the mean change with a 95 % interval, the mean |change|, and how many videos flip pass / fail.
A change the controls show as well is the evaluator's sensitivity to any small perturbation, not
something the watermark does.
Cost: one 10-second video generated through the pipeline with the watermark on (its own timing of
the marking), then written and signed.
Writes benchmarks/results/provenance.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
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
from cinegen.provenance.watermark import (
    WatermarkResult,
    coded_bits,
    detect_with_bits,
    detection_threshold,
    model_hash,
)

PROMPTS = Path(__file__).resolve().parent.parent / "eval" / "prompts" / "dev.txt"

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


def scene_prompt(seed: int, t: int) -> str | None:
    """The first short caption of the scene scene_video(seed, t, ...) renders (None without the world package)."""
    try:
        from cinegen.world import sample_scene  # type: ignore[attr-defined]
        from cinegen.world.captions import make_captions
    except ImportError:
        return None
    return make_captions(sample_scene(seed, duration=(t - 1) / 8), np.random.default_rng(seed)).short[0]


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


def dev_prompts(n: int) -> list[str]:
    """n prompts spread evenly over the dev set (its order groups them by kind)."""
    lines = [line.strip() for line in PROMPTS.read_text().splitlines()]
    prompts = [line for line in lines if line and not line.startswith("#")]
    return [prompts[i * len(prompts) // n] for i in range(n)] if n <= len(prompts) else [prompts[i % len(prompts)] for i in range(n)]


class AttackTable:
    """Per-attack detection, exact payload and raw bit accuracy over marked videos."""

    def __init__(self) -> None:
        self.rows = {k: {"detected": 0, "exact": 0, "bit_acc": [], "score": []} for k in standard_attacks()}
        self.psnr: list[float] = []

    def add(self, video: np.ndarray, payload: bytes, fps: float, seed: int) -> np.ndarray:
        """Mark `video`, run every attack on it, record; returns the marked video."""
        marked = embed_watermark(video, payload)
        self.psnr.append(psnr(marked, video))
        truth = coded_bits(payload)
        for name, attack in standard_attacks(fps=fps, seed=seed).items():
            res, bits = detect_with_bits(attack(marked))
            row = self.rows[name]
            row["detected"] += res.detected
            row["exact"] += res.payload == payload
            row["bit_acc"].append(float((bits == truth).mean()))
            row["score"].append(res.score)
        return marked

    def summary(self) -> dict:
        n = len(self.psnr)
        return {
            "videos": n, "psnr_min_db": float(min(self.psnr)), "psnr_mean_db": float(np.mean(self.psnr)),
            "detect_threshold_score": detection_threshold(),
            "attacks": {k: {"detection_rate": v["detected"] / n, "payload_exact_rate": v["exact"] / n,
                            "bit_accuracy": float(np.mean(v["bit_acc"])), "min_score": float(np.min(v["score"])),
                            "p5_score": float(np.percentile(v["score"], 5))} for k, v in self.rows.items()},
        }


class FalseAlarms:
    """Detections and p-values on unmarked videos; an honest bound has at most a fraction q below q."""

    def __init__(self) -> None:
        self.results: list[WatermarkResult] = []

    def add(self, video: np.ndarray, fps: float, seed: int) -> None:
        attacks = standard_attacks(fps=fps, seed=seed)  # the detector sees re-encoded, resized, cropped files
        self.results.append(detect_watermark(attacks[list(attacks)[seed % len(attacks)]](video)))

    def summary(self) -> dict:
        p = np.asarray([r.p_false_alarm for r in self.results])
        return {"videos": len(p), "false_alarms": int(sum(r.detected for r in self.results)),
                "min_p_false_alarm": float(p.min()) if len(p) else None,
                "p_below_q": {q: float((p < q).mean()) if len(p) else None for q in (0.1, 0.01, 0.001)}}


Scores = dict[str, tuple[float | None, bool | None]]
VARIANTS = ("mark", "control_smooth", "control_noise")


def eval_scores(frames: np.ndarray, fps: float, prompt: str) -> Scores:
    from cinegen.eval.report import evaluate_video

    return {dim: (s["value"], s["passed"]) for dim, s in evaluate_video(frames, fps, prompt)["scores"].items()}


def controls(video: np.ndarray, marked: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Perturbations with the mark's squared change in every frame and no watermark in them.

    control_smooth: one Gaussian-blurred noise field (sigma 1/24 of the frame, about the scale of
    the mark's bumps), the same in every frame as the mark nearly is; control_noise: independent
    noise in every pixel. Both rounded to uint8 like the mark.
    """
    from scipy.ndimage import gaussian_filter

    t, h, w, _ = video.shape
    energy = ((marked.astype(np.float64) - video) ** 2).reshape(t, -1).sum(axis=1)  # (T,)
    rng = np.random.default_rng([seed, 7])
    field = gaussian_filter(rng.standard_normal((h, w, 3)), (h / 24, w / 24, 0))
    smooth = np.broadcast_to(field / np.linalg.norm(field), video.shape)
    noise = rng.standard_normal(video.shape)
    noise /= np.linalg.norm(noise.reshape(t, -1), axis=1)[:, None, None, None]
    scale = np.sqrt(energy)[:, None, None, None]
    return {name: np.clip(np.rint(video + scale * p), 0, 255).astype(np.uint8)
            for name, p in (("control_smooth", smooth), ("control_noise", noise))}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / max(1e-12, ((a.astype(np.float64) - b) ** 2).mean())))


class EvalInvariance:
    """cinegen.eval scores of each video clean, marked and under the two controls, compared in pairs."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Scores]] = []
        self.psnr: dict[str, list[float]] = {k: [] for k in VARIANTS}

    def add(self, video: np.ndarray, marked: np.ndarray, fps: float, prompt: str, seed: int) -> None:
        versions = {"mark": marked, **controls(video, marked, seed)}
        row = {"clean": eval_scores(video, fps, prompt)}
        for name, frames in versions.items():
            row[name] = eval_scores(frames, fps, prompt)
            self.psnr[name].append(psnr(frames, video))
        self.rows.append(row)

    def summary(self) -> dict:
        from scipy.stats import t as student_t

        out: dict = {"videos": len(self.rows), "psnr_mean_db": {k: float(np.mean(v)) for k, v in self.psnr.items()}}
        for name in VARIANTS:
            dims: dict[str, dict] = {}
            for dim in self.rows[0]["clean"] if self.rows else ():
                both = [(r["clean"][dim], r[name][dim]) for r in self.rows
                        if r["clean"][dim][0] is not None and r[name][dim][0] is not None]
                if not both:
                    continue
                d = np.array([b[0] - a[0] for a, b in both])
                half = float(student_t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
                dims[dim] = {"n": len(d), "mean_change": float(d.mean()),
                             "ci95": [float(d.mean() - half), float(d.mean() + half)],
                             "mean_abs_change": float(np.abs(d).mean()),
                             "flips_to_pass": sum(bool(b[1]) and not a[1] for a, b in both),
                             "flips_to_fail": sum(bool(a[1]) and not b[1] for a, b in both)}
            out[name] = dims
            out[f"{name}_flips"] = sum(v["flips_to_pass"] + v["flips_to_fail"] for v in dims.values())
        return out


def load_pipeline():
    from cinegen.pipeline.pipeline import Pipeline

    return Pipeline.from_pretrained(None)  # the shipped default model, whichever weights it has


def generated_videos(pipe, n: int, seconds: float, cache: Path | None = None) -> Iterator[tuple[str, np.ndarray, float]]:
    """(prompt, unmarked frames, fps) for n dev prompts, through the real pipeline with the mark off.

    With `cache`, each unmarked video is kept there (keyed by model, prompt, seed and length) and
    read back on later runs: the watermark can then be tuned without regenerating.
    """
    for i, prompt in enumerate(dev_prompts(n)):
        path = None
        if cache is not None:
            key = hashlib.sha256(f"{pipe.name}|{prompt}|{i}|{seconds}".encode()).hexdigest()[:16]
            path = cache / f"gen_{key}.npz"
            if path.exists():
                with np.load(path) as z:
                    yield prompt, z["frames"], float(z["fps"])
                continue
        res = pipe(prompt, seconds=seconds, seed=i, mark=False)  # mark=False: what CINEGEN_WATERMARK=0 gives
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, frames=res.frames, fps=res.fps)
        yield prompt, res.frames, res.fps


def bench_generated(pipe, n: int, seconds: float, unmarked: FalseAlarms, cache: Path | None = None) -> dict:
    table, inv = AttackTable(), EvalInvariance()
    t0 = time.perf_counter()
    for i, (prompt, frames, fps) in enumerate(generated_videos(pipe, n, seconds, cache)):
        marked = table.add(frames, make_payload(pipe.name, i), fps, seed=i)  # as Pipeline.marker, known id
        inv.add(frames, marked, fps, prompt, seed=i)
        unmarked.add(frames, fps, seed=i)
        if (i + 1) % 10 == 0:
            print(f"  generated {i + 1}/{n} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return {**table.summary(), "seconds": seconds, "model": pipe.name, "eval_invariance": inv.summary()}


def bench_world(n: int, frames: int, size: int) -> dict:
    table, inv = AttackTable(), EvalInvariance()
    for i in range(n):
        video = scene_video(i, frames, size)
        video = soft(video) if i % 2 == 1 else video
        marked = table.add(video, make_payload("bench-model", i), 8.0, seed=i)
        prompt = scene_prompt(i, frames)
        if prompt is not None:
            inv.add(video, marked, 8.0, prompt, seed=i)
    return {**table.summary(), "eval_invariance": inv.summary() if inv.rows else None}


def bench_cost(pipe, size: int, generation_seconds: float) -> dict:
    """Embedding + signing for a 10-second video; against a real generation when a pipeline is given."""
    with tempfile.TemporaryDirectory() as tmp:
        if pipe is not None:  # the real path: the pipeline marks each decoded chunk and times it
            pipe.stats.clear()
            t0 = time.perf_counter()
            res = pipe("A red ball bounces on a checkered floor.", seconds=10.0, seed=0)
            generation_seconds = time.perf_counter() - t0
            embed, marked = pipe.stats.get("watermark", 0.0), res.frames
            found = detect_watermark(marked)
            pipeline_check = {"detected": found.detected, "model_hash_ok": found.payload is not None
                              and found.payload[:2].hex() == model_hash(pipe.name)}
        else:
            video = scene_video(0, 81, size)
            t0 = time.perf_counter()
            marked = embed_watermark(video, make_payload("bench-model", 0))
            embed, pipeline_check = time.perf_counter() - t0, None
        path = write_video(Path(tmp) / "v.mp4", marked, fps=8)
        t2 = time.perf_counter()
        sign_file(path, model_id="bench-model", prompt="bench")
        sign = time.perf_counter() - t2
    return {"embed_s_10s_video": embed, "sign_s": sign, "generation_s_10s_video": generation_seconds,
            "generation_measured": pipe is not None, "cost_fraction_of_generation": (embed + sign) / generation_seconds,
            "pipeline_marked_video": pipeline_check}


def print_table(title: str, summary: dict) -> None:
    print(f"\n{title}: {summary['videos']} videos, PSNR min {summary['psnr_min_db']:.2f} dB, "
          f"mean {summary['psnr_mean_db']:.2f} dB; sync score (t) detects above {summary['detect_threshold_score']:.2f}")
    print(f"{'attack':18s} {'detect':>7s} {'exact':>7s} {'bit acc':>8s} {'min t':>6s} {'p5 t':>6s}")
    for k, v in summary["attacks"].items():
        print(f"{k:18s} {v['detection_rate']:7.3f} {v['payload_exact_rate']:7.3f} {v['bit_accuracy']:8.3f} "
              f"{v['min_score']:6.2f} {v['p5_score']:6.2f}")


def print_invariance(title: str, inv: dict | None) -> None:
    """Per dimension and version: mean change [95 % interval] and videos flipped (to pass / to fail)."""
    if not inv:
        return
    print(f"\neval invariance, {title}: {inv['videos']} videos, paired change vs clean; PSNR "
          + ", ".join(f"{k} {v:.2f} dB" for k, v in inv["psnr_mean_db"].items()))
    print(f"{'dimension':12s} {'n':>3s}  " + "  ".join(f"{k:>29s}" for k in VARIANTS))
    for dim, v in inv["mark"].items():
        cells = []
        for k in VARIANTS:
            c = inv[k].get(dim)
            cells.append(f"{c['mean_change']:+.3f} [{c['ci95'][0]:+.3f},{c['ci95'][1]:+.3f}] "
                         f"{c['flips_to_pass']:2d}/{c['flips_to_fail']:<2d}" if c else "")
        print(f"{dim:12s} {v['n']:3d}  " + "  ".join(f"{c:>29s}" for c in cells))
    print(f"{'flips, all':12s} {'':3s}  " + "  ".join(f"{inv[k + '_flips']:>29d}" for k in VARIANTS))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--generated", type=int, default=100, help="videos from the default model (0: skip)")
    ap.add_argument("--gen-seconds", type=float, default=3.0, help="length of each generated video")
    ap.add_argument("--marked", type=int, default=100, help="marked world renders")
    ap.add_argument("--unmarked", type=int, default=1000, help="unmarked world renders and photo clips")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--generation-seconds", type=float, default=10.0,
                    help="generation time of a 10-second video, used only with --generated 0")
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the unmarked generated videos in this folder and reuse them on later runs")
    args = ap.parse_args()
    t_start = time.perf_counter()
    unmarked = FalseAlarms()
    pipe = load_pipeline() if args.generated > 0 else None
    result: dict = {"frames": args.frames, "size": args.size}
    if pipe is not None:
        result["generated"] = bench_generated(pipe, args.generated, args.gen_seconds, unmarked, args.cache)
    result["world"] = bench_world(args.marked, args.frames, args.size)
    generated_unmarked = unmarked.summary() if pipe is not None else None
    for i in range(args.unmarked):
        video = (scene_video if i % 2 == 0 else photo_video)(10_000 + i, args.frames, args.size)
        unmarked.add(video, 8.0, seed=i)
    result["unmarked"] = {**unmarked.summary(), "of_which_generated": generated_unmarked}
    result["cost"] = bench_cost(pipe, args.size, args.generation_seconds)
    result["wall_s"] = time.perf_counter() - t_start

    if "generated" in result:
        print_table(f"generated by {result['generated']['model']} ({args.gen_seconds:g} s each)", result["generated"])
    print_table("world renders", result["world"])
    if "generated" in result:
        print_invariance("generated", result["generated"]["eval_invariance"])
    print_invariance("world renders", result["world"]["eval_invariance"])
    u = result["unmarked"]
    print(f"\nunmarked: false alarms {u['false_alarms']}/{u['videos']} (min p {u['min_p_false_alarm']:.2g}); "
          f"fraction of p below 0.1 / 0.01 / 0.001 = {u['p_below_q'][0.1]:.3f} / {u['p_below_q'][0.01]:.3f} / "
          f"{u['p_below_q'][0.001]:.4f}")
    c = result["cost"]
    print(f"cost: embed {c['embed_s_10s_video']:.3f} s + sign {c['sign_s']:.3f} s = "
          f"{100 * c['cost_fraction_of_generation']:.2f}% of {c['generation_s_10s_video']:.1f} s generation "
          f"({'measured' if c['generation_measured'] else 'assumed'}); pipeline check {c['pipeline_marked_video']}")
    print(f"wall {result['wall_s']:.0f} s")
    out = Path(__file__).parent / "results" / "provenance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
