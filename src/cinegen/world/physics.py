"""World physics: each object's centre, angle and scale at any time, for any frame shape.

Physics runs in "m-space": units of min(width, height), so a circle stays round and speeds are
isotropic in pixels whatever the aspect ratio; x spans [0, width / m], y spans [0, height / m].
Gravity and the floor are given in normalised y (spec.py), so a fall takes the same time at any
frame shape. Kinematic motions (static, rotate, grow, shrink, orbit) are closed form; dynamic
ones (move, bounce, fall) are integrated once per (spec, aspect) on a fixed 1/240 s grid with
exact floor-contact times and elastic collisions, then sampled at any time by linear
interpolation, so every fps sees the same trajectory.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from cinegen.world.spec import DIRECTIONS, FLOOR_Y, GRAVITY, SIZES, ObjectSpec, SceneSpec

DT = 1.0 / 240.0  # integration step, seconds
RESTITUTION = 0.8  # bounce: vertical speed kept after hitting the floor (apex height × 0.64)
REST_SPEED = 0.08  # m-units/s: a bounce slower than this settles on the floor
DYNAMIC = ("move", "bounce", "fall")  # integrated, and collide with each other
MAX_GROW, MIN_SHRINK = 3.0, 0.2  # scale limits for grow / shrink
ORBIT_CENTRE = (0.5, 0.5)  # normalised: orbits circle the middle of the frame


def radius(obj: ObjectSpec) -> float:
    """Object radius at scale 1, in units of min(width, height)."""
    return SIZES[obj.size] / 2.0


def mass(obj: ObjectSpec) -> float:
    """Mass used by collisions: proportional to area."""
    return radius(obj) ** 2


def turn_sign(obj: ObjectSpec) -> float:
    """+1 clockwise on screen (y points down), -1 counterclockwise."""
    return -1.0 if obj.direction == "ccw" else 1.0


@dataclass(frozen=True)
class ObjectStates:
    centre: np.ndarray  # (T, N, 2) normalised (x / width, y / height)
    angle: np.ndarray  # (T, N) radians, clockwise on screen
    scale: np.ndarray  # (T, N) size multiplier


def _aspect(width: int, height: int) -> tuple[float, float]:
    m = min(width, height)
    return width / m, height / m


def _kinematic(obj: ObjectSpec, t: np.ndarray, ax: float, ay: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed-form (centre (T, 2) in m-space, angle (T,), scale (T,)) of a non-dynamic object."""
    centre = np.tile(np.array([obj.start[0] * ax, obj.start[1] * ay]), (len(t), 1))
    angle = np.zeros_like(t)
    scale = np.ones_like(t)
    if obj.motion == "rotate":
        angle = turn_sign(obj) * obj.speed * t
    elif obj.motion == "grow":
        scale = np.minimum(1.0 + obj.speed * t, MAX_GROW)
    elif obj.motion == "shrink":
        scale = np.maximum(1.0 - obj.speed * t, MIN_SHRINK)
    elif obj.motion == "orbit":
        cx, cy = ORBIT_CENTRE[0] * ax, ORBIT_CENTRE[1] * ay
        r = math.hypot(centre[0, 0] - cx, centre[0, 1] - cy)
        a = math.atan2(centre[0, 1] - cy, centre[0, 0] - cx) + turn_sign(obj) * obj.speed * t
        centre = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=1)
    return centre, angle, scale


def _initial_velocity(obj: ObjectSpec) -> tuple[float, float]:
    if obj.motion == "move":
        dx, dy = DIRECTIONS[obj.direction]
        n = math.hypot(dx, dy)
        return obj.speed * dx / n, obj.speed * dy / n
    if obj.motion == "bounce" and obj.direction in ("left", "right"):
        return (obj.speed if obj.direction == "right" else -obj.speed), 0.0
    return 0.0, 0.0


def _fall_step(y: float, vy: float, r: float, g: float, floor: float, e: float) -> tuple[float, float]:
    """Advance (y, vy) by DT under gravity, bouncing off the floor at the exact contact time."""
    y1 = y + vy * DT + 0.5 * g * DT * DT
    if y1 + r <= floor:
        return y1, vy + g * DT
    # Contact: solve 0.5 g tc^2 + vy tc + (y + r - floor) = 0 for the first tc in [0, DT].
    c = min(y + r - floor, 0.0)
    tc = (-vy + math.sqrt(max(vy * vy - 2.0 * g * c, 0.0))) / g
    tc = min(max(tc, 0.0), DT)
    vb = -e * max(vy + g * tc, 0.0)
    if abs(vb) < REST_SPEED:
        return floor - r, 0.0  # settled
    rem = DT - tc
    return min(floor - r + vb * rem + 0.5 * g * rem * rem, floor - r), vb + g * rem


@functools.lru_cache(maxsize=512)
def _simulate(spec: SceneSpec, ax: float, ay: float, horizon: float) -> tuple[tuple[int, ...], np.ndarray]:
    """Integrate the dynamic objects; returns (their indices, positions (K, D, 2) in m-space)."""
    dyn = [i for i, o in enumerate(spec.objects) if o.motion in DYNAMIC]
    objs = [spec.objects[i] for i in dyn]
    x = [o.start[0] * ax for o in objs]
    y = [o.start[1] * ay for o in objs]
    v = [_initial_velocity(o) for o in objs]
    vx = [a for a, _ in v]
    vy = [b for _, b in v]
    r = [radius(o) for o in objs]
    m = [mass(o) for o in objs]
    falls = [o.motion in ("bounce", "fall") for o in objs]
    e = [RESTITUTION if o.motion == "bounce" else 0.0 for o in objs]
    g, floor = GRAVITY * ay, FLOOR_Y * ay
    n_steps = int(math.ceil(horizon / DT)) + 1
    out = np.empty((n_steps + 1, len(objs), 2))
    out[0, :, 0], out[0, :, 1] = x, y
    for k in range(1, n_steps + 1):
        for j in range(len(objs)):
            x[j] += vx[j] * DT
            if falls[j]:
                y[j], vy[j] = _fall_step(y[j], vy[j], r[j], g, floor, e[j])
                # Side walls: reflect the horizontal velocity.
                if x[j] < r[j] and vx[j] < 0 or x[j] > ax - r[j] and vx[j] > 0:
                    vx[j] = -vx[j]
            else:
                y[j] += vy[j] * DT
        # Elastic collisions between dynamic objects, treated as discs of their radius.
        for a in range(len(objs)):
            for b in range(a + 1, len(objs)):
                dx, dy = x[b] - x[a], y[b] - y[a]
                dist = math.hypot(dx, dy)
                if dist >= r[a] + r[b] or dist == 0.0:
                    continue
                nx, ny = dx / dist, dy / dist
                rel = (vx[b] - vx[a]) * nx + (vy[b] - vy[a]) * ny
                if rel < 0.0:  # approaching: equal and opposite impulses conserve momentum
                    j_imp = -2.0 * rel / (1.0 / m[a] + 1.0 / m[b])
                    vx[a] -= j_imp / m[a] * nx
                    vy[a] -= j_imp / m[a] * ny
                    vx[b] += j_imp / m[b] * nx
                    vy[b] += j_imp / m[b] * ny
                # Push apart in inverse proportion to mass so they do not stay interpenetrated.
                overlap = r[a] + r[b] - dist
                wa, wb = m[b] / (m[a] + m[b]), m[a] / (m[a] + m[b])
                x[a] -= overlap * wa * nx
                y[a] -= overlap * wa * ny
                x[b] += overlap * wb * nx
                y[b] += overlap * wb * ny
                for i in (a, b):
                    if falls[i] and y[i] + r[i] > floor:
                        y[i] = floor - r[i]
                        vy[i] = min(vy[i], 0.0)
        out[k, :, 0], out[k, :, 1] = x, y
    out.flags.writeable = False
    return tuple(dyn), out


def object_states(spec: SceneSpec, times: np.ndarray, width: int = 1, height: int = 1) -> ObjectStates:
    """Every object's state at `times` (seconds) for a frame of width × height (aspect only)."""
    times = np.asarray(times, dtype=np.float64)
    ax, ay = _aspect(width, height)
    n, t_count = len(spec.objects), len(times)
    centre = np.zeros((t_count, n, 2))
    angle = np.zeros((t_count, n))
    scale = np.ones((t_count, n))
    for i, obj in enumerate(spec.objects):
        if obj.motion not in DYNAMIC:
            centre[:, i], angle[:, i], scale[:, i] = _kinematic(obj, times, ax, ay)
    if any(o.motion in DYNAMIC for o in spec.objects):
        # Round the horizon up to whole seconds so different fps and lengths share one simulation.
        horizon = float(math.ceil(max(spec.duration, float(times.max(initial=0.0))) + 1e-9))
        dyn, path = _simulate(spec, ax, ay, horizon)
        s = np.clip(times / DT, 0.0, len(path) - 1.0)
        i0 = np.minimum(np.floor(s).astype(np.int64), len(path) - 2)
        f = (s - i0)[:, None, None]
        centre[:, list(dyn)] = path[i0] * (1.0 - f) + path[i0 + 1] * f
    centre[..., 0] /= ax
    centre[..., 1] /= ay
    return ObjectStates(centre=centre, angle=angle, scale=scale)
