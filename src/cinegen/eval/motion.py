"""Motion of one object track: static, move (8 directions), bounce, fall, rotate, grow, shrink, orbit.

Works on the track in world-normalised coordinates: the camera path (from camera.py) is undone
first, so a static object under a panning camera stays static. Rules are checked from the most
specific pattern to the least (orbit, bounce, fall, move, grow/shrink, rotate, static).
"""
from __future__ import annotations

import numpy as np

from cinegen.world.spec import DIRECTIONS

MIN_TRAVEL = 0.06  # normalised displacement below which an object has not moved
MIN_SCALE_CHANGE = 1.25  # area ratio for grow / shrink (area grows as scale²)
MIN_TURN = 0.35  # radians of rotation over the clip
MIN_ACCEL = 0.8  # normalised units / s² that tells falling from constant-speed descent
REST_SPEED = 0.05  # normalised units / s: slower than this an object is at rest
MIN_REBOUND = 0.02  # normalised rise after a floor contact that makes a bounce


def to_world(centre: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Undo the camera: image = (world − 0.5) · s + 0.5 + d  ⇒  world = (image − 0.5 − d) / s + 0.5."""
    return (centre - 0.5 - path[:, :2]) / path[:, 2:3] + 0.5


def direction_name(v: np.ndarray) -> str:
    names = list(DIRECTIONS)
    vecs = np.array([DIRECTIONS[n] for n in names])
    return names[int(np.argmax(vecs @ (v / (np.linalg.norm(v) + 1e-12))))]


def _fit_circle(p: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Algebraic circle fit (Kasa): returns centre, radius, rms residual."""
    a = np.column_stack([2 * p[:, 0], 2 * p[:, 1], np.ones(len(p))])
    b = (p**2).sum(1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    c = sol[:2]
    r = float(np.sqrt(max(sol[2] + (c**2).sum(), 1e-12)))
    res = float(np.sqrt(np.mean((np.linalg.norm(p - c, axis=1) - r) ** 2)))
    return c, r, res


def _line_dist(p: np.ndarray) -> float:
    """RMS distance of points from their best straight line (the minor principal axis)."""
    q = p - p.mean(0)
    return float(np.linalg.svd(q, compute_uv=False)[-1] / np.sqrt(len(p)))


def _runs(idx: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index ranges of consecutive frames in idx."""
    breaks = [0, *(np.flatnonzero(np.diff(idx) != 1) + 1).tolist(), len(idx)]
    return list(zip(breaks[:-1], breaks[1:]))


def _floor_contacts(y: np.ndarray) -> list[int]:
    """Indices of the lowest points on screen (local maxima of y, which points down)."""
    return [k for k in range(1, len(y) - 1) if y[k] >= y[k - 1] and y[k] > y[k + 1]]


def flight_acceleration(y: np.ndarray, idx: np.ndarray, fps: float, skip_contacts: bool = False) -> float | None:
    """Median vertical acceleration over consecutive-frame triples while the object moves.

    Samples of a free flight have second differences of exactly g·dt², so the median over the
    moving triples is the acceleration; a floor contact is one outlying triple (a velocity flip)
    and frames at rest are left out by their near-zero velocity.

    skip_contacts: also leave out every triple that touches a floor contact (a lowest point on
    screen, where y has a local maximum) or the frame after it. A decoder smears a contact over
    two or three frames and jitters the centroid: with bounces a few frames apart the smeared
    triples then outvote the flights between them, and a bouncing ball reads as gliding.
    """
    acc = []
    for a, b in _runs(idx):
        yy = y[a:b]
        near: set[int] = set()
        if skip_contacts:
            near = {k + s for k in _floor_contacts(yy) for s in (0, 1)}
        for k in range(1, len(yy) - 1):
            if near & {k - 1, k, k + 1}:
                continue
            v0, v1 = (yy[k] - yy[k - 1]) * fps, (yy[k + 1] - yy[k]) * fps
            if max(abs(v0), abs(v1)) > REST_SPEED:
                acc.append((v1 - v0) * fps)
    return float(np.median(acc)) if len(acc) >= 2 else None


def vertical_acceleration(y: np.ndarray, idx: np.ndarray, fps: float) -> float | None:
    """The larger of the two readings of flight_acceleration: all triples are right on clean
    renders (a collision is one outlier among them), the flights between contacts under a
    decoder's smear; either alone misses some falls. On the 500 renders of the agreement test
    the pair agrees with ground truth exactly as often as all triples alone (motion, physics)."""
    found = [v for v in (flight_acceleration(y, idx, fps), flight_acceleration(y, idx, fps, skip_contacts=True))
             if v is not None]
    return max(found) if found else None


def first_leg(p: np.ndarray, idx: np.ndarray, turn: float = 0.7) -> np.ndarray:
    """Displacement from the first position to the last one before the path turns sharply
    (a step more than ~45° off the heading so far, cos < `turn`) or a frame is missing; zero
    when that leg is under three steps (too short to trust a heading)."""
    k = 0
    for j in range(1, len(p)):
        if idx[j] - idx[j - 1] != 1:
            break
        step, heading = p[j] - p[j - 1], p[k] - p[0] if k else p[j] - p[j - 1]
        n0, n1 = float(np.linalg.norm(step)), float(np.linalg.norm(heading))
        if k and n0 > 0.005 and n1 > 0.005 and float(step @ heading) < turn * n0 * n1:
            break
        k = j
    return p[k] - p[0] if k >= 3 else np.zeros(2)


def _bounces(y: np.ndarray) -> bool:
    """Down by a clear drop, then up again from a lowest point (a floor contact), y pointing down."""
    for k in _floor_contacts(y):
        drop = y[k] - y[: k + 1].min()
        rise = y[k] - y[k + 1 : k + 4].min()
        if drop > MIN_TRAVEL and rise > MIN_REBOUND:
            return True
    return False


def judged_shot(seen: np.ndarray, shot: np.ndarray, whole: np.ndarray | None = None) -> int | None:
    """The shot an object's motion is judged in: the earliest in which it is seen at least half
    as long as in the shot where it is seen longest (None when it is never seen). Frames where
    it is seen `whole` (not cut by the frame edge or hidden in part) count, when there are any:
    a close framing may cut an object that the next, wider shot shows entire.

    The opening shot comes first because a prompt states the opening shot's camera (as
    camera.classify_path judges it): under a later shot's unstated camera move over a plain
    background, every object drifts or scales and that cannot be told from its own motion.
    """
    if not seen.any():
        return None
    use = seen & whole if whole is not None and (seen & whole).any() else seen
    counts = np.bincount(shot[use], minlength=int(shot.max(initial=0)) + 1)
    return int(np.flatnonzero(counts >= max(0.5 * counts.max(), min(3, counts.max())))[0])


def _steady_speed(p: np.ndarray, idx: np.ndarray, whole: np.ndarray) -> bool:
    """Whether a path moves at a steady speed (an orbit does; a fall speeds up and a collision
    kicks): the spread of its frame steps, over consecutive frames with the whole blob in view,
    is small beside their median (the slack covers centroid noise at 64 pixels)."""
    ok = (np.diff(idx) == 1) & whole[1:] & whole[:-1]
    steps = np.linalg.norm(np.diff(p, axis=0), axis=1)[ok]
    if len(steps) < 3:
        return True  # too few clean steps to tell
    lo, mid, hi = np.percentile(steps, [20, 50, 80])
    return bool(hi - lo < 0.5 * mid + 0.006)


def turned_angle(ang: np.ndarray, order: int, shot: np.ndarray) -> tuple[float, float]:
    """(net turn, total |turn|) in radians of an orientation track ang (T,), NaN where unknown,
    summed over consecutive frames of one shot, each step taken modulo the shape's symmetry
    period (a gap, where the blob touches the frame edge, may hide half a period: unwrapping
    across it would guess). A cut reframes the view but turns nothing, so every shot counts."""
    ok = np.isfinite(ang[1:]) & np.isfinite(ang[:-1]) & (shot[1:] == shot[:-1])
    d = np.angle(np.exp(1j * order * np.diff(ang)))[ok] / order  # (k,) wrapped to ±period / 2
    return float(d.sum()), float(np.abs(d).sum())


def classify_motion(centre: np.ndarray, area: np.ndarray, angle: np.ndarray, visible: np.ndarray,
                    clipped: np.ndarray, shape: str, fps: float, path: np.ndarray,
                    shot: np.ndarray, axis_clipped: np.ndarray | None = None) -> tuple[str, str | None]:
    """(motion, direction) of one track; direction for move (8-way) and orbit (cw / ccw).

    `clipped` (T,) marks frames where the blob is not all there (cut by the frame edge, or
    overlapping another object): its area and centroid are then not the object's own.
    `axis_clipped` (T, 2), where known, marks frames where the frame edge cuts the blob, per
    centroid coordinate it spoils: an edge on the left or right shifts x and leaves y as it is.
    """
    best = judged_shot(visible, shot, ~clipped)
    if best is None:
        return "static", None
    sel = visible & (shot == best)
    idx = np.flatnonzero(sel)
    if len(idx) < 3:
        return "static", None
    p = to_world(centre, path)[idx]  # (k, 2)
    s2 = path[idx, 2] ** 2
    a = area[idx] / s2
    full = ~clipped[idx]
    # Net travel between the first and last thirds' medians: a passing occluder shifts a few
    # centroids, not the medians. Per coordinate, over the frames where the frame edge does not
    # cut the blob on that axis (when there are three): an object the edge cuts more and more
    # (under a zoom) slides its centroid along for as long as it is seen.
    net = np.zeros(2)
    for ax in (0, 1):
        keep = ~axis_clipped[idx, ax] if axis_clipped is not None else np.ones(len(idx), dtype=bool)
        if keep.sum() < 2:
            continue  # cut all along: no travel seen on this axis
        q = p[keep, ax]
        third = max(1, len(q) // 3)
        net[ax] = np.median(q[-third:]) - np.median(q[:third])
    travel = float(np.linalg.norm(net))
    span = float(np.linalg.norm(p.max(0) - p.min(0)))
    # Orbit: a circle fits much better than a line and a good part of a turn is swept.
    if span > MIN_TRAVEL and len(idx) >= 5:
        c, r, res = _fit_circle(p)
        if r > 0.04 and res < 0.2 * r and r < 0.6:
            ang = np.unwrap(np.arctan2(p[:, 1] - c[1], p[:, 0] - c[0]))
            sweep = float(ang[-1] - ang[0])
            if abs(sweep) > 0.9 and _line_dist(p) > 3 * res + 0.004 and _steady_speed(p, idx, full):
                # y points down, so an increasing angle turns clockwise on screen.
                return "orbit", "cw" if sweep > 0 else "ccw"
    y = p[:, 1]
    g = vertical_acceleration(y, idx, fps)
    # Bounce: a floor contact, and falling in between (a collision turns a mover, not gravity).
    if _bounces(y) and g is not None and g > MIN_ACCEL:
        return "bounce", None
    # Fall: downward, speeding up at a good part of gravity (a steady descent is "move"). It may
    # drift sideways: a collision gives it a push, and it slides along the floor after landing.
    if net[1] > MIN_TRAVEL and g is not None and g > MIN_ACCEL:
        return "fall", None
    if travel > MIN_TRAVEL:
        # Direction of travel up to the first sharp turn (a collision deflects the object), else
        # from the first half.
        whole = full.sum() >= 3  # blobs cut by the edge or half hidden shift the centroid
        leg = first_leg(p[full], idx[full]) if whole else first_leg(p, idx)
        half = idx <= idx[0] + (idx[-1] - idx[0]) / 2
        early = p[half][-1] - p[0] if half.sum() >= 3 else net
        for v in (leg, early):
            if np.linalg.norm(v) > MIN_TRAVEL / 2:
                return "move", direction_name(v)
        return "move", direction_name(net)
    a_full = a[full] if full.sum() >= 2 else a  # two whole views: no change in size to see
    k = max(2, len(a_full) // 4)
    ratio = float(np.median(a_full[-k:]) / max(np.median(a_full[:k]), 1e-9))
    if ratio > MIN_SCALE_CHANGE:
        return "grow", None
    if ratio < 1 / MIN_SCALE_CHANGE:
        return "shrink", None
    from cinegen.eval.shapes import symmetry_order

    order = symmetry_order(shape)
    ang = np.where(visible, angle, np.nan)
    clean = np.where(clipped, np.nan, ang)  # a blob half covered by another has a skewed orientation
    pairs = np.isfinite(clean[1:]) & np.isfinite(clean[:-1])
    if order:
        net_turn, total = turned_angle(clean if pairs.sum() >= 3 else ang, order, shot)
        # Turning one way: noise on a still shape goes both ways and sums to little.
        if abs(net_turn) > MIN_TURN and abs(net_turn) > 0.3 * total:
            return "rotate", None
    return "static", None
