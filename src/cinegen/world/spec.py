"""The procedural world's vocabulary and scene spec: the contract shared by world, eval and data.

Coordinates are normalised to the frame of a static camera: x to the right, y downward, both in
[0, 1] (x is scaled by the frame width, y by the height). Time is in seconds, so one spec renders
at any size and frame rate. Pure Python, no numpy needed to read a spec.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

# Object colours: saturated and far apart in hue, so an evaluator can name them from pixels.
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (225, 35, 35),
    "orange": (250, 140, 20),
    "yellow": (245, 220, 35),
    "green": (35, 175, 60),
    "cyan": (30, 205, 220),
    "blue": (35, 75, 230),
    "purple": (135, 55, 205),
    "pink": (250, 120, 190),
}
# Colours a solid background may have: low saturation, so objects stand out.
BACKGROUND_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (18, 18, 22),
    "gray": (118, 118, 122),
    "white": (236, 236, 232),
    "brown": (96, 68, 44),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "star", "hexagon")
# Size class → object diameter as a fraction of min(width, height).
SIZES: dict[str, float] = {"small": 0.12, "medium": 0.2, "large": 0.3}
BACKGROUNDS: tuple[str, ...] = ("solid", "sky", "checker")  # solid colour, sky-and-ground gradient, checker floor
MOTIONS: tuple[str, ...] = ("static", "move", "bounce", "fall", "rotate", "grow", "shrink", "orbit")
# Directions of travel, as unit vectors in image coordinates (y down).
DIRECTIONS: dict[str, tuple[float, float]] = {
    "right": (1.0, 0.0),
    "up-right": (0.7071, -0.7071),
    "up": (0.0, -1.0),
    "up-left": (-0.7071, -0.7071),
    "left": (-1.0, 0.0),
    "down-left": (-0.7071, 0.7071),
    "down": (0.0, 1.0),
    "down-right": (0.7071, 0.7071),
}
CAMERA_MOTIONS: tuple[str, ...] = ("static", "pan", "zoom")
PAN_DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")  # the way the camera turns
ZOOM_DIRECTIONS: tuple[str, ...] = ("in", "out")
FRAMINGS: tuple[str, ...] = ("wide", "medium", "close-up")
FLOOR_Y = 0.88  # the floor line that bouncing and falling objects land on
GRAVITY = 2.5  # normalised units / s^2


@dataclass(frozen=True)
class ObjectSpec:
    shape: str
    colour: str
    size: str
    motion: str = "static"
    direction: str | None = None  # for "move" (one of DIRECTIONS) and "orbit" ("cw" / "ccw")
    start: tuple[float, float] = (0.5, 0.5)  # centre at t = 0, normalised
    speed: float = 0.0  # units/s for move, rad/s for rotate and orbit, scale/s for grow/shrink
    depth: int = 0  # draw order: higher is nearer, drawn on top (occludes lower)

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown shape {self.shape!r}")
        if self.colour not in COLOURS:
            raise ValueError(f"unknown colour {self.colour!r}")
        if self.size not in SIZES:
            raise ValueError(f"unknown size {self.size!r}")
        if self.motion not in MOTIONS:
            raise ValueError(f"unknown motion {self.motion!r}")
        if self.motion == "move" and self.direction not in DIRECTIONS:
            raise ValueError(f"motion 'move' needs a direction in {sorted(DIRECTIONS)}")


@dataclass(frozen=True)
class BackgroundSpec:
    kind: str = "solid"
    colour: str = "gray"  # for "solid"; ignored otherwise

    def __post_init__(self) -> None:
        if self.kind not in BACKGROUNDS:
            raise ValueError(f"unknown background {self.kind!r}")
        if self.kind == "solid" and self.colour not in BACKGROUND_COLOURS:
            raise ValueError(f"unknown background colour {self.colour!r}")


@dataclass(frozen=True)
class CameraSpec:
    motion: str = "static"
    direction: str | None = None  # pan: PAN_DIRECTIONS; zoom: ZOOM_DIRECTIONS
    speed: float = 0.0  # pan: units/s; zoom: relative scale change per second

    def __post_init__(self) -> None:
        if self.motion not in CAMERA_MOTIONS:
            raise ValueError(f"unknown camera motion {self.motion!r}")
        if self.motion == "pan" and self.direction not in PAN_DIRECTIONS:
            raise ValueError(f"pan needs a direction in {PAN_DIRECTIONS}")
        if self.motion == "zoom" and self.direction not in ZOOM_DIRECTIONS:
            raise ValueError(f"zoom needs a direction in {ZOOM_DIRECTIONS}")


@dataclass(frozen=True)
class ShotSpec:
    """One shot of a multi-shot scene: the same objects seen with another framing and camera."""

    duration: float
    framing: str = "wide"
    camera: CameraSpec = field(default_factory=CameraSpec)

    def __post_init__(self) -> None:
        if self.duration <= 0:
            raise ValueError("shot duration must be positive")
        if self.framing not in FRAMINGS:
            raise ValueError(f"unknown framing {self.framing!r}")


@dataclass(frozen=True)
class SceneSpec:
    background: BackgroundSpec
    objects: tuple[ObjectSpec, ...]
    camera: CameraSpec = field(default_factory=CameraSpec)
    duration: float = 2.0  # seconds
    seed: int = 0
    shots: tuple[ShotSpec, ...] = ()  # empty: one shot with `camera` for `duration`

    def __post_init__(self) -> None:
        if not 1 <= len(self.objects) <= 3:
            raise ValueError("a scene has 1 to 3 objects")
        if self.duration <= 0:
            raise ValueError("duration must be positive")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "SceneSpec":
        return SceneSpec(
            background=BackgroundSpec(**d["background"]),
            objects=tuple(
                ObjectSpec(**{**o, "start": tuple(o["start"])}) for o in d["objects"]
            ),
            camera=CameraSpec(**d.get("camera", {})),
            duration=d.get("duration", 2.0),
            seed=d.get("seed", 0),
            shots=tuple(
                ShotSpec(duration=s["duration"], framing=s.get("framing", "wide"), camera=CameraSpec(**s.get("camera", {})))
                for s in d.get("shots", ())
            ),
        )
