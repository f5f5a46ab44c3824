"""Shapes as signed distance functions, in units of the object's radius (circumradius 1).

Points are in image coordinates (x right, y down), already moved to the object's centre and
unrotated. Formulas after Inigo Quilez, "2D distance functions" (iquilezles.org). Each shape's
centroid is its centre, so the pixel centroid of an unoccluded object is its truth centre.
"""
from __future__ import annotations

import math

import numpy as np

SQRT3 = math.sqrt(3.0)
SQUARE_HALF = 0.8  # a square of half-side 0.8 has about the area of the unit circle
STAR_INNER = 0.45  # star inner-vertex parameter (iq's rf)


def _box(x: np.ndarray, y: np.ndarray, half: float) -> np.ndarray:
    dx, dy = np.abs(x) - half, np.abs(y) - half
    outside = np.hypot(np.maximum(dx, 0.0), np.maximum(dy, 0.0))
    return outside + np.minimum(np.maximum(dx, dy), 0.0)


def _triangle(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Equilateral, pointing up on screen, circumradius 1 (half side r = sqrt(3)/2).
    r, k = SQRT3 / 2.0, SQRT3
    px = np.abs(x) - r
    py = -y + r / k
    flip = px + k * py > 0.0
    qx = np.where(flip, (px - k * py) / 2.0, px)
    qy = np.where(flip, (-k * px - py) / 2.0, py)
    qx = qx - np.clip(qx, -2.0 * r, 0.0)
    return -np.hypot(qx, qy) * np.sign(qy)


def _hexagon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Flat top and bottom, circumradius 1 (inradius sqrt(3)/2).
    kx, ky, kz = -0.866025404, 0.5, 0.577350269
    r = SQRT3 / 2.0
    px, py = np.abs(x), np.abs(y)
    d = 2.0 * np.minimum(kx * px + ky * py, 0.0)
    px, py = px - d * kx, py - d * ky
    px = px - np.clip(px, -kz * r, kz * r)
    py = py - r
    return np.hypot(px, py) * np.sign(py)


def _star(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # Five points, one pointing up on screen, outer radius 1.
    k1x, k1y = 0.809016994375, -0.587785252292
    k2x, k2y = -k1x, k1y
    px, py = np.abs(x), -y
    d = 2.0 * np.maximum(k1x * px + k1y * py, 0.0)
    px, py = px - d * k1x, py - d * k1y
    d = 2.0 * np.maximum(k2x * px + k2y * py, 0.0)
    px, py = px - d * k2x, py - d * k2y
    px = np.abs(px)
    py = py - 1.0
    bax, bay = STAR_INNER * -k1y, STAR_INNER * k1x - 1.0
    h = np.clip((px * bax + py * bay) / (bax * bax + bay * bay), 0.0, 1.0)
    return np.hypot(px - bax * h, py - bay * h) * np.sign(py * bax - px * bay)


def sdf(shape: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) of `shape` at unit-space points (x, y)."""
    if shape == "circle":
        return np.hypot(x, y) - 1.0
    if shape == "square":
        return _box(x, y, SQUARE_HALF)
    if shape == "diamond":  # the square turned 45 degrees, corners at distance 1
        c = math.sqrt(0.5)
        return _box((x + y) * c, (y - x) * c, c)
    if shape == "triangle":
        return _triangle(x, y)
    if shape == "hexagon":
        return _hexagon(x, y)
    if shape == "star":
        return _star(x, y)
    raise ValueError(f"unknown shape {shape!r}")


def _vertices() -> dict[str, np.ndarray]:
    star = [(math.sin(a), -math.cos(a)) for a in np.arange(5) * 2 * math.pi / 5]
    hexagon = [(math.cos(a), math.sin(a)) for a in np.arange(6) * math.pi / 3]
    s = SQUARE_HALF
    return {
        "square": np.array([(-s, -s), (s, -s), (s, s), (-s, s)]),
        "diamond": np.array([(0, -1), (1, 0), (0, 1), (-1, 0)], dtype=float),
        "triangle": np.array([(0, -1), (SQRT3 / 2, 0.5), (-SQRT3 / 2, 0.5)]),
        "hexagon": np.array(hexagon),
        "star": np.array(star),
    }


VERTICES = _vertices()  # outer vertices, unit space: enough for exact bounding boxes


def extent(shape: str) -> float:
    """Largest distance from the centre to the shape's outline, in radius units."""
    if shape == "circle":
        return 1.0
    return float(np.hypot(*VERTICES[shape].T).max())


def bounding_boxes(shape: str, angle: np.ndarray) -> np.ndarray:
    """Axis-aligned box (T, 4) = (x0, y0, x1, y1) in unit space after clockwise rotation."""
    if shape == "circle":
        return np.tile(np.array([-1.0, -1.0, 1.0, 1.0]), (len(angle), 1))
    v = VERTICES[shape]  # (V, 2)
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = c * v[:, 0] - s * v[:, 1]  # (T, V)
    y = s * v[:, 0] + c * v[:, 1]
    return np.stack([x.min(1), y.min(1), x.max(1), y.max(1)], axis=1)
