"""score(description, expected) → a number in [0, 1] and pass/fail per dimension.

Prompt-adherence dimensions (colour, shape, count, size, motion, background, camera, shots) compare
what describe() saw with what parse() asked, after matching asked objects to seen tracks (Hungarian,
on the number of agreeing stated attributes). Quality dimensions (consistency, flicker, smoothness,
physics, permanence) need no prompt. A dimension the prompt does not constrain is None (not scored).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from cinegen.eval.describe import Description, ObjectTrack, describe
from cinegen.eval.motion import to_world
from cinegen.eval.parse import Expected, ExpectedObject, parse
from cinegen.world.spec import FLOOR_Y, GRAVITY

DIMENSIONS: tuple[str, ...] = (
    "colour", "shape", "count", "size", "motion", "background", "camera",
    "consistency", "flicker", "smoothness", "physics", "permanence", "shots",
)
PASS_AT = 0.5  # a prompt dimension passes when at least half of what was asked is seen
QUALITY_PASS_AT = 0.75  # quality dimensions: three quarters of tracks / frames must be clean
JUMP = 0.12  # normalised: a frame-to-frame jump this large (and far above the usual step) is a teleport
FLICKER_MAX = 0.02  # mean background change per frame (fraction of 255) of a static shot


@dataclass(frozen=True)
class DimScore:
    value: float | None  # None: not applicable to this prompt / video
    passed: bool | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"value": None if self.value is None else round(float(self.value), 4),
                "passed": self.passed, "detail": self.detail}


def _agree(e: ExpectedObject, o: ObjectTrack) -> int:
    n = 0
    for name in ("colour", "shape", "size", "motion"):
        want = getattr(e, name)
        if want is not None and want == getattr(o, name):
            n += 1
    if e.direction is not None and e.direction == o.direction:
        n += 1
    return n


def match(expected: tuple[ExpectedObject, ...], seen: list[ObjectTrack]) -> list[tuple[int, int | None]]:
    """Pairs (expected index, seen index or None), maximising agreeing attributes."""
    if not expected:
        return []
    if not seen:
        return [(i, None) for i in range(len(expected))]
    gain = np.array([[_agree(e, o) + 1e-3 * o.visible.mean() for o in seen] for e in expected])
    rows, cols = linear_sum_assignment(-gain)
    got = dict(zip(rows.tolist(), cols.tolist()))
    return [(i, got.get(i)) for i in range(len(expected))]


def _attr_score(pairs, expected, seen, name: str) -> DimScore:
    asked = [(i, j) for i, j in pairs if getattr(expected[i], name) is not None]
    if not asked:
        return DimScore(None, None)
    hits = 0
    wrong = []
    for i, j in asked:
        want = getattr(expected[i], name)
        got = getattr(seen[j], name) if j is not None else None
        if name == "motion" and want == got and want in ("move", "orbit") and expected[i].direction is not None:
            ok = expected[i].direction == seen[j].direction
            got = f"{got} {seen[j].direction}"
        else:
            ok = want == got
        hits += ok
        if not ok:
            wrong.append(f"{want}→{got}")
    v = hits / len(asked)
    return DimScore(v, v >= PASS_AT if len(asked) > 1 else v == 1.0, ", ".join(wrong))


def consistency(d: Description) -> DimScore:
    """Each object keeps its identity: no colour/shape drift, no appearing or vanishing in the open."""
    if not d.objects:
        return DimScore(None, None)
    bad = []
    for k, o in enumerate(d.objects):
        seen = np.flatnonzero(o.visible)
        problems = []
        if o.colour_drift > 0.2:
            problems.append("colour drift")
        if o.shape_per_frame and np.mean([s != o.shape for s in o.shape_per_frame]) > 0.4:
            problems.append("shape drift")
        # Appearing after the start or vanishing before the end must happen at the frame edge,
        # behind another object, or at a cut.
        for t, edge in ((seen[0], "appears"), (seen[-1], "vanishes")):
            if (edge == "appears" and t == 0) or (edge == "vanishes" and t == d.n_frames - 1):
                continue
            if o.touches_border[t] or _hidden_near(d, k, t) or _near_cut(d, t):
                continue
            problems.append(f"{edge} at frame {t}")
        if problems:
            bad.append(f"{o.colour} {o.shape}: {'; '.join(problems)}")
    v = 1.0 - len(bad) / len(d.objects)
    return DimScore(v, v >= QUALITY_PASS_AT or not bad, "; ".join(bad))


def _near_cut(d: Description, t: int) -> bool:
    return any(abs(t - c) <= 1 or abs(t + 1 - c) <= 1 for c in d.cuts)


def _hidden_near(d: Description, k: int, t: int) -> bool:
    """Whether track k, at its first/last seen frame t, overlaps another seen object (an occluder)."""
    o = d.objects[k]
    r = np.sqrt(max(o.area[t], 1e-6)) * min(d.width, d.height)
    p = o.centre[t] * [d.width, d.height]
    for j, q in enumerate(d.objects):
        if j == k:
            continue
        for tt in (t - 1, t, t + 1):
            if 0 <= tt < d.n_frames and q.visible[tt]:
                rq = np.sqrt(max(q.area[tt], 1e-6)) * min(d.width, d.height)
                if np.hypot(*(q.centre[tt] * [d.width, d.height] - p)) < 0.9 * (r + rq):
                    return True
    return False


def flicker(d: Description) -> DimScore:
    """Frame-to-frame change of the background where nothing moves (static or unknown camera)."""
    if d.n_frames < 2 or d.camera_motion in ("pan", "zoom"):
        return DimScore(None, None)
    keep = np.ones(d.n_frames - 1, dtype=bool)
    for c in d.cuts:
        keep[c - 1] = False
    if not keep.any():
        return DimScore(None, None)
    m = float(np.mean(d.background_diff[keep]))
    v = float(np.clip(1.0 - m / (2 * FLICKER_MAX), 0.0, 1.0))
    return DimScore(v, m <= FLICKER_MAX, f"mean background change {m:.4f}")


def _jumps(o: ObjectTrack, d: Description) -> list[int]:
    """Frames where a track jumps much farther than it usually moves (a teleport)."""
    idx = np.flatnonzero(o.visible)
    if len(idx) < 3:
        return []
    p = to_world(o.centre, d.camera_path)
    out = []
    steps = []
    for a, b in zip(idx[:-1], idx[1:]):
        if b - a == 1 and d.shot[a] == d.shot[b]:
            steps.append((b, float(np.linalg.norm(p[b] - p[a]))))
    if len(steps) < 2:
        return []
    size = np.array([s for _, s in steps])
    for k, (b, s) in enumerate(steps):
        # A teleport is a step far longer than its neighbours; a fall speeds up gradually.
        near = np.delete(size[max(0, k - 2) : k + 3], min(k, 2))
        if s > JUMP and s > 3 * float(np.median(near)) + 0.03:
            out.append(int(b))
    return out


def smoothness(d: Description) -> DimScore:
    """Fraction of frame steps with no jump, over all tracks."""
    if not d.objects:
        return DimScore(None, None)
    n_steps, bad, where = 0, 0, []
    for o in d.objects:
        n_steps += max(int(o.visible.sum()) - 1, 0)
        j = _jumps(o, d)
        bad += len(j)
        where += [f"{o.colour} {o.shape} at {t}" for t in j]
    if n_steps == 0:
        return DimScore(None, None)
    v = 1.0 - min(1.0, 5.0 * bad / n_steps)
    return DimScore(v, bad == 0, "jump: " + ", ".join(where) if where else "")


def physics(d: Description) -> DimScore:
    """Falls and bounces accelerate downward at the world's gravity; nothing sinks through the floor."""
    checks, fails = 0, []
    for o in d.objects:
        if o.motion not in ("fall", "bounce"):
            continue
        idx = np.flatnonzero(o.visible)
        p = to_world(o.centre, d.camera_path)[idx]
        t = idx / d.fps
        y = p[:, 1]
        checks += 1
        # Free flight: the frames until the first floor contact (velocity turns or stops).
        vy = np.diff(y)
        stop = np.flatnonzero(vy <= 1e-3 * 0)
        first = int(stop[stop > 0][0]) + 1 if (stop > 0).any() else len(y)
        if first >= 4:
            g = 2 * np.polyfit(t[:first], y[:first], 2)[0]
            if not 0.5 * GRAVITY < g < 1.6 * GRAVITY:
                fails.append(f"{o.colour} {o.shape}: acceleration {g:.2f} (gravity {GRAVITY})")
                continue
        r = np.sqrt(np.median(o.area[idx]) / np.pi)  # radius in min-side units
        sink = float((y + r * min(d.width, d.height) / d.height - FLOOR_Y).max())
        if sink > 0.06:
            fails.append(f"{o.colour} {o.shape}: below the floor by {sink:.2f}")
    if not checks:
        return DimScore(None, None)
    v = 1.0 - len(fails) / checks
    return DimScore(v, not fails, "; ".join(fails))


def permanence(d: Description) -> DimScore:
    """An object hidden for a while comes back near where its motion predicts."""
    gaps, fails = 0, []
    for k, o in enumerate(d.objects):
        idx = np.flatnonzero(o.visible)
        for a, b in zip(idx[:-1], idx[1:]):
            if b - a <= 1 or _near_cut(d, int(b)):
                continue
            gaps += 1
            p = o.centre
            v = p[a] - p[a - 1] if a - 1 >= 0 and o.visible[a - 1] else np.zeros(2)
            pred = p[a] + v * (b - a)
            err = float(np.linalg.norm(p[b] - pred))
            if err > 0.15 + 0.02 * (b - a):
                fails.append(f"{o.colour} {o.shape} back at frame {b}, {err:.2f} from prediction")
    # An object that vanishes under another one and never comes back breaks permanence too.
    for k, o in enumerate(d.objects):
        last = int(np.flatnonzero(o.visible)[-1]) if o.visible.any() else -1
        if 0 <= last < d.n_frames - 2 and not o.touches_border[last] and _hidden_near(d, k, last) \
                and not _near_cut(d, last):
            gaps += 1
            fails.append(f"{o.colour} {o.shape} hidden at frame {last} and never back")
    if not gaps:
        return DimScore(None, None)
    v = 1.0 - len(fails) / gaps
    return DimScore(v, not fails, "; ".join(fails))


def score_description(d: Description, e: Expected) -> dict[str, DimScore]:
    seen = d.objects
    pairs = match(e.objects, seen)
    out: dict[str, DimScore] = {}
    for name in ("colour", "shape", "size", "motion"):
        out[name] = _attr_score(pairs, e.objects, seen, name)
    if e.objects:
        diff = abs(len(seen) - len(e.objects))
        out["count"] = DimScore(1.0 - diff / max(len(seen), len(e.objects)), diff == 0,
                                f"asked {len(e.objects)}, seen {len(seen)}")
    else:
        out["count"] = DimScore(None, None)
    if e.background is None and e.background_colour is None:
        out["background"] = DimScore(None, None)
    else:
        ok = (e.background is None or e.background == d.background) and (
            e.background_colour is None or e.background_colour == d.background_colour)
        out["background"] = DimScore(float(ok), ok, f"seen {d.background} {d.background_colour or ''}".strip())
    if e.camera_motion is None or d.camera_motion == "unknown":
        out["camera"] = DimScore(None, None)
    else:
        ok = e.camera_motion == d.camera_motion and (
            e.camera_motion == "static" or e.camera_direction is None or e.camera_direction == d.camera_direction)
        out["camera"] = DimScore(float(ok), ok, f"seen {d.camera_motion} {d.camera_direction or ''}".strip())
    out["consistency"] = consistency(d)
    out["flicker"] = flicker(d)
    out["smoothness"] = smoothness(d)
    out["physics"] = physics(d)
    out["permanence"] = permanence(d)
    if e.shots is None:
        out["shots"] = DimScore(None, None)
    else:
        n = len(d.cuts) + 1
        out["shots"] = DimScore(1.0 - min(1.0, abs(n - e.shots) / e.shots), n == e.shots, f"seen {n} shots")
    return out


def score(frames: np.ndarray, fps: float, prompt: str | Expected) -> dict[str, DimScore]:
    """Scores of a video (uint8 (T, H, W, 3)) against a prompt or an expectation."""
    e = parse(prompt) if isinstance(prompt, str) else prompt
    return score_description(describe(frames, fps), e)


def to_json(scores: dict[str, DimScore]) -> dict[str, Any]:
    return {k: v.to_dict() for k, v in scores.items()}
