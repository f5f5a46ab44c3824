"""Sora-style prompt expansion: a short prompt -> a long caption in the training captions' style.

Every attribute the prompt states is kept; the rest are filled with plain defaults (medium size,
static, a static camera, a plain gray background) or, where there is no neutral choice (an
unstated colour or shape, a direction for "moving"), drawn from `seed`. The long caption is then
written by captions.py, so the text the model sees at sampling time matches its training text.
"""
from __future__ import annotations

import numpy as np

from cinegen.world.captions import make_captions
from cinegen.world.parse import MOTION_DIRECTIONS, ParsedObject, parse_prompt
from cinegen.world.spec import (
    COLOURS,
    DIRECTIONS,
    SHAPES,
    BackgroundSpec,
    CameraSpec,
    ObjectSpec,
    SceneSpec,
    ShotSpec,
)

DEFAULT_BACKGROUND = BackgroundSpec(kind="solid", colour="gray")
DEFAULT_SIZE = "medium"
DEFAULT_MOTION = "static"


def _object(p: ParsedObject, rng: np.random.Generator, used: set[str], depth: int) -> ObjectSpec:
    free = [c for c in COLOURS if c not in used] or list(COLOURS)
    colour = p.colour or free[int(rng.integers(len(free)))]
    shape = p.shape or SHAPES[int(rng.integers(len(SHAPES)))]
    motion = p.motion or DEFAULT_MOTION
    direction = p.direction
    if direction is None and motion == "move":
        direction = list(DIRECTIONS)[int(rng.integers(len(DIRECTIONS)))]
    if direction is None and motion in ("rotate", "orbit"):
        direction = ("cw", "ccw")[int(rng.integers(2))]
    if direction is not None and direction not in MOTION_DIRECTIONS.get(motion, set()):
        direction = None
    return ObjectSpec(shape=shape, colour=colour, size=p.size or DEFAULT_SIZE, motion=motion, direction=direction, depth=depth)


def expand_spec(text: str, seed: int = 0) -> SceneSpec:
    """The scene a short prompt describes, with unstated attributes filled (see module doc)."""
    parsed = parse_prompt(text)
    rng = np.random.default_rng(seed)
    objects = parsed.objects[:3] or [ParsedObject()]
    used: set[str] = {o.colour for o in objects if o.colour}
    specs = []
    for depth, p in enumerate(objects):
        obj = _object(p, rng, used, depth)
        used.add(obj.colour)
        specs.append(obj)
    if parsed.background is None:
        background = DEFAULT_BACKGROUND
    else:
        background = BackgroundSpec(kind=parsed.background, colour=parsed.background_colour or DEFAULT_BACKGROUND.colour)
    camera = CameraSpec()
    if parsed.camera_motion == "pan":
        camera = CameraSpec("pan", parsed.camera_direction or ("left", "right")[int(rng.integers(2))], 0.1)
    elif parsed.camera_motion == "zoom":
        camera = CameraSpec("zoom", parsed.camera_direction or "in", 0.25)
    shots = tuple(ShotSpec(duration=1.0, framing=f, camera=camera) for f in parsed.framings) if len(parsed.framings) > 1 else ()
    return SceneSpec(background=background, objects=tuple(specs), camera=camera, seed=seed, shots=shots)


def expand_prompt(text: str, seed: int = 0) -> str:
    """A long descriptive caption that keeps every attribute `text` states; deterministic per seed."""
    spec = expand_spec(text, seed)
    return make_captions(spec, np.random.default_rng(seed), n_short=1, n_long=1).long[0]


__all__ = ["expand_prompt", "expand_spec"]
