"""`cinegen world render`: write sample clips of the world as MP4 + caption .txt + spec/truth .json."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cinegen.common.atomic import write_text_atomic
from cinegen.common.errors import InputError
from cinegen.common.video_io import write_video
from cinegen.world.captions import make_captions
from cinegen.world.render import Clip, render
from cinegen.world.levels import check_level, sample_level_scene


def clip_record(clip: Clip) -> dict:
    """The spec and per-frame ground truth of a clip, as plain JSON-able data."""
    return {
        "spec": clip.spec.to_dict(),
        "fps": clip.fps,
        "size": [int(clip.frames.shape[2]), int(clip.frames.shape[1])],
        "camera": clip.camera.tolist(),
        "shot": clip.shot.tolist(),
        "truth": [
            {k: np.round(getattr(t, k), 4).tolist() for k in ("centre", "box", "visible", "angle", "scale")}
            for t in clip.truth
        ],
    }


def render_samples(n: int, out: Path, width: int = 64, height: int = 64, fps: float = 8.0, seconds: float = 2.0, seed: int = 0,
                   level: str = "L4") -> list[Path]:
    """Write `n` sample clips to `out` as world_NNNNN.mp4 with .txt captions and .json spec + truth."""
    if n < 1:
        raise InputError(f"--n must be at least 1, got {n}")
    check_level(level)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        spec = sample_level_scene(seed + k, level, duration=seconds)
        clip = render(spec, width, height, fps)
        caps = make_captions(spec, np.random.default_rng(seed + k))
        stem = out / f"world_{seed + k:05d}"
        paths.append(write_video(stem.with_suffix(".mp4"), clip.frames, fps))
        write_text_atomic(stem.with_suffix(".txt"), "\n".join(caps.short + caps.long) + "\n")
        write_text_atomic(stem.with_suffix(".json"), json.dumps(clip_record(clip)))
    return paths
