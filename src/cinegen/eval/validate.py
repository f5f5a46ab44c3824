"""Evidence that the evaluator measures what it claims, on the procedural world (tests, benchmark).

- agreement: on ground-truth renders of random scenes, each dimension's pass/fail against the
  scene's own spec (every dimension should pass on the truth);
- corruption: on deliberately wrong videos (corrupt.py), how often the dimension concerned
  fails and how often every other dimension keeps passing;
- lossy: how much the scores of ground truth move after H.264 (CRF 28) at half size.

The expectation is the spec's, less what the rendered clip cannot show (`observable`): computed
from the spec and the render's ground truth, never from what describe() saw, and counted.
"""
from __future__ import annotations

import dataclasses
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from cinegen.eval import corrupt
from cinegen.eval.describe import describe
from cinegen.eval.motion import MIN_REBOUND, MIN_TRAVEL, judged_shot
from cinegen.eval.parse import Expected, expected_from_spec
from cinegen.eval.score import DimScore, score_description
from cinegen.world.physics import DT, object_states
from cinegen.world.render import Clip, render
from cinegen.world.scene import sample_scene
from cinegen.world.spec import COLOURS, DIRECTIONS, ObjectSpec, SceneSpec

MIN_ARC = 1.0  # radians: an orbit seen over a shorter arc is a gently curved line
# A heading more than half a sector (22.5°) off the stated direction (a collision) ends a straight
# move: from then on the object travels in another of the eight named directions.
TURN_COS = float(np.cos(np.pi / 8))


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
    excluded: Counter = field(default_factory=Counter)  # "dimension: reason" -> objects left unscored
    failures: list[tuple[Case | Clip, str, str]] = field(default_factory=list)  # (case or clip, dimension, detail)

    def rate(self, dim: str) -> float:
        return self.passed[dim] / max(self.scored[dim], 1)

    def rates(self) -> dict[str, float]:
        return {k: self.rate(k) for k in sorted(self.scored)}


def occlusion_clip(seed: int, side: int = 64, fps: float = 8.0) -> Clip:
    """A scene made to test object permanence: a mover passing behind a large static occluder.

    Random scenes seldom hide an object and bring it back (15 gaps in 500), too few for a rate.
    Here the mover (small or medium, circle or square) starts near one side at the occluder's
    height and travels straight across at a speed that clears the frame in the clip; the occluder
    (large, circle, square or hexagon, drawn on top) stands near the middle. Static objects do not
    collide in the world, so the mover passes behind it and comes back on the far side."""
    rng = np.random.default_rng(seed)
    bg = sample_scene(seed, n_objects=1).background
    ox, oy = rng.uniform(0.4, 0.6), rng.uniform(0.35, 0.65)
    go_right = bool(rng.integers(2))
    colours = rng.choice(list(COLOURS), size=2, replace=False)
    mover = ObjectSpec(str(rng.choice(["circle", "square"])), str(colours[0]), str(rng.choice(["small", "medium"])),
                       "move", "right" if go_right else "left",
                       (0.12 if go_right else 0.88, oy + rng.uniform(-0.02, 0.02)), float(rng.uniform(0.35, 0.55)), depth=0)
    occluder = ObjectSpec(str(rng.choice(["circle", "square", "hexagon"])), str(colours[1]), "large",
                          start=(ox, oy), depth=1)
    return render(SceneSpec(bg, (mover, occluder), duration=2.0), side, side, fps)


def _motion_unobservable(clip: Clip, i: int) -> str | None:
    """Why object i's stated motion cannot be seen in the render, or None when it can.

    Judged like describe() judges: over the shot motion.judged_shot picks (frames with at least
    half of the object in view). A move deflected by a collision (or pushed apart from an object
    it starts on) before it travels MIN_TRAVEL in its stated direction never shows that
    direction; an orbit in view over less than MIN_ARC of arc is a curved line; a bounce whose
    floor contact or rebound is out of view (or after the clip) is a fall.
    """
    o, tr = clip.spec.objects[i], clip.truth[i]
    seen = tr.visible >= 0.5
    if not seen.any():
        return "not in view"
    shot = judged_shot(seen, clip.shot, tr.visible >= 0.95)
    f = np.flatnonzero(seen & (clip.shot == shot))
    if len(f) < 3:
        return "in view under 3 frames"
    h, w = clip.frames.shape[1:3]
    p = object_states(clip.spec, np.arange(len(clip.frames)) / clip.fps, w, h).centre[:, i]  # world
    if o.motion == "orbit" and o.speed * (f[-1] - f[0]) / clip.fps < MIN_ARC:
        return "orbit arc in view too short"
    if o.motion == "move":
        # The heading is the stated one from t = 0; a collision can turn it before the first
        # frame step, so the turn is looked for on the physics' own time grid, not per frame.
        fine = np.arange(0.0, len(clip.frames) / clip.fps, DT)
        q = object_states(clip.spec, fine, w, h).centre[:, i]  # (F, 2) world
        v = np.diff(q, axis=0) * [w, h]  # (F-1, 2) in pixels, so the angle is the screen's
        v0 = np.asarray(DIRECTIONS[o.direction])
        size = np.linalg.norm(v, axis=1)
        # A step far faster than its own speed is a push apart (it started overlapping another
        # object), not travel: it ends the free move as a collision does.
        push = size > 1.5 * o.speed * DT * min(w, h) + 1e-9
        turned = np.flatnonzero((v @ v0 < TURN_COS * size * np.linalg.norm(v0)) | push)
        t_turn = fine[int(turned[0])] if len(turned) else np.inf  # the deflection's time
        before = f[f / clip.fps <= t_turn]
        if len(before) < 2 or np.linalg.norm(p[before[-1]] - p[before[0]]) < MIN_TRAVEL:
            return "deflected before its direction shows"
    if o.motion == "bounce":
        y = p[f, 1]
        low = [k for k in range(1, len(f) - 1) if f[k + 1] - f[k - 1] == 2 and y[k] >= y[k - 1] and y[k] > y[k + 1]]
        if not any(y[k] - y[k + 1 :].min() > MIN_REBOUND for k in low):
            return "no rebound in view"
    return None


def observable(clip: Clip) -> tuple[Expected, list[str]]:
    """The spec's expectation less what the clip cannot show, and a "dimension: reason" per
    attribute left out (see _motion_unobservable)."""
    e = expected_from_spec(clip.spec)
    objs, out = list(e.objects), []
    for i, obj in enumerate(objs):
        why = _motion_unobservable(clip, i) if obj.motion is not None else None
        if why:
            objs[i] = dataclasses.replace(obj, motion=None, direction=None)
            out.append(f"motion: {why}")
    return dataclasses.replace(e, objects=tuple(objs)), out


def score_clip(clip: Clip, frames: np.ndarray | None = None, fps: float | None = None) -> dict[str, DimScore]:
    """Scores of `frames` (default: the clip's own) against what the clip's spec observably asks."""
    f = clip.frames if frames is None else frames
    return score_description(describe(f, fps or clip.fps), observable(clip)[0])


def agreement(cases: list[Case] | list[Clip]) -> Agreement:
    """Agreement over ground-truth renders: Cases, or clips already rendered."""
    out = Agreement()
    for case in cases:
        clip = case.clip() if isinstance(case, Case) else case
        out.excluded.update(observable(clip)[1])
        for dim, s in score_clip(clip).items():
            if s.passed is None:
                continue
            out.scored[dim] += 1
            out.passed[dim] += bool(s.passed)
            if not s.passed:
                out.failures.append((case, dim, s.detail))
    return out


def corruption_rates(cases: list[Case]) -> dict[str, dict[str, float]]:
    """Per corruption: n (cases where it applies and its dimension passes on the truth), the
    rate at which that dimension fails, and the rate at which no other dimension breaks. A
    corruption of the subject's motion is skipped (and counted) where observable() leaves that
    motion out: the render cannot show it, so a wrong one cannot show either."""
    stats = {name: Counter() for name in corrupt.CORRUPTIONS}
    for i, case in enumerate(cases):
        clip = case.clip()
        clean = score_clip(clip)
        subject_moves = observable(clip)[0].objects[0].motion is not None
        for name in corrupt.CORRUPTIONS:
            if not corrupt.applies(name, clip.spec, min(clip.frames.shape[1:3])):
                continue
            if corrupt.CORRUPTIONS[name][0] == "motion" and not subject_moves:
                stats[name]["skipped_unobservable"] += 1  # the subject's motion cannot be seen (observable)
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
                   "fail_rate": s["caught"] / max(s["n"], 1), "others_pass_rate": s["others_pass"] / max(s["n"], 1),
                   "skipped_unobservable": s["skipped_unobservable"]}
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


def add_noise(frames: np.ndarray, seed: int = 0, amp: int = 2) -> np.ndarray:
    """`frames` plus independent uniform integer noise in [-amp, amp] per pixel and channel."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(-amp, amp + 1, size=frames.shape, dtype=np.int16)
    return np.clip(frames.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def score_change(pairs: list[tuple[dict[str, DimScore], dict[str, DimScore]]]) -> dict[str, object]:
    """Mean |Δ value| per dimension and overall (over dimensions scored both times), the share of
    pass/fail verdicts that flip, and how often a dimension is scored one time and not the other."""
    per: dict[str, list[float]] = {}
    flips, scored_flips, n_vals = [], 0, 0
    for a, b in pairs:
        for k in a:
            va, vb = a[k].value, b[k].value
            if (va is None) != (vb is None):
                scored_flips += 1
            if va is None or vb is None:
                continue
            per.setdefault(k, []).append(abs(va - vb))
            flips.append(a[k].passed != b[k].passed)
            n_vals += 1
    allv = [x for v in per.values() for x in v]
    return {"mean_abs_change": float(np.mean(allv)) if allv else 0.0,
            "per_dimension": {k: float(np.mean(v)) for k, v in sorted(per.items())},
            "max_abs_change": {k: float(np.max(v)) for k, v in sorted(per.items())},
            "verdict_flips": float(np.mean(flips)) if flips else 0.0,
            "scored_unscored_flips": scored_flips, "n_values": n_vals, "n_videos": len(pairs)}
