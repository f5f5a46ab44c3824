"""Eval benchmark: agreement with ground truth, failure rates on corrupted videos, lossy round
trip, and scoring speed of a 10-second 128×128 video. `python benchmarks/bench_eval.py [N]`.

N ground-truth renders (default 500) of random scenes: 64, 96, 128 and 256 pixels, 8/12/16 fps,
1 or 2 seconds, one in ten with two shots. Corruptions on N/4 one- and two-object scenes.
Permanence needs an object that hides and comes back, which random scenes seldom show (about
one in 40), so N/5 occlusion scenes (validate.occlusion_clip: a mover passing behind a large
static occluder, 64-128 pixels, 8/12/16 fps) are scored too and reported apart ("occlusion").

`python benchmarks/bench_eval.py --stability [DIR]`: how far scores move under changes that do not
change what a video shows, on generated videos (the shipped model's, 3 s at 64×64, cached in DIR,
default /tmp/es/vids, made there on first use): an invisible watermark (PSNR >= 40 dB) and uniform
±2-level noise; plus the lossy round trip on ground truth. Written to results/eval.json under
"stability" (the other keys are kept).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from cinegen.eval.describe import describe
from cinegen.eval.parse import expected_from_spec
from cinegen.eval.score import score_description
from cinegen.eval.parse import parse
from cinegen.eval.validate import (Case, add_noise, agreement, corruption_rates, lossy_change, occlusion_clip,
                                   score_change)
from cinegen.world.render import render
from cinegen.world.scene import sample_scene


def cases(n: int, seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        side = int(rng.choice([64, 96, 128, 256], p=[0.4, 0.25, 0.2, 0.15]))
        fps = float(rng.choice([8.0, 12.0, 16.0])) if side < 256 else 8.0
        duration = float(rng.choice([1.0, 2.0])) if side < 256 else 1.0
        out.append(Case(seed * 100_000 + i, side, fps, duration, 2 if i % 10 == 9 else 0))
    return out


def speed() -> float:
    """Best of three: describe + score of a 10 s, 128×128, 8 fps render (81 frames)."""
    spec = sample_scene(7, duration=10.0, background="checker", n_objects=2)
    clip = render(spec, 128, 128, 8.0)
    e = expected_from_spec(spec)
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        score_description(describe(clip.frames, clip.fps), e)
        best = min(best, time.perf_counter() - t)
    return best


N_GENERATED = 48


def generated_videos(folder: Path) -> list[dict]:
    """Cached generated videos: clean and watermarked frames, fps, prompt (made on first use)."""
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        from cinegen.eval.prompts import load_prompts
        from cinegen.pipeline import Pipeline
        from cinegen.provenance import WatermarkConfig, embed_watermark, make_payload

        folder.mkdir(parents=True, exist_ok=True)
        items = load_prompts(Path(__file__).parents[1] / "eval" / "prompts" / "dev.txt")
        pipe = Pipeline.from_pretrained(None)
        meta = []
        for k, i in enumerate(np.linspace(0, len(items) - 1, N_GENERATED).round().astype(int)):
            res = pipe(items[i].prompt, seconds=3, seed=k, mark=False)
            fr = np.asarray(res.frames)
            np.save(folder / f"{k:03d}_clean.npy", fr)
            np.save(folder / f"{k:03d}_wm.npy", embed_watermark(fr, make_payload(pipe.name, 1234), WatermarkConfig()))
            meta.append({"k": k, "prompt": items[i].prompt, "shots": items[i].shots, "fps": float(res.fps)})
        meta_path.write_text(json.dumps({"model": pipe.name, "videos": meta}, indent=1))
    meta = json.loads(meta_path.read_text())["videos"]
    return [dict(m, clean=np.load(folder / f"{m['k']:03d}_clean.npy"), wm=np.load(folder / f"{m['k']:03d}_wm.npy"))
            for m in meta]


def stability(folder: Path, n_lossy: int = 20) -> dict:
    vids = generated_videos(folder)
    pairs: dict[str, list] = {"watermark": [], "noise2": []}
    for v in vids:
        e = parse(v["prompt"], v["shots"])
        clean = score_description(describe(v["clean"], v["fps"]), e)
        pairs["watermark"].append((clean, score_description(describe(v["wm"], v["fps"]), e)))
        noisy = add_noise(v["clean"], seed=v["k"])
        pairs["noise2"].append((clean, score_description(describe(noisy, v["fps"]), e)))
    res = {k: score_change(p) for k, p in pairs.items()}
    change, flips = lossy_change([Case(90_000 + i, 128, 8.0, 2.0) for i in range(n_lossy)])
    res["lossy_ground_truth"] = {"mean_abs_change": change, "verdict_flips": flips, "n_renders": n_lossy}
    res["videos"] = f"{len(vids)} generated 3 s 64x64 videos of eval/prompts/dev.txt"
    return res


def main_stability(folder: Path) -> None:
    t0 = time.perf_counter()
    res = stability(folder)
    for name in ("watermark", "noise2"):
        r = res[name]
        print(f"{name}: mean |Δ| {r['mean_abs_change']:.4f}  verdict flips {r['verdict_flips']:.3f}  "
              f"scored/unscored flips {r['scored_unscored_flips']}  ({r['n_values']} values)")
        for k, v in r["per_dimension"].items():
            print(f"   {k:12s} {v:.4f}  max {r['max_abs_change'][k]:.3f}")
    lg = res["lossy_ground_truth"]
    print(f"lossy on ground truth: mean |Δ| {lg['mean_abs_change']:.4f}, verdict flips {lg['verdict_flips']:.3f}")
    res["wall_seconds"] = time.perf_counter() - t0
    out = Path(__file__).parent / "results" / "eval.json"
    data = json.loads(out.read_text()) if out.is_file() else {}
    data["stability"] = res
    out.write_text(json.dumps(data, indent=1))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--stability":
        main_stability(Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/es/vids"))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    t0 = time.perf_counter()
    agree = agreement(cases(n, seed=1))
    occl = agreement([occlusion_clip(70_000 + i, (64, 96, 128)[i % 3], (8.0, 12.0, 16.0)[(i // 3) % 3])
                      for i in range(max(n // 5, 20))])
    corr = corruption_rates([Case(50_000 + i, 64, 8.0, 1.5, n_objects=1 + i % 2) for i in range(max(n // 4, 20))])
    change, flips = lossy_change([Case(90_000 + i, 128, 8.0, 2.0) for i in range(max(n // 25, 8))])
    res = {
        "n_renders": n,
        "agreement": {k: {"rate": agree.rate(k), "n": agree.scored[k]} for k in sorted(agree.scored)},
        # Attributes the render cannot show (validate.observable, from spec and truth), not scored.
        "excluded_unobservable": dict(sorted(agree.excluded.items())),
        "occlusion": {k: {"rate": occl.rate(k), "n": occl.scored[k]} for k in sorted(occl.scored)},
        "corruptions": corr,
        "lossy_mean_abs_change": change,
        "lossy_verdict_flips": flips,
        "score_10s_128px_seconds": speed(),
        "cpu": "shared 2-core CPU (other jobs running)",
        "wall_seconds": time.perf_counter() - t0,
    }
    print(f"{'dimension':14s} agreement   n")
    for k, v in res["agreement"].items():
        print(f"{k:14s} {v['rate']:.3f}  {v['n']:5d}")
    for k, v in res["excluded_unobservable"].items():
        print(f"excluded  {k}: {v}")
    print("occlusion scenes: " + ", ".join(f"{k} {v['rate']:.3f} (n {v['n']})" for k, v in res["occlusion"].items()))
    print(f"{'corruption':16s} {'dimension':22s} fail   others-pass  n    skipped (subject's motion unobservable)")
    for k, v in corr.items():
        print(f"{k:16s} {v['dimension']:22s} {v['fail_rate']:.3f}  {v['others_pass_rate']:.3f}  {v['n']:4d} "
              f"{v['skipped_unobservable']}")
    print(f"lossy round trip (H.264 CRF 28, 0.5x): mean |Δscore| {change:.4f}, verdict flips {flips:.3f}")
    print(f"scoring a 10 s 128x128 video: {res['score_10s_128px_seconds']:.2f} s")
    out = Path(__file__).parent / "results" / "eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.is_file() and "stability" in (old := json.loads(out.read_text())):
        res["stability"] = old["stability"]  # written by --stability
    out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
