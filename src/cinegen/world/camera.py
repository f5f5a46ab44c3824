"""The camera: per-frame (offset_x, offset_y, zoom) and shot index for a scene.

A world point p (normalised) appears on screen at (p - 0.5 - offset) * zoom + 0.5. Panning left
moves the offset left, so the world slides right across the frame; zooming in grows `zoom`.
Multi-shot scenes reframe the same world: each shot starts framed on the objects (wide,
medium or close-up) and then applies its own camera motion.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from cinegen.world.spec import CameraSpec, SceneSpec, ShotSpec

FRAMING_ZOOM = {"wide": 1.0, "medium": 1.6, "close-up": 2.4}
PAN_VECTORS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}


def _motion(camera: CameraSpec, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(offset delta (T, 2), zoom factor (T,)) after `dt` seconds of this camera motion."""
    offset = np.zeros((len(dt), 2))
    zoom = np.ones(len(dt))
    if camera.motion == "pan":
        offset = np.outer(dt * camera.speed, PAN_VECTORS[camera.direction])
    elif camera.motion == "zoom":
        grow = 1.0 + camera.speed * dt
        zoom = grow if camera.direction == "in" else 1.0 / grow
    return offset, zoom


def shots_of(spec: SceneSpec) -> tuple[ShotSpec, ...]:
    """The shots of a scene; a single-shot scene is one wide shot with the scene camera."""
    return spec.shots or (ShotSpec(duration=spec.duration, framing="wide", camera=spec.camera),)


def camera_path(
    spec: SceneSpec, times: np.ndarray, centres_at: Callable[[float], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Return camera (T, 3) float32 = (offset_x, offset_y, zoom) and shot (T,) int32.

    `centres_at(t)` gives the objects' normalised centres (N, 2) at time t; a shot with a
    tighter framing centres on them at its start (clamped so the view stays on the stage).
    """
    times = np.asarray(times, dtype=np.float64)
    shots = shots_of(spec)
    starts = np.concatenate([[0.0], np.cumsum([s.duration for s in shots])[:-1]])
    shot = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(shots) - 1)
    camera = np.zeros((len(times), 3))
    for k, s in enumerate(shots):
        sel = shot == k
        if not sel.any():
            continue
        zoom0 = FRAMING_ZOOM[s.framing]
        offset0 = np.zeros(2)
        if zoom0 > 1.0:
            target = centres_at(float(starts[k])).mean(axis=0) - 0.5
            limit = 0.5 - 0.5 / zoom0
            offset0 = np.clip(target, -limit, limit)
        d_offset, d_zoom = _motion(s.camera, times[sel] - starts[k])
        camera[sel, :2] = offset0 + d_offset
        camera[sel, 2] = zoom0 * d_zoom
    return camera.astype(np.float32), shot.astype(np.int32)
