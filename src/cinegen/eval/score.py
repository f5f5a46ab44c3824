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
from cinegen.eval.motion import to_world, vertical_acceleration
from cinegen.eval.parse import Expected, ExpectedObject, parse
from cinegen.eval.shapes import unit_area
from cinegen.world.spec import FLOOR_Y, GRAVITY, SHAPES

DIMENSIONS: tuple[str, ...] = (
    "colour", "shape", "count", "size", "motion", "background", "camera",
    "consistency", "flicker", "smoothness", "physics", "permanence", "shots",
)
# A prompt dimension passes only when everything asked is seen; the value gives partial credit.
QUALITY_PASS_AT = 0.75  # quality dimensions: three quarters of tracks / frames must be clean
JUMP = 0.12  # normalised: a frame-to-frame jump this large (and far above the usual step) is a teleport
TURN_STEP = 0.012  # normalised: steps shorter than this are too small to call a reversal
TINY = 0.004  # area (fraction of min side²): an object this small may shrink out of sight
CODEC_NOISE = 0.004  # background change a lossy codec adds to a still shot: no flicker below it
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
        if name == "motion" and want == "rotate" and got == "static" and seen[j].shape in ("circle", "unknown"):
            continue  # a turning disc looks the same at every angle: not observable, not scored
        if name == "shape" and got == "unknown":
            continue  # too small to name its shape
        if name == "motion" and want == got and want in ("move", "orbit") and expected[i].direction is not None:
            ok = expected[i].direction == seen[j].direction
            got = f"{got} {seen[j].direction}"
        else:
            ok = want == got
        hits += ok
        if not ok:
            wrong.append(f"{want}→{got}")
    n = len(wrong) + hits
    if n == 0:
        return DimScore(None, None, "not observable")
    v = hits / n
    return DimScore(v, v == 1.0, ", ".join(wrong))


def consistency(d: Description) -> DimScore:
    """Each object keeps its identity: no colour/shape drift, no appearing or vanishing in the open."""
    if not d.objects:
        return DimScore(None, None)
    bad, w_bad = [], 0.0
    for k, o in enumerate(d.objects):
        seen = np.flatnonzero(o.visible)
        problems = []
        if o.colour_drift > 0.2:
            problems.append("colour drift")
        if o.shape_per_frame and np.mean([_family(s) != _family(o.shape) for s in o.shape_per_frame]) > 0.4:
            problems.append("shape drift")
        # Appearing after the start or vanishing before the end must happen at the frame edge,
        # behind another object, or at a cut.
        for t, edge in ((seen[0], "appears"), (seen[-1], "vanishes")):
            if (edge == "appears" and t == 0) or (edge == "vanishes" and t == d.n_frames - 1):
                continue
            if _at_edge(o, t, edge == "appears") or _hidden_near(d, k, t) or _near_cut(d, t) or _faded(o, t):
                continue
            problems.append(f"{edge} at frame {t}")
        if problems:
            bad.append(f"{o.colour} {o.shape}: {'; '.join(problems)}")
            w_bad += o.weight
    hard = 1.0 - len(bad) / len(d.objects)
    v = _weighted(1.0 - w_bad / _total_weight(d) if _total_weight(d) > 1e-6 else np.nan, hard)
    # The verdict counts tracks by clarity too (the value): a faint track at describe's thresholds,
    # there with one grey level of noise and gone without it, cannot fail it alone.
    return DimScore(v, v >= QUALITY_PASS_AT or not bad, "; ".join(bad))


def _total_weight(d: Description) -> float:
    return sum(o.weight for o in d.objects)


def _weighted(v: float, hard: float) -> float:
    """A value weighted by track clarity (ObjectTrack.weight); where every track is faint (total
    weight ~0) the unweighted value."""
    return hard if not np.isfinite(v) else float(np.clip(v, 0.0, 1.0))


def _at_edge(o: ObjectTrack, t: int, entering: bool) -> bool:
    """Whether the track crosses the frame edge at t: it touches the edge and is cut by it (well
    under its usual area), or its motion carries its centre out of the frame the next (entering:
    previous) frame. An object merely touching the edge does not vanish there."""
    if not o.touches_border[t]:
        return False
    if o.area[t] < 0.75 * float(np.median(o.area[o.visible])):
        return True
    nb = t + 1 if entering else t - 1  # the seen neighbour: after an entry, before an exit
    if not (0 <= nb < len(o.visible) and o.visible[nb]):
        return True  # seen one frame only: no motion to tell by
    nxt = o.centre[t] + (o.centre[t] - o.centre[nb])
    return bool(((nxt < 0) | (nxt > 1)).any())


def _faded(o: ObjectTrack, t: int) -> bool:
    """Whether the track is tiny at frame t and much bigger elsewhere: it grew from or shrank to
    nothing. A blob that is tiny all along (noise) pops in and out of the open: that is no fade.
    (An object shrinking to 0.4-0.6 of its size loses 64-84% of its area: FADE_RATIO.)"""
    return bool(o.area[t] < TINY and o.area.max() > FADE_RATIO * o.area[t])


FADE_RATIO = 2.5  # area drop (largest over the last seen) that makes a tiny blob a fade


def _family(shape: str) -> str:
    """A diamond is a square turned 45°: a turning square passes through both, so drift ignores it."""
    return "square" if shape == "diamond" else shape


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
    v = float(np.clip(1.0 - max(m - CODEC_NOISE, 0.0) / (2 * FLICKER_MAX), 0.0, 1.0))
    return DimScore(v, m <= FLICKER_MAX, f"mean background change {m:.4f}")


def _ramp(x: float, lo: float, hi: float) -> float:
    return float(np.clip((x - lo) / (hi - lo), 0.0, 1.0))


def _velocity_changes(d: Description) -> list[dict[int, np.ndarray]]:
    """Per track, its impulses: the change of velocity (a miss of the constant-velocity
    prediction, normalised world units) at each frame c that ends three consecutive frames of one
    shot, less the track's usual change (the median over its frames: gravity, for a falling one).
    What is left is what a collision or a jump adds."""
    out = []
    for o in d.objects:
        idx = np.flatnonzero(o.visible)
        p = to_world(o.centre, d.camera_path)
        ch = {int(c): p[c] - 2 * p[b] + p[a] for a, b, c in zip(idx[:-2], idx[1:-1], idx[2:])
              if c - a == 2 and d.shot[a] == d.shot[c]}
        usual = np.median(np.array(list(ch.values())), axis=0) if ch else np.zeros(2)
        out.append({c: v - usual for c, v in ch.items()})
    return out


def _collision(d: Description, k: int, c: int, changes: list[dict[int, np.ndarray]]) -> bool:
    """Whether track k's change of velocity at frame c (steps c-2 → c-1 → c) is a collision:
    another object meets it between frames c-2 and c (`_meet`) and changes velocity too, within a
    frame of it, the other way (equal and opposite impulses: its share of the change shrinks as
    its mass, taken as the square of its outer radius like the world's, grows), by more than it
    jitters. A teleport changes one object only, and a neighbour that is merely near is not
    met. `changes` is `_velocity_changes(d)`."""
    imp = changes[k].get(c)
    if imp is None:
        return False
    o = d.objects[k]
    for j, q in enumerate(d.objects):
        if j == k or not q.visible[c - 1] or not changes[j]:
            continue
        share = min(1.0, (_outer_radius(o, c - 1) / max(_outer_radius(q, c - 1), 1e-6)) ** 2)
        # The other's kick must stand out from its own jitter (JITTER, lower quartile): a
        # blob that wobbles all along (a generated one) excuses nothing by wobbling once more.
        jitter = JITTER * float(np.percentile([np.linalg.norm(v) for v in changes[j].values()], 25))
        least = max(0.2 * share * float(np.linalg.norm(imp)), jitter)
        opposite = False
        for t in (c - 1, c, c + 1):
            mq = changes[j].get(t)
            opposite |= mq is not None and float(mq @ imp) < 0 and np.linalg.norm(mq) > least
        if opposite and _meet(d, k, j, c - 1):
            return True
    return False


CONTACT_SLACK = 1.15  # outer radii summed × this: centroid error, a blob partly hidden, gravity
# A collision's kick exceeds this many times the lower quartile of the other track's changes
# of velocity: jitter shows in most frames, kicks in few (a short bouncing track's median is a kick).
JITTER = 3.0


def _outer_radius(o: ObjectTrack, t: int) -> float:
    """Track o's outer radius around frame t, in units of min(width, height): the disc the world's
    collisions use. From the blob's area and its shape's (a star or a triangle fills far less of
    its disc than a circle does); an unnamed shape counts as a circle, the smallest disc for its
    area. The largest area within a frame of t, as a blob partly hidden by another is smaller."""
    unit = unit_area(o.shape) if o.shape in SHAPES else np.pi
    return float(np.sqrt(o.area[max(t - 1, 0) : t + 2].max() / unit))


def _meet(d: Description, k: int, j: int, b: int) -> bool:
    """Whether tracks k and j touch at some time between frames b-1 and b+1.

    Each is carried from frame b at its own velocity: forward over (b, b+1) with the step that
    led into b, backward over (b-1, b) with the step that leaves it. Those are the velocities
    before and after a collision in that interval, so two objects that met between two frames
    come within their outer radii on one side, however far apart both frames show them (fast
    objects at a low frame rate). Positions in units of min(width, height).
    """
    o, q = d.objects[k], d.objects[j]
    if not (o.visible[b] and q.visible[b]):
        return False
    size = np.array([d.width, d.height]) / min(d.width, d.height)
    reach = CONTACT_SLACK * (_outer_radius(o, b) + _outer_radius(q, b))
    gap = (o.centre[b] - q.centre[b]) * size  # (2,)
    for nb in (b - 1, b + 1):
        if not (0 <= nb < d.n_frames and o.visible[nb] and q.visible[nb] and d.shot[nb] == d.shot[b]):
            continue
        # Forward p(b) + u (p(b) − p(b−1)), backward p(b) − u (p(b+1) − p(b)): both p(b) + u (p(b) − p(nb)).
        dv = ((o.centre[b] - o.centre[nb]) - (q.centre[b] - q.centre[nb])) * size
        u = float(np.clip(-(gap @ dv) / max(float(dv @ dv), 1e-12), 0.0, 1.0))
        if np.linalg.norm(gap + u * dv) < reach:
            return True
    return bool(np.linalg.norm(gap) < reach)


def _touching(d: Description, k: int, j: int, t: int) -> bool:
    """Whether tracks k and j are both seen at frame t within their outer radii (CONTACT_SLACK)."""
    o, q = d.objects[k], d.objects[j]
    if not (0 <= t < d.n_frames and o.visible[t] and q.visible[t]):
        return False
    size = np.array([d.width, d.height]) / min(d.width, d.height)
    reach = CONTACT_SLACK * (_outer_radius(o, t) + _outer_radius(q, t))
    return bool(np.linalg.norm((o.centre[t] - q.centre[t]) * size) < reach)


def _wall_turn(o: ObjectTrack, d: Description, b: int, s0: np.ndarray, s1: np.ndarray, floor: bool = False) -> bool:
    """Whether a turn at frame b (steps s0 then s1) is a bounce off a side wall of the frame: the
    horizontal velocity flips at about the same speed (an elastic wall; a jump is far faster than
    the step before it) while the vertical one carries on (gravity aside), with the object within
    a step of touching the left or right edge. The walls stand where the opening view's edges are:
    under a camera move, the track in world coordinates (the steps are) is what meets them.

    `floor`: the object is at the floor just then, so its vertical velocity may turn upward too
    (a bounce into a bottom corner meets the wall and the floor between the same two frames)."""
    dv = s1 - s0
    u0, u1 = abs(s0[0]), abs(s1[0])
    vertical_ok = abs(dv[1]) < 0.5 * abs(dv[0]) + GRAVITY / d.fps**2 or (floor and s0[1] > 0 > s1[1])
    if not (s0[0] * s1[0] < 0 and 0.5 * u0 <= u1 <= 2.0 * u0 and vertical_ok):
        return False
    scale = d.camera_path[b, 2]
    r = _outer_radius(o, b) * min(d.width, d.height) / d.width / scale  # normalised to the width
    x = float(to_world(o.centre[b : b + 1], d.camera_path[b : b + 1])[0, 0])
    reach = r + min(u0, u1) + 0.01
    return bool(x < reach or x > 1 - reach)


def _jumps(d: Description, k: int, changes: list[dict[int, np.ndarray]],
           severity: list[float] | None = None) -> list[int]:
    """Frames where track k lands far from where its last two positions predict (a teleport).

    The constant-velocity prediction misses a smooth track by its acceleration · dt², far less
    than JUMP, except at a floor contact, which is let through: an upward change of velocity
    while coming down, or at the lowest point the track reaches (a landing seen backwards
    leaves the floor at once; whether that is physical is for `physics` to say).

    Being next to another object is no excuse (a teleport lands next to another object as
    often), but a collision is (`_collision`): both objects change velocity at once, in opposite
    directions. So is a side wall (`_wall_turn`); `changes` is `_velocity_changes(d)`.
    """
    o = d.objects[k]
    idx = np.flatnonzero(o.visible)
    p = to_world(o.centre, d.camera_path)
    low = float(np.nanmax(p[idx, 1])) if len(idx) else 0.0
    errs = []
    for a, b, c in zip(idx[:-2], idx[1:-1], idx[2:]):
        if c - a != 2 or d.shot[a] != d.shot[c]:
            continue
        miss = p[c] - (2 * p[b] - p[a])
        floor = p[b, 1] - p[a, 1] > 0 or p[b, 1] > low - 0.02
        contact = floor and miss[1] < 0 and abs(miss[1]) > 2 * abs(miss[0])
        contact = contact or _collision(d, k, int(c), changes) \
            or _wall_turn(o, d, int(b), p[b] - p[a], p[c] - p[b], floor)
        errs.append((int(c), 0.0 if contact else float(np.linalg.norm(miss))))
    if len(errs) < 2:
        return []
    size = np.array([e for _, e in errs])
    out = []
    for k, (c, e) in enumerate(errs):
        near = np.delete(size[max(0, k - 2) : k + 3], min(k, 2))
        # An outlier among its neighbours, or every step a miss (frames out of order throughout).
        outlier = e > 3 * float(np.median(near)) + 0.03 or float(np.median(size)) > JUMP
        if e > JUMP and outlier:
            out.append(c)
        if severity is not None and outlier:
            # How clearly a jump: 0 at half JUMP, 1 at twice JUMP (a teleport is far beyond).
            severity.append(_ramp(e, 0.5 * JUMP, 2.0 * JUMP))
    return out


def _reversals(d: Description, k: int, contacts: set[int], changes: list[dict[int, np.ndarray]],
               severity: list[float] | None = None) -> list[int]:
    """Frames where track k turns back on itself (out of order frames) with no floor or object
    contact to explain it. A bounce turns vertically, at the floor and at the top of each hop
    (_gravity_turn); a shuffled track turns anywhere."""
    o = d.objects[k]
    idx = np.flatnonzero(o.visible)
    p = to_world(o.centre, d.camera_path)
    low = float(np.nanmax(p[idx, 1])) if len(idx) else 0.0
    out = []
    for a, b, c in zip(idx[:-2], idx[1:-1], idx[2:]):
        if c - a != 2 or d.shot[a] != d.shot[c] or b in contacts:
            continue
        s0, s1 = p[b] - p[a], p[c] - p[b]
        n0, n1 = float(np.linalg.norm(s0)), float(np.linalg.norm(s1))
        # How clearly a turn back: steps from half TURN_STEP to twice it, turning from 90° to 150°.
        soft = _ramp(min(n0, n1), 0.5 * TURN_STEP, 2.0 * TURN_STEP) * _ramp(-float(s0 @ s1) / max(n0 * n1, 1e-12), 0.0, 0.85)
        explained = (o.motion == "bounce" and _gravity_turn(s0, s1, p[b, 1], low, d.fps)) \
            or _wall_turn(o, d, int(b), s0, s1, s0[1] > 0 or p[b, 1] > low - 0.02) or _collision(d, k, int(c), changes)
        if min(n0, n1) < TURN_STEP or float(s0 @ s1) > -0.5 * n0 * n1:
            if severity is not None and soft > 0 and not explained:
                severity.append(soft)
            continue
        if explained:
            continue
        out.append(int(b))
        if severity is not None:
            severity.append(soft)
    return out


def _gravity_turn(s0: np.ndarray, s1: np.ndarray, y: float, low: float, fps: float) -> bool:
    """Whether a turn between steps s0 and s1 (at height y) is a falling object's: its velocity
    changes vertically only (the horizontal step carries on, however slow the fall is just then),
    either by gravity alone at the top of a hop, or upward at a floor contact within one step of
    the lowest point the track reaches (at a low frame rate the frame nearest a contact may be a
    whole step above the floor). Only asked of tracks seen as bouncing: let through on any track,
    it excuses too many turns of a shuffled one (shuffle caught 0.94 → 0.90)."""
    dv = s1 - s0
    if abs(dv[1]) <= 2 * abs(dv[0]):
        return False
    apex = s0[1] < 0 < s1[1] and dv[1] < 1.5 * GRAVITY / fps**2 + 0.01
    floor = s0[1] > 0 > s1[1] and y + max(s0[1], -s1[1]) > low - 0.02
    return bool(apex or floor)


def smoothness(d: Description) -> DimScore:
    """Frame steps with no teleport jump and no unexplained reversal, over all tracks."""
    if not d.objects:
        return DimScore(None, None)
    n_steps, bad, where = 0, 0, []
    w_steps, w_bad = 0.0, 0.0
    changes = _velocity_changes(d)
    for k, o in enumerate(d.objects):
        steps = max(int(o.visible.sum()) - 1, 0)
        n_steps += steps
        sev: list[float] = []
        contacts = _contact_frames(d, k)
        j = _jumps(d, k, changes, sev)
        r = _reversals(d, k, contacts, changes, sev)
        bad += len(j) + len(r)
        # The value counts events by how clear they are and tracks by how clearly seen, so an
        # event or a track at a threshold moves it a little, not by a whole event.
        w_steps += o.weight * steps
        w_bad += o.weight * sum(sev)
        where += [f"{o.colour} {o.shape} jumps at {t}" for t in j]
        where += [f"{o.colour} {o.shape} turns back at {t}" for t in r]
    if n_steps == 0:
        return DimScore(None, None)
    hard = 1.0 - min(1.0, 5.0 * bad / n_steps)
    v = _weighted(1.0 - min(1.0, 5.0 * w_bad / w_steps) if w_steps > 1e-6 else np.nan, hard)
    return DimScore(v, bad == 0, ", ".join(where))


def physics(d: Description, framings: tuple[str, ...] = ()) -> DimScore:
    """Falls and bounces accelerate downward at the world's gravity; nothing sinks through the floor.

    Gravity and the floor are in units of a wide view: a medium shot or a close-up magnifies
    both by its framing, which pixels alone cannot measure. With the shots' framings known
    (`framings`, in order), each object is judged in the first wide shot where it shows; an
    object seen in no wide shot is not judged. Without them, the video is one wide view.

    Not checked: momentum in collisions (contacts last one frame at these frame rates, too short
    to measure an exchange of momentum from pixels).
    """
    checks, fails = 0, []
    w_checks, w_fails = 0.0, 0.0
    wide = [k for k, f in enumerate(framings) if f == "wide"] if framings else None
    changes = _velocity_changes(d)
    for k, o in enumerate(d.objects):
        shots = [s for s in np.unique(d.shot[o.visible]) if wide is None or s in wide]
        if not shots:
            continue  # seen in no wide shot: gravity's scale unknown
        idx = np.flatnonzero(o.visible & (d.shot == shots[0]))
        if len(idx) < 4:
            continue
        p = to_world(o.centre, d.camera_path)[idx]
        y = p[:, 1]
        # A collision is no free flight (its momentum exchange is not checked), and it may fall
        # between two frames. The acceleration is measured on the flight before the first frame
        # triple during which another object collides with this one (_collision_triples) where
        # that is two triples long or more, else on the first free run of two triples or more
        # after it, floor contacts left out (_vertical_kicks: in a short run they would outvote
        # the flight). Every free triple at once mixes in contacts unseen: ground truth fails
        # 0.985 → 0.90. A blob partly hidden behind another is not where the object is either.
        met = _collision_triples(d, k, changes) | {int(t) + s for t in np.flatnonzero(o.overlapped) for s in (-1, 0, 1)}
        if met:
            n_before = int((idx <= min(met)).sum())
            run = slice(0, n_before) if n_before >= 4 else _free_run(idx, met | _vertical_kicks(idx, y, d.fps))
            if run is None:
                continue
            idx, p, y = idx[run], p[run], y[run]
        g = vertical_acceleration(y, idx, d.fps)
        # Falls and bounces, and anything else that clearly accelerates up or down (orbits turn).
        if o.motion not in ("fall", "bounce") and (o.motion == "orbit" or g is None or abs(g) < 0.3 * GRAVITY):
            continue
        checks += 1
        w_checks += o.weight
        if g is not None and not 0.6 * GRAVITY < g < 1.5 * GRAVITY:
            fails.append(f"{o.colour} {o.shape}: acceleration {g:.2f} (gravity {GRAVITY} downward)")
            w_fails += o.weight
            continue
        r = np.sqrt(np.median(o.area[idx]) / np.pi)  # radius in min-side units
        sink = float((y + r * min(d.width, d.height) / d.height - FLOOR_Y).max())
        if sink > 0.06:
            fails.append(f"{o.colour} {o.shape}: below the floor by {sink:.2f}")
            w_fails += o.weight
    if not checks:
        return DimScore(None, None)
    hard = 1.0 - len(fails) / checks
    v = _weighted(1.0 - w_fails / w_checks if w_checks > 1e-6 else np.nan, hard)
    return DimScore(v, not fails, "; ".join(fails))


def _free_run(idx: np.ndarray, skip: set[int]) -> slice | None:
    """Positions in idx (seen frames) of the first run of two or more consecutive-frame triples
    whose middle frame is not in `skip` (None when there is none)."""
    start = None
    for i in range(1, len(idx) + 1):
        free = i < len(idx) - 1 and idx[i] - idx[i - 1] == 1 and idx[i + 1] - idx[i] == 1 and int(idx[i]) not in skip
        if free and start is None:
            start = i
        elif not free and start is not None:
            if i - start >= 2:
                return slice(start - 1, i + 1)
            start = None
    return None


def _vertical_kicks(idx: np.ndarray, y: np.ndarray, fps: float) -> set[int]:
    """Middle frames of the triples where the vertical velocity changes by more than twice what
    gravity would change it: a contact (landing on the floor, bouncing off it, or off a ceiling
    were gravity upside down), no free flight. Both ways alike, so a track that falls upward is
    judged on its flight too."""
    out: set[int] = set()
    for i in range(1, len(idx) - 1):
        v0, v1 = y[i] - y[i - 1], y[i + 1] - y[i]
        if abs(v1 - v0) > 2 * GRAVITY / fps**2:
            out.add(int(idx[i]))
    return out


def _collision_triples(d: Description, k: int, changes: list[dict[int, np.ndarray]]) -> set[int]:
    """Middle frames b of the triples (b-1, b, b+1) during which track k collides: another object
    meets it between the triple's ends (_meet) or touches it at one of them, and one of the two
    takes a kick then (an impulse, `_velocity_changes`, of at least gravity's own per frame).
    An object passing in front of another (one of them static, rotating or orbiting) is no
    collision: neither's flight changes."""
    o = d.objects[k]
    kick = GRAVITY / d.fps**2
    out: set[int] = set()
    for b in np.flatnonzero(o.visible):
        b = int(b)
        for j in range(len(d.objects)):
            if j == k or not (_meet(d, k, j, b) or any(_touching(d, k, j, t) for t in (b - 1, b + 1))):
                continue
            kicks = [v for i in (k, j) for t in (b, b + 1, b + 2) if (v := changes[i].get(t)) is not None]
            if any(np.linalg.norm(v) > kick for v in kicks):
                out.add(b)
                break
    return out


def _contact_frames(d: Description, k: int, reach: float = 1.15) -> set[int]:
    """Frames (±1) where track k touches another seen object: their discs (of the blobs' areas)
    come within `reach` radii, or their blobs' boxes touch (a blob half hidden by another is
    smaller than the object)."""
    o = d.objects[k]
    size = np.array([d.width, d.height]) / min(d.width, d.height)
    out: set[int] = set()
    for t in np.flatnonzero(o.near):
        out.update((int(t) - 1, int(t), int(t) + 1))
    for j, q in enumerate(d.objects):
        if j == k:
            continue
        both = np.flatnonzero(o.visible & q.visible)
        if not len(both):
            continue
        dist = np.linalg.norm((o.centre[both] - q.centre[both]) * size, axis=1)
        radii = np.sqrt(o.area[both] / np.pi) + np.sqrt(q.area[both] / np.pi)
        for t in both[dist < reach * radii]:
            out.update((int(t) - 1, int(t), int(t) + 1))
    return out


def permanence(d: Description) -> DimScore:
    """An object hidden for a while comes back near where its motion predicts, and does come back.

    Predictions after a gap: where it was, where its last velocity takes it, and the same under
    gravity; the nearest counts. An object last seen behind another one must be back once that
    place is uncovered (one that stays covered, or leaves the frame, is fine).

    Not judged: a gap with a cut in it (the view after it is another one), and, where the
    background cannot show the camera (camera "unknown"), a gap that starts with the object
    leaving the frame: out of view, it goes wherever the unseen camera takes the view, a cut
    that changes nothing else on a plain wall included.
    """
    gaps, fails = 0, []
    w_gaps, w_fails = 0.0, 0.0
    for k, o in enumerate(d.objects):
        idx = np.flatnonzero(o.visible)
        p = to_world(o.centre, d.camera_path)
        for a, b in zip(idx[:-1], idx[1:]):
            if b - a <= 1 or _near_cut(d, int(b)) or any(a < c <= b for c in d.cuts):
                continue
            if d.camera_motion == "unknown" and _at_edge(o, int(a), entering=False):
                continue
            gaps += 1
            w_gaps += o.weight
            # From the frames either side of the gap, and from the nearest whole views of the blob.
            ends = {(int(a), int(b)), _whole_ends(o, int(a), int(b), d.shot) or (int(a), int(b))}
            err = min(_miss(p, o, a0, b0, d.fps) for a0, b0 in ends)
            if err > 0.15 + 0.02 * (b - a):
                w_fails += o.weight
                fails.append(f"{o.colour} {o.shape} back at frame {b}, {err:.2f} from prediction")
        last = int(idx[-1]) if len(idx) else -1
        if 0 <= last < d.n_frames - 2 and not o.touches_border[last] and _hidden_near(d, k, last) \
                and not _near_cut(d, last):
            gaps += 1
            w_gaps += o.weight
            if _uncovered_after(d, k, last):
                w_fails += o.weight
                fails.append(f"{o.colour} {o.shape} hidden at frame {last} and never back")
    if not gaps:
        return DimScore(None, None)
    hard = 1.0 - len(fails) / gaps
    v = _weighted(1.0 - w_fails / w_gaps if w_gaps > 1e-6 else np.nan, hard)
    return DimScore(v, not fails, "; ".join(fails))


def _miss(p: np.ndarray, o: ObjectTrack, a: int, b: int, fps: float) -> float:
    """How far track o (world positions p) is at frame b from the nearest prediction made at
    frame a: staying where it was, going on at its last velocity, and the same under gravity."""
    v = p[a] - p[a - 1] if a >= 1 and o.visible[a - 1] else np.zeros(2)
    fall = np.array([0.0, 0.5 * GRAVITY * ((b - a) / fps) ** 2])
    preds = [p[a], p[a] + v * (b - a), p[a] + v * (b - a) + fall]
    return min(float(np.linalg.norm(p[b] - q)) for q in preds)


def _whole_ends(o: ObjectTrack, a: int, b: int, shot: np.ndarray) -> tuple[int, int] | None:
    """Frames to judge a gap (a, b) between besides a and b: the last one up to a, and the first
    one from b, where the blob's box touches no other blob's, each within the run of frames the
    track is seen without a break, in the same shot (None when either run has none). Going behind an occluder and
    coming out, the blob is partly hidden for a while: the centroid of what shows lags the object
    going in and leads it coming out, and its steps there are too short."""
    n = len(o.visible)
    before = next((t for t in range(a, -1, -1) if not o.visible[t] or not o.near[t]), -1)
    after = next((t for t in range(b, n) if not o.visible[t] or not o.near[t]), n)
    if before < 0 or after >= n or not (o.visible[before] and o.visible[after]):
        return None
    if shot[before] != shot[a] or shot[after] != shot[b]:
        return None
    return before, after


def _uncovered_after(d: Description, k: int, last: int) -> bool:
    """Whether, for two frames or more after `last`, no seen object covers where track k hid."""
    o = d.objects[k]
    side = min(d.width, d.height)
    size = np.array([d.width, d.height]) / side
    r = np.sqrt(max(o.area[last], 1e-6) / np.pi)
    open_frames = 0
    for t in range(last + 2, d.n_frames):
        covered = any(
            q.visible[t] and np.linalg.norm((q.centre[t] - o.centre[last]) * size) < np.sqrt(q.area[t] / np.pi) + 0.5 * r
            for j, q in enumerate(d.objects) if j != k
        )
        open_frames = 0 if covered else open_frames + 1
        if open_frames >= 2:
            return True
    return False


def hidden_camera(d: Description, e: Expected) -> str | None:
    """The camera axis ("x", "y", "zoom") the prompt moves but this background cannot show, if any.

    Then the camera cannot be judged, and neither can object motion (every object moving together
    looks like a camera move); physics too when the hidden move is vertical or a zoom.
    """
    if e.camera_motion == "zoom":
        need: tuple[str, ...] = ("zoom",)
    elif e.camera_motion == "pan":
        need = {"left": ("x",), "right": ("x",), "up": ("y",), "down": ("y",)}.get(e.camera_direction or "", ("x", "y"))
    else:
        return None
    missing = [a for a in need if a not in d.camera_observable]
    return missing[0] if missing else None


def score_description(d: Description, e: Expected) -> dict[str, DimScore]:
    seen = d.objects
    pairs = match(e.objects, seen)
    out: dict[str, DimScore] = {}
    for name in ("colour", "shape", "size", "motion"):
        out[name] = _attr_score(pairs, e.objects, seen, name)
    hidden = hidden_camera(d, e)
    why = f"camera {e.camera_motion} not observable on a {d.background} background"
    if e.objects:
        diff = abs(len(seen) - len(e.objects))
        # The value counts each track by how clearly it is seen (a faint one is a fraction).
        soft = sum(o.weight for o in seen)
        out["count"] = DimScore(1.0 - abs(soft - len(e.objects)) / max(soft, len(e.objects)), diff == 0,
                                f"asked {len(e.objects)}, seen {len(seen)}")
    else:
        out["count"] = DimScore(None, None)
    if e.background is None and e.background_colour is None:
        out["background"] = DimScore(None, None)
    else:
        ok = (e.background is None or e.background == d.background) and (
            e.background_colour is None or e.background_colour == d.background_colour)
        out["background"] = DimScore(float(ok), ok, f"seen {d.background} {d.background_colour or ''}".strip())
    if hidden is not None:
        out["camera"] = DimScore(None, None, why)
        out["motion"] = DimScore(None, None, why) if out["motion"].value is not None else out["motion"]
    elif e.camera_motion is None or d.camera_motion == "unknown":
        out["camera"] = DimScore(None, None, "" if e.camera_motion is None else "no texture to see the camera by")
    else:
        ok = e.camera_motion == d.camera_motion and (
            e.camera_motion == "static" or e.camera_direction is None or e.camera_direction == d.camera_direction)
        out["camera"] = DimScore(float(ok), ok, f"seen {d.camera_motion} {d.camera_direction or ''}".strip())
    out["consistency"] = consistency(d)
    out["flicker"] = flicker(d)
    out["smoothness"] = smoothness(d)
    # Framings count only when they match the cuts seen (else which shot is wide is unknown).
    framings = e.framings if len(e.framings) == len(d.cuts) + 1 else ()
    if e.framings and not framings and "wide" not in e.framings:
        framings = e.framings  # no wide shot anywhere: nothing to judge gravity by
    out["physics"] = DimScore(None, None, why) if hidden in ("y", "zoom") else physics(d, framings)
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
