"""Procedural world speed: rendered frames per second at 64, 128 and 256 pixels, one core.

Each row renders the same 2-second, 8 fps scenes (17 frames each). "fresh" includes the physics
simulation of each new scene; "cached" renders scenes whose simulation is already cached (as when
a scene is re-rendered at another size). Targets: >= 1,000 frames/s at 64x64, >= 150 at 128x128.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from cinegen.world import make_captions, render, sample_scene  # noqa: E402
from cinegen.world.physics import _simulate  # noqa: E402

SIZES = (64, 128, 256)
N_SCENES = {64: 200, 128: 100, 256: 30}
TARGET = {64: 1000.0, 128: 150.0, 256: None}


def _fps(specs: list, side: int) -> float:
    start = time.perf_counter()
    frames = sum(len(render(s, side, side, 8.0).frames) for s in specs)
    return frames / (time.perf_counter() - start)


def main() -> None:
    rows = []
    for side in SIZES:
        specs = [sample_scene(10_000 + k) for k in range(N_SCENES[side])]
        _simulate.cache_clear()
        fresh = _fps(specs, side)
        cached = _fps(specs, side)
        rows.append({"size": f"{side}x{side}", "fresh_fps": round(fresh, 1), "cached_fps": round(cached, 1),
                     "target_fps": TARGET[side], "fresh_vs_target": round(fresh / TARGET[side], 2) if TARGET[side] else None})
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    for k in range(300):
        make_captions(sample_scene(k), rng)
    captions_per_s = 300 / (time.perf_counter() - start)
    print(f"{'size':>9} {'fresh f/s':>10} {'cached f/s':>11} {'target':>7} {'fresh/target':>13}")
    for r in rows:
        print(f"{r['size']:>9} {r['fresh_fps']:>10.0f} {r['cached_fps']:>11.0f} {str(r['target_fps'] or '-'):>7} {str(r['fresh_vs_target'] or '-'):>13}")
    print(f"scenes sampled + captioned per second: {captions_per_s:.0f}")
    out = Path(__file__).parent / "results" / "world.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"render": rows, "captions_per_s": round(captions_per_s, 1), "frames_per_clip": 17}, indent=2))


if __name__ == "__main__":
    main()
