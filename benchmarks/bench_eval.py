"""Eval benchmark: agreement with ground truth, failure rates on corrupted videos, lossy round
trip, and scoring speed of a 10-second 128×128 video. `python benchmarks/bench_eval.py [N]`.

N ground-truth renders (default 500) of random scenes: 64, 96, 128 and 256 pixels, 8/12/16 fps,
1 or 2 seconds, one in ten with two shots. Corruptions on N/4 one- and two-object scenes.
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
from cinegen.eval.validate import Case, agreement, corruption_rates, lossy_change
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    t0 = time.perf_counter()
    agree = agreement(cases(n, seed=1))
    corr = corruption_rates([Case(50_000 + i, 64, 8.0, 1.5, n_objects=1 + i % 2) for i in range(max(n // 4, 20))])
    change, flips = lossy_change([Case(90_000 + i, 128, 8.0, 2.0) for i in range(max(n // 25, 8))])
    res = {
        "n_renders": n,
        "agreement": {k: {"rate": agree.rate(k), "n": agree.scored[k]} for k in sorted(agree.scored)},
        # Attributes the render cannot show (validate.observable, from spec and truth), not scored.
        "excluded_unobservable": dict(sorted(agree.excluded.items())),
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
    print(f"{'corruption':16s} {'dimension':22s} fail   others-pass  n")
    for k, v in corr.items():
        print(f"{k:16s} {v['dimension']:22s} {v['fail_rate']:.3f}  {v['others_pass_rate']:.3f}  {v['n']}")
    print(f"lossy round trip (H.264 CRF 28, 0.5x): mean |Δscore| {change:.4f}, verdict flips {flips:.3f}")
    print(f"scoring a 10 s 128x128 video: {res['score_10s_128px_seconds']:.2f} s")
    out = Path(__file__).parent / "results" / "eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
