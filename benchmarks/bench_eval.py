"""Eval benchmark: agreement with ground truth, failure rates on corrupted videos, lossy round trip,
and scoring speed of a 10-second 128×128 video. `python benchmarks/bench_eval.py [N]`."""
from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from cinegen.eval import corrupt
from cinegen.eval.describe import describe
from cinegen.eval.parse import expected_from_spec
from cinegen.eval.score import score_description
from cinegen.world.render import render
from cinegen.world.scene import sample_scene
from cinegen.world.spec import BackgroundSpec, COLOURS

SIZES = (64, 96, 128, 256)
FPS = (8.0, 12.0, 16.0)


def agreement(n: int, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    ok, tot = Counter(), Counter()
    for i in range(n):
        spec = sample_scene(seed * 100_000 + i, duration=2.0)
        side = int(rng.choice(SIZES))
        fps = float(rng.choice(FPS)) if side < 256 else 8.0
        clip = render(spec, side, side, fps)
        for k, v in score_description(describe(clip.frames, clip.fps), expected_from_spec(spec)).items():
            if v.passed is not None:
                tot[k] += 1
                ok[k] += bool(v.passed)
    return {k: ok[k] / tot[k] for k in sorted(tot)}


def _bg(spec):
    """The same scene without objects: the background frames under the same camera."""
    import dataclasses

    empty = dataclasses.replace(spec, objects=spec.objects[:1])
    return empty


def corruptions(n: int, seed: int = 1) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    stats: dict[str, Counter] = {k: Counter() for k in corrupt.CORRUPTIONS}
    for i in range(n):
        spec = sample_scene(seed * 100_000 + i, duration=2.0, n_objects=1)
        clip = render(spec, 64, 64, 8.0)
        f, o = clip.frames, spec.objects[0]
        e = expected_from_spec(spec)
        other = next(c for c in COLOURS if c != o.colour)
        bgspec = spec.__class__(spec.background, (o.__class__(o.shape, o.colour, o.size, start=(5.0, 5.0)),), spec.camera, spec.duration)
        bg = render(bgspec, 64, 64, 8.0).frames
        cases = {
            "recolour": (corrupt.recolour(f, o.colour, other), True),
            "reverse": (corrupt.reverse(f), o.motion in ("move", "fall", "orbit", "grow", "shrink")),
            "shuffle": (corrupt.shuffle(f, i), o.motion in ("move", "fall", "bounce", "orbit")),
            "delete": (corrupt.delete(f, o.colour, bg, len(f) // 2), True),
            "freeze": (corrupt.freeze(f), o.motion != "static"),
            "flip_gravity": (corrupt.flip_gravity(f), o.motion in ("fall", "bounce")),
            "teleport": (corrupt.teleport(f, o.colour, bg, len(f) // 2, (20, 12)), True),
        }
        for name, (frames, applies) in cases.items():
            if not applies:
                continue
            sc = score_description(describe(frames, 8.0), e)
            dim = corrupt.CORRUPTIONS[name]
            s = stats[name]
            s["n"] += 1
            s["fails"] += sc[dim].passed is False
    for name, s in stats.items():
        out[name] = {"n": s["n"], "dimension": corrupt.CORRUPTIONS[name], "fail_rate": s["fails"] / max(s["n"], 1)}
    return out


def lossy(n: int, seed: int = 2) -> float:
    """Largest mean absolute score change after H.264 CRF 28 + 0.5× downscale."""
    from cinegen.common.video_io import read_video, write_video
    from PIL import Image

    diffs = []
    for i in range(n):
        spec = sample_scene(seed * 100_000 + i, duration=2.0)
        clip = render(spec, 128, 128, 8.0)
        e = expected_from_spec(spec)
        a = score_description(describe(clip.frames, 8.0), e)
        small = np.stack([np.asarray(Image.fromarray(fr).resize((64, 64), Image.BILINEAR)) for fr in clip.frames])
        with tempfile.TemporaryDirectory() as d:
            p = write_video(Path(d) / "v.mp4", small, 8.0, crf=28)
            frames, fps = read_video(p)
        b = score_description(describe(frames, fps), e)
        for k in a:
            if a[k].value is not None and b[k].value is not None:
                diffs.append(abs(a[k].value - b[k].value))
    return float(np.mean(diffs))


def speed() -> float:
    spec = sample_scene(7, duration=10.0)
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
    res = {"agreement": agreement(n), "corruptions": corruptions(max(n // 5, 20)),
           "lossy_mean_abs_change": lossy(max(n // 25, 8)), "score_10s_128px_seconds": speed()}
    print("dimension       agreement")
    for k, v in res["agreement"].items():
        print(f"{k:15s} {v:.3f}")
    print("corruption      dimension     fail rate   n")
    for k, v in res["corruptions"].items():
        print(f"{k:15s} {v['dimension']:13s} {v['fail_rate']:.3f}  {v['n']}")
    print(f"lossy round trip mean |Δscore| {res['lossy_mean_abs_change']:.4f}")
    print(f"scoring a 10 s 128x128 video: {res['score_10s_128px_seconds']:.2f} s")
    out = Path(__file__).parent / "results" / "eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
