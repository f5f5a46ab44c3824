"""Shape of a blob from its soft mask, rotation-invariant, by symmetry moments.

A shape with k-fold rotational symmetry has complex moments Σ m(z) (z − z̄0)^k that do not cancel,
while those of other orders do (Flusser, "On the independence of rotation moment invariants",
2000). So |c_k| / Σ m r^k is near zero for every k on a disc, and peaks at k = 3 for a triangle,
4 for a square or diamond, 5 for a star, 6 for a hexagon. The phase of c_k / k is the orientation,
which makes rotation measurable. Templates are rasterised here from the world's shape definitions
at the same pixel size as the blob (from world.shapes' distance functions), so pixelation
affects both sides alike.
"""
from __future__ import annotations

import functools

import numpy as np

from cinegen.world.shapes import sdf
from cinegen.world.spec import SHAPES

ORDERS = (2, 3, 4, 5, 6)


def symmetry_features(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strength per order in ORDERS, phase per order) of a soft mask (h, w)."""
    h, w = mask.shape
    ys, xs = np.mgrid[0:h, 0:w]
    m = mask.astype(np.float64)
    total = m.sum() + 1e-9
    cx, cy = (m * xs).sum() / total, (m * ys).sum() / total
    z = (xs - cx) + 1j * (ys - cy)
    r = np.abs(z)
    strength, phase = [], []
    for k in ORDERS:
        c = (m * z**k).sum()
        strength.append(abs(c) / ((m * r**k).sum() + 1e-9))
        phase.append(np.angle(c))
    return np.array(strength), np.array(phase)


def fill_ratio(mask: np.ndarray) -> float:
    """Area over the area of the disc with the same second moment (1 for a disc)."""
    h, w = mask.shape
    ys, xs = np.mgrid[0:h, 0:w]
    m = mask.astype(np.float64)
    a = m.sum() + 1e-9
    cx, cy = (m * xs).sum() / a, (m * ys).sum() / a
    j = (m * ((xs - cx) ** 2 + (ys - cy) ** 2)).sum()  # polar moment; a disc has a² / 2π
    return float(a * a / (2 * np.pi * j + 1e-9))


def rasterise(shape: str, radius_px: float, angle: float = 0.0, supersample: int = 4) -> np.ndarray:
    """Soft coverage mask of a world shape (world.shapes.sdf) with the given radius in pixels."""
    size = int(np.ceil(2.4 * radius_px)) + 3
    n = size * supersample
    ys, xs = (np.mgrid[0:n, 0:n] + 0.5) / supersample - size / 2
    c, s = np.cos(angle), np.sin(angle)
    # Unrotate the sample points (the angle is clockwise on screen, y down).
    u = (c * xs + s * ys) / radius_px
    v = (-s * xs + c * ys) / radius_px
    inside = sdf(shape, u, v) < 0
    return inside.reshape(size, supersample, size, supersample).mean(axis=(1, 3))


@functools.lru_cache(maxsize=None)
def unit_area(shape: str) -> float:
    """Area of a shape of radius 1 (in the world's shape units)."""
    return float(rasterise(shape, 200.0, 0.0, 1).sum() / 200.0**2)


@functools.lru_cache(maxsize=256)
def _templates(area_px: int) -> dict[str, np.ndarray]:
    """Mean features of each shape at a given area (averaged over a few angles)."""
    out = {}
    for shape in SHAPES:
        if shape == "diamond":
            continue  # the square turned 45 degrees: told apart by orientation, see classify_shape
        radius = np.sqrt(area_px / unit_area(shape))
        masks = [rasterise(shape, radius, a) for a in (0.0, 0.13, 0.31, 0.52)]
        feats = [np.append(symmetry_features(m)[0], fill_ratio(m)) for m in masks]
        out[shape] = np.mean(feats, axis=0)
    return out


def classify_shape(masks: list[np.ndarray]) -> tuple[str, float]:
    """Name the shape seen in several masks of one object; returns (shape, margin of the vote)."""
    feats = [np.append(symmetry_features(m)[0], fill_ratio(m)) for m in masks]
    f = np.median(np.stack(feats), axis=0)
    area = float(np.median([m.sum() for m in masks]))
    # Quantise the area (log scale) so the template cache stays small.
    q = int(round(np.exp(round(np.log(max(area, 4.0)) * 8) / 8)))
    tpl = _templates(q)
    dist = {s: float(np.abs(f - t).sum()) for s, t in tpl.items()}
    ranked = sorted(dist, key=dist.get)
    name = ranked[0]
    if name == "square":
        # Square: edges along the axes (corners at 45°), diamond: corners on the axes. The phase
        # of the order-4 moment is π for the first and 0 for the second; judge the first view.
        _, phase = symmetry_features(masks[0])
        if np.cos(phase[ORDERS.index(4)]) > 0:
            name = "diamond"
    return name, dist[ranked[1]] - dist[ranked[0]]


def orientation(mask: np.ndarray, shape: str) -> float:
    """Orientation angle (radians, modulo the shape's symmetry) from the phase of its symmetry moment."""
    k = symmetry_order(shape) or None
    if k is None:
        return float("nan")
    _, phase = symmetry_features(mask)
    return float(phase[ORDERS.index(k)] / k)


def symmetry_order(shape: str) -> int:
    return {"triangle": 3, "square": 4, "diamond": 4, "star": 5, "hexagon": 6}.get(shape, 0)
