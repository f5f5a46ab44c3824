"""Evidence that the evaluator measures what it claims, on the procedural world (tests, benchmark).

- agreement: on ground-truth renders of random scenes, each dimension's pass/fail against the
  scene's own spec (every dimension should pass on the truth);
- corruption: on deliberately wrong videos (corrupt.py), how often the dimension concerned
  fails and how often every other dimension keeps passing;
- lossy: how much the scores of ground truth move after H.264 (CRF 28) at half size.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from cinegen.eval import corrupt
from cinegen.eval.describe import describe
from cinegen.eval.parse import expected_from_spec
from cinegen.eval.score import DimScore, score_description
from cinegen.world.render import Clip, render
from cinegen.world.scene import sample_scene


@dataclass(frozen=True)
class Case:
    """One ground-truth render: scene seed, frame size (square), frame rate, length, shots."""

    seed: int
    side: int = 64
    fps: float = 8.0
    duration: float = 1.0
    n_shots: int = 0
    n_objects: int | None = None

    def clip(self) -> Clip:
        extra = {"n_shots": self.n_shots} if self.n_shots >= 2 else {}
        spec = sample_scene(self.seed, duration=self.duration, n_objects=self.n_objects, **extra)
        return render(spec, self.side, self.side, self.fps)


@dataclass
class Agreement:
    passed: Counter = field(default_factory=Counter)  # dimension -> ground truths it passed
    scored: Counter = field(default_factory=Counter)  # dimension -> ground truths it scored
    failures: list[tuple[Case, str, str]] = field(default_factory=list)  # (case, dimension, detail)

    def rate(self, dim: str) -> float:
        return self.passed[dim] / max(self.scored[dim], 1)

    def rates(self) -> dict[str, float]:
        return {k: self.rate(k) for k in sorted(self.scored)}


def score_clip(clip: Clip, frames: np.ndarray | None = None, fps: float | None = None) -> dict[str, DimScore]:
    """Scores of `frames` (default: the clip's own) against the clip's spec."""
    f = clip.frames if frames is None else frames
    return score_description(describe(f, fps or clip.fps), expected_from_spec(clip.spec))


def agreement(cases: list[Case]) -> Agreement:
    out = Agreement()
    for case in cases:
        for dim, s in score_clip(case.clip()).items():
            if s.passed is None:
                continue
            out.scored[dim] += 1
            out.passed[dim] += bool(s.passed)
            if not s.passed:
                out.failures.append((case, dim, s.detail))
    return out


def corruption_rates(cases: list[Case]) -> dict[str, dict[str, float]]:
    """Per corruption: n (cases where it applies and its dimension passes on the truth), the
    rate at which that dimension fails, and the rate at which no other dimension breaks."""
    stats = {name: Counter() for name in corrupt.CORRUPTIONS}
    for i, case in enumerate(cases):
        clip = case.clip()
        clean = score_clip(clip)
        for name in corrupt.CORRUPTIONS:
            if not corrupt.applies(name, clip.spec, min(clip.frames.shape[1:3])):
                continue
            verdict = corrupt.judge(name, clean, score_clip(clip, corrupt.corrupt(name, clip, seed=i)))
            if verdict is None:
                continue
            caught, broken = verdict
            s = stats[name]
            s["n"] += 1
            s["caught"] += caught
            s["others_pass"] += not broken
    return {name: {"n": s["n"], "dimension": corrupt.CORRUPTIONS[name][0],
                   "fail_rate": s["caught"] / max(s["n"], 1), "others_pass_rate": s["others_pass"] / max(s["n"], 1)}
            for name, s in stats.items()}


def lossy(frames: np.ndarray, fps: float, scale: float = 0.5, crf: int = 28) -> np.ndarray:
    """`frames` downscaled by `scale` (bilinear), through H.264 at `crf` and back."""
    from cinegen.common.video_io import read_video, write_video

    h, w = frames.shape[1:3]
    size = (max(2, int(round(w * scale))), max(2, int(round(h * scale))))
    small = np.stack([np.asarray(Image.fromarray(f).resize(size, Image.BILINEAR)) for f in frames])
    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(Path(tmp) / "v.mp4", small, fps, crf=crf)
        out, _ = read_video(path)
    return out


def lossy_change(cases: list[Case]) -> tuple[float, float]:
    """(mean |Δ value|, share of pass/fail verdicts that flip) over dimensions scored both times."""
    diffs, flips = [], []
    for case in cases:
        clip = case.clip()
        a = score_clip(clip)
        b = score_clip(clip, lossy(clip.frames, clip.fps))
        for k in a:
            if a[k].value is not None and b[k].value is not None:
                diffs.append(abs(a[k].value - b[k].value))
                flips.append(a[k].passed != b[k].passed)
    return float(np.mean(diffs)), float(np.mean(flips))
