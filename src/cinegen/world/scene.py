"""Sample random but plausible scenes from a seed.

Objects start inside the frame and are chosen to stay mostly visible: straight movers start on
the side they move away from, with a speed that keeps them in frame for the whole clip; bouncing
and falling objects start in the air above the floor; orbits stay inside the frame.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from cinegen.common.errors import InputError
from cinegen.world.spec import (
    BACKGROUND_COLOURS,
    BACKGROUNDS,
    CAMERA_MOTIONS,
    COLOURS,
    DIRECTIONS,
    FLOOR_Y,
    FRAMINGS,
    MOTIONS,
    PAN_DIRECTIONS,
    SHAPES,
    SIZES,
    ZOOM_DIRECTIONS,
    BackgroundSpec,
    CameraSpec,
    ObjectSpec,
    SceneSpec,
    ShotSpec,
)

# Keys `fixed` may pin. Object keys pin the first object (the subject); the others stay random.
OBJECT_KEYS = ("shape", "colour", "size", "motion", "direction", "speed", "start", "depth")
SCENE_KEYS = ("background", "background_colour", "camera", "camera_direction", "camera_speed", "n_shots", "framings")
MOTION_WEIGHTS = {"static": 1.0, "move": 3.0, "bounce": 2.0, "fall": 1.0, "rotate": 1.0, "grow": 0.7, "shrink": 0.7, "orbit": 1.0}
TURN_DIRECTIONS = ("cw", "ccw")
MARGIN = 0.08  # keep centres at least this far inside the frame edge (normalised)


def _choice(rng: np.random.Generator, options: Any, weights: dict[str, float] | None = None) -> Any:
    options = list(options)
    if weights is None:
        return options[int(rng.integers(len(options)))]
    p = np.array([weights[o] for o in options])
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _check(name: str, value: Any, allowed: Any) -> None:
    if value not in allowed:
        raise InputError(f"{name} must be one of {sorted(allowed)}, got {value!r}")


def _object(rng: np.random.Generator, colour: str, duration: float, pin: dict[str, Any]) -> ObjectSpec:
    shape = pin.get("shape") or _choice(rng, SHAPES)
    size = pin.get("size") or _choice(rng, SIZES)
    motion = pin.get("motion") or _choice(rng, MOTIONS, MOTION_WEIGHTS)
    for name, value, allowed in (("shape", shape, SHAPES), ("size", size, SIZES), ("motion", motion, MOTIONS)):
        _check(name, value, allowed)
    r = SIZES[size] / 2
    lo, hi = max(MARGIN, r), 1.0 - max(MARGIN, r)
    direction = pin.get("direction")
    start = (float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi)))
    speed = 0.0
    if motion == "move":
        direction = direction or _choice(rng, DIRECTIONS)
        _check("direction", direction, DIRECTIONS)
        dx, dy = DIRECTIONS[direction]
        # Start on the side the object moves away from; cap speed so it stays inside.
        travel = float(rng.uniform(0.3, 0.6))
        sx = 0.5 - math.copysign(travel / 2, dx) if dx else start[0]
        sy = 0.5 - math.copysign(travel / 2, dy) if dy else start[1]
        start = (float(np.clip(sx, lo, hi)), float(np.clip(sy, lo, hi)))
        speed = min(float(rng.uniform(0.15, 0.4)), travel / duration)
    elif motion == "bounce":
        direction = direction if "direction" in pin else _choice(rng, ("left", "right", None))
        _check("direction", direction, ("left", "right", None))
        start = (start[0], float(rng.uniform(max(r, 0.12), 0.45)))
        speed = float(rng.uniform(0.1, 0.3)) if direction else 0.0
    elif motion == "fall":
        direction = None
        start = (start[0], float(rng.uniform(max(r, 0.1), min(0.4, FLOOR_Y - 2 * r))))
    elif motion in ("rotate", "orbit"):
        direction = direction or _choice(rng, TURN_DIRECTIONS)
        _check("direction", direction, TURN_DIRECTIONS)
        speed = float(rng.uniform(1.5, 3.5)) if motion == "rotate" else float(rng.uniform(1.0, 2.5))
        if motion == "orbit":
            dist = float(rng.uniform(0.15, 0.45 - r))
            a = float(rng.uniform(0, 2 * math.pi))
            start = (0.5 + dist * math.cos(a), 0.5 + dist * math.sin(a))
    elif motion in ("grow", "shrink"):
        direction = None
        end = float(rng.uniform(1.5, 2.0)) if motion == "grow" else float(rng.uniform(0.4, 0.6))
        speed = abs(end - 1.0) / duration
    else:
        direction = None
    speed = float(pin.get("speed", speed))
    start = tuple(pin.get("start", start))  # type: ignore[assignment]
    return ObjectSpec(shape=shape, colour=colour, size=size, motion=motion, direction=direction, start=start, speed=speed)


def _camera(rng: np.random.Generator, duration: float, motion: str | None, direction: str | None, speed: float | None) -> CameraSpec:
    motion = motion or _choice(rng, CAMERA_MOTIONS, {"static": 3.0, "pan": 1.0, "zoom": 1.0})
    _check("camera", motion, CAMERA_MOTIONS)
    if motion == "static":
        return CameraSpec()
    if motion == "pan":
        direction = direction or _choice(rng, PAN_DIRECTIONS)
        _check("camera_direction", direction, PAN_DIRECTIONS)
        default = min(float(rng.uniform(0.05, 0.15)), 0.25 / duration)  # at most a quarter frame
    else:
        direction = direction or _choice(rng, ZOOM_DIRECTIONS)
        _check("camera_direction", direction, ZOOM_DIRECTIONS)
        default = min(float(rng.uniform(0.15, 0.35)), 0.8 / duration)  # at most 1.8x
    return CameraSpec(motion=motion, direction=direction, speed=speed if speed is not None else default)


def sample_scene(seed: int, duration: float = 2.0, n_objects: int | None = None, **fixed: Any) -> SceneSpec:
    """A random, plausible scene for `seed`; `fixed` pins attributes (see OBJECT_KEYS, SCENE_KEYS).

    Example: sample_scene(3, background="checker", motion="bounce", colour="red", camera="pan").
    Object attributes pin the first object; n_shots >= 2 makes a multi-shot scene.
    """
    unknown = set(fixed) - set(OBJECT_KEYS) - set(SCENE_KEYS)
    if unknown:
        raise InputError(f"sample_scene cannot pin {sorted(unknown)}; use {OBJECT_KEYS + SCENE_KEYS}")
    if not duration > 0:
        raise InputError(f"duration must be positive, got {duration}")
    rng = np.random.default_rng(seed)
    n = n_objects if n_objects is not None else int(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
    if not 1 <= n <= 3:
        raise InputError(f"n_objects must be 1..3, got {n}")
    kind = fixed.get("background") or _choice(rng, BACKGROUNDS)
    _check("background", kind, BACKGROUNDS)
    bg_colour = fixed.get("background_colour") or _choice(rng, BACKGROUND_COLOURS)
    _check("background_colour", bg_colour, BACKGROUND_COLOURS)
    first = fixed.get("colour")
    if first is not None:
        _check("colour", first, COLOURS)
    others = [c for c in COLOURS if c != first]
    colours = [others[int(k)] for k in rng.permutation(len(others))]  # distinct colours per scene
    if first is not None:
        colours.insert(0, first)
    pin = {k: fixed[k] for k in OBJECT_KEYS if k in fixed and k != "colour"}
    objects = []
    depths = [int(d) for d in rng.permutation(n)]
    for i in range(n):
        obj = _object(rng, colours[i], duration, pin if i == 0 else {})
        depth = int(pin["depth"]) if i == 0 and "depth" in pin else depths[i]
        objects.append(dataclasses.replace(obj, depth=depth))
    camera = _camera(rng, duration, fixed.get("camera"), fixed.get("camera_direction"), fixed.get("camera_speed"))
    shots: tuple[ShotSpec, ...] = ()
    n_shots = int(fixed.get("n_shots", 0))
    if n_shots >= 2:
        framings = list(fixed.get("framings") or [_choice(rng, FRAMINGS) for _ in range(n_shots)])
        if len(framings) != n_shots:
            raise InputError(f"framings must list {n_shots} framings, got {len(framings)}")
        for f in framings:
            _check("framing", f, FRAMINGS)
        shots = tuple(
            ShotSpec(duration=duration / n_shots, framing=f, camera=camera if k == 0 else _camera(rng, duration, None, None, None))
            for k, f in enumerate(framings)
        )
    return SceneSpec(
        background=BackgroundSpec(kind=kind, colour=bg_colour),
        objects=tuple(objects),
        camera=camera,
        duration=float(duration),
        seed=int(seed),
        shots=shots,
    )
