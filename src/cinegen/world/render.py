"""Render a SceneSpec to frames with per-frame ground truth, vectorised over time.

Objects are drawn with analytic anti-aliasing: coverage = clip(0.5 - signed distance in pixels,
0, 1). They are composited front to back (nearest first) in one pass, which also gives each
object's visible fraction after occlusion by nearer objects and by the frame edge. Each object is
rasterised only inside a fixed-size window that follows it, gathered for all frames at once.
Pixel (row i, column j) covers [j, j + 1) x [i, i + 1); its centre is (j + 0.5, i + 0.5).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cinegen.common.errors import InputError
from cinegen.world.camera import camera_path
from cinegen.world.physics import object_states, radius
from cinegen.world.shapes import bounding_boxes, extent, sdf
from cinegen.world.spec import BACKGROUND_COLOURS, COLOURS, SceneSpec

HORIZON_Y = 0.7  # normalised world y where the sky meets the ground and the wall meets the floor
SKY_TOP, SKY_HORIZON = (105, 160, 225), (195, 222, 245)
GROUND_NEAR, GROUND_FAR = (112, 150, 84), (140, 168, 104)
WALL = (200, 192, 178)
CHECKER_LIGHT, CHECKER_DARK = (214, 214, 210), (150, 150, 146)
CHECKER_CELL = 0.125  # checker square side, in units of min(width, height)
MAX_SIDE = 4096


@dataclass(frozen=True)
class ObjectTruth:
    centre: np.ndarray  # (T, 2) float pixels (x, y)
    box: np.ndarray  # (T, 4) float pixels (x0, y0, x1, y1), not clipped to the frame
    visible: np.ndarray  # (T,) fraction of the object's area visible, in [0, 1]
    angle: np.ndarray  # (T,) radians, clockwise on screen
    scale: np.ndarray  # (T,) size multiplier (grow / shrink)


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray  # (T, H, W, 3) uint8
    fps: float
    spec: SceneSpec
    truth: list[ObjectTruth] = field(default_factory=list)  # one per object, spec order
    camera: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))  # (T, 3)
    shot: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int32))  # (T,)


def _pixel_to_world(camera: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Normalised world coordinate (T, n) of pixel centres along x (axis 0) or y (axis 1)."""
    screen = (np.arange(n) + 0.5) / n - 0.5  # (n,)
    return screen[None, :] / camera[:, 2:3] + 0.5 + camera[:, axis : axis + 1]


def _ramp(d_px: np.ndarray) -> np.ndarray:
    """Anti-aliased step: 0 well below an edge, 1 well above, linear across one pixel."""
    return np.clip(d_px + 0.5, 0.0, 1.0)


def _background(spec: SceneSpec, camera: np.ndarray, width: int, height: int) -> np.ndarray:
    """Background colour, broadcastable to (T, H, W, 3), float32 in [0, 255]."""
    bg = spec.background
    if bg.kind == "solid":
        return np.array(BACKGROUND_COLOURS[bg.colour], np.float32).reshape(1, 1, 1, 3)
    wy = _pixel_to_world(camera, height, 1)  # (T, H)
    zoom = camera[:, 2:3]
    below = _ramp((wy - HORIZON_Y) * height * zoom)[..., None]  # (T, H, 1) ground / floor share
    if bg.kind == "sky":
        up = np.clip(wy / HORIZON_Y, 0.0, 1.0)[..., None]
        down = np.clip((wy - HORIZON_Y) / (1.0 - HORIZON_Y), 0.0, 1.0)[..., None]
        sky = np.array(SKY_TOP) + (np.array(SKY_HORIZON) - np.array(SKY_TOP)) * up
        ground = np.array(GROUND_FAR) + (np.array(GROUND_NEAR) - np.array(GROUND_FAR)) * down
        rows = sky * (1.0 - below) + ground * below  # (T, H, 3)
        return rows[:, :, None, :].astype(np.float32)
    # Checker floor below the horizon (separable anti-aliased square waves), plain wall above.
    m = min(width, height)
    wx = _pixel_to_world(camera, width, 0)  # (T, W)
    cell_px = CHECKER_CELL * m * zoom  # (T, 1) pixels per checker square

    def wave(u: np.ndarray) -> np.ndarray:  # u in cells -> +1 / -1 with a one-pixel ramp
        frac = np.mod(u, 2.0)
        to_edge = np.minimum(np.mod(frac, 1.0), 1.0 - np.mod(frac, 1.0))
        sign = np.where(frac < 1.0, 1.0, -1.0)
        return sign * np.clip(2.0 * to_edge * cell_px, 0.0, 1.0)

    sx = wave(wx * width / (CHECKER_CELL * m)).astype(np.float32)  # (T, W)
    sy = wave((wy - HORIZON_Y) * height / (CHECKER_CELL * m)).astype(np.float32)  # (T, H)
    light = 0.5 + 0.5 * sx[:, None, :] * sy[:, :, None]  # (T, H, W) share of the light colour
    below = below.astype(np.float32)  # (T, H, 1)
    dark = np.array(CHECKER_DARK, np.float32)
    step = np.array(CHECKER_LIGHT, np.float32) - dark
    # wall * (1 - below) + (dark + step * light) * below, with one full-size (T, H, W, 3) pass.
    base = np.array(WALL, np.float32) * (1.0 - below[..., None]) + dark * below[..., None]  # (T, H, 1, 3)
    return base + (light * below)[..., None] * step


def render(
    spec: SceneSpec, width: int = 64, height: int = 64, fps: float = 8.0, n_frames: int | None = None
) -> Clip:
    """Render `spec`: frame i shows time i / fps; n_frames None -> round(duration * fps) + 1."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise InputError(f"frame size must be 1..{MAX_SIDE} pixels per side, got {width}x{height}")
    if not fps > 0:
        raise InputError(f"fps must be positive, got {fps}")
    if n_frames is None:
        n_frames = int(round(spec.duration * fps)) + 1
    if n_frames < 1:
        raise InputError(f"n_frames must be at least 1, got {n_frames}")
    times = np.arange(n_frames) / fps
    states = object_states(spec, times, width, height)
    camera, shot = camera_path(
        spec, times, lambda t: object_states(spec, np.array([t]), width, height).centre[0]
    )
    cam = camera.astype(np.float64)
    zoom = cam[:, 2]  # (T,)
    m = min(width, height)
    size = np.array([width, height], np.float64)
    # Screen position of every centre: (p - 0.5 - offset) * zoom + 0.5, in pixels.
    centre_px = ((states.centre - 0.5 - cam[:, None, :2]) * zoom[:, None, None] + 0.5) * size  # (T, N, 2)

    plane = (height + 1) * (width + 1)  # one spare row and column receive out-of-frame pixels
    occ = np.zeros(n_frames * plane, np.float32)  # coverage by nearer objects so far
    acc = np.zeros((n_frames * plane, 3), np.float32)  # premultiplied colour so far
    truth: list[ObjectTruth | None] = [None] * len(spec.objects)
    order = sorted(range(len(spec.objects)), key=lambda i: -spec.objects[i].depth)  # nearest first
    for i in order:
        obj = spec.objects[i]
        r_px = radius(obj) * m * states.scale[:, i] * zoom  # (T,)
        cx, cy = centre_px[:, i, 0], centre_px[:, i, 1]
        half = int(np.ceil(extent(obj.shape) * r_px.max())) + 2
        side = 2 * half
        x0 = np.floor(cx).astype(np.int64) - half + 1  # (T,) window origin
        y0 = np.floor(cy).astype(np.int64) - half + 1
        ix = x0[:, None] + np.arange(side)  # (T, S) pixel columns
        iy = y0[:, None] + np.arange(side)  # (T, S)
        a = states.angle[:, i]
        c, s = np.cos(a)[:, None, None], np.sin(a)[:, None, None]
        inv_r = (1.0 / np.maximum(r_px, 1e-6))[:, None, None]
        dx = ((ix + 0.5) - cx[:, None])[:, None, :] * inv_r  # (T, 1, S) unit space
        dy = ((iy + 0.5) - cy[:, None])[:, :, None] * inv_r  # (T, S, 1)
        d = sdf(obj.shape, c * dx + s * dy, c * dy - s * dx)  # (T, S, S) unrotated local frame
        cov = np.clip(0.5 - d / inv_r, 0.0, 1.0).astype(np.float32)  # (T, S, S)
        total = cov.sum(axis=(1, 2))
        in_x = (ix >= 0) & (ix < width)
        in_y = (iy >= 0) & (iy < height)
        cov *= in_y[:, :, None] & in_x[:, None, :]
        col = np.where(in_x, ix, width)  # out-of-frame -> the spare column
        row = np.where(in_y, iy, height)
        flat = (np.arange(n_frames)[:, None, None] * (height + 1) + row[:, :, None]) * (width + 1) + col[:, None, :]
        vis = cov * (1.0 - occ[flat])  # (T, S, S) this object's visible coverage
        occ[flat] += vis  # in-frame indices are unique; duplicates only hit the spare pixels (vis 0)
        acc[flat] += vis[..., None] * np.array(COLOURS[obj.colour], np.float32)
        unit_box = bounding_boxes(obj.shape, a)  # (T, 4)
        box = unit_box * r_px[:, None] + np.concatenate([centre_px[:, i], centre_px[:, i]], axis=1)
        truth[i] = ObjectTruth(
            centre=centre_px[:, i].copy(),
            box=box,
            visible=np.where(total > 0, vis.sum(axis=(1, 2)) / np.maximum(total, 1e-9), 0.0).clip(0.0, 1.0),
            angle=a.copy(),
            scale=states.scale[:, i].copy(),
        )
    occ_img = occ.reshape(n_frames, height + 1, width + 1)[:, :height, :width, None]
    acc_img = acc.reshape(n_frames, height + 1, width + 1, 3)[:, :height, :width]
    frames = acc_img + (1.0 - occ_img) * _background(spec, cam, width, height)
    frames = np.clip(frames + 0.5, 0.0, 255.0).astype(np.uint8)
    return Clip(frames=frames, fps=float(fps), spec=spec, truth=truth, camera=camera, shot=shot)  # type: ignore[arg-type]
