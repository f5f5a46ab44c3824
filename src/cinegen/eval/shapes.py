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


def _moments(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, centred complex positions z and |z| of the covered pixels of a soft mask."""
    h, w = mask.shape
    m = mask.astype(np.float64)
    total = m.sum() + 1e-9
    cx = (m.sum(0) * np.arange(w)).sum() / total
    cy = (m.sum(1) * np.arange(h)).sum() / total
    ys, xs = np.nonzero(m > 0)
    z = (xs - cx) + 1j * (ys - cy)
    return m[ys, xs], z, np.abs(z)


def symmetry_features(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strength per order in ORDERS, phase per order) of a soft mask (h, w)."""
    mz, z, r = _moments(mask)
    strength, phase = [], []
    zk, rk = z * z, r * r
    for _ in ORDERS:  # orders 2, 3, ... built up by repeated multiplication
        c = (mz * zk).sum()
        strength.append(abs(c) / ((mz * rk).sum() + 1e-9))
        phase.append(np.angle(c))
        zk, rk = zk * z, rk * r
    return np.array(strength), np.array(phase)


def fill_ratio(mask: np.ndarray) -> float:
    """Area over the area of the disc with the same second moment (1 for a disc)."""
    mz, _, r = _moments(mask)
    a = mz.sum() + 1e-9
    j = (mz * r * r).sum()  # polar moment; a disc has a² / 2π
    return float(a * a / (2 * np.pi * j + 1e-9))


def features(mask: np.ndarray) -> np.ndarray:
    """Symmetry strengths (ORDERS) and the fill ratio: the vector classify_shape compares."""
    return np.append(symmetry_features(mask)[0], fill_ratio(mask))


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
        out[shape] = np.mean([features(m) for m in masks], axis=0)
    return out


def shape_distances(masks: list[np.ndarray], feats: list[np.ndarray] | None = None) -> dict[str, float]:
    """L1 distance of the masks' median features to each shape's template (the square stands for
    the diamond too: they differ only by orientation)."""
    if feats is None:
        feats = [features(m) for m in masks]
    f = np.median(np.stack(feats), axis=0)
    area = float(np.median([m.sum() for m in masks]))
    # Quantise the area (log scale) so the template cache stays small.
    # Past ~1500 px the features no longer change with size, so larger blobs share one template.
    q = int(round(np.exp(round(np.log(min(max(area, 4.0), 1500.0)) * 8) / 8)))
    return {s: float(np.abs(f - t).sum()) for s, t in _templates(q).items()}


# A view shows another shape only when its best template is this much nearer than the track's
# shape's (as a share of the best distance): ragged generated blobs sit 0.8-1.5 from every template,
# and where the watermark flipped a dev video's shape the top two were 0.3-8% apart.
DRIFT_MARGIN = 0.25


def clearly_other(masks: list[np.ndarray], feats: list[np.ndarray] | None, shape: str) -> bool:
    """Whether the masks show another shape than `shape` by a clear margin: the best template beats
    `shape`'s by DRIFT_MARGIN of its distance. A ragged blob between two templates (a disc or a
    hexagon) is no evidence of a change of shape, and a grey level of noise moves it across."""
    dist = shape_distances(masks, feats)
    own = dist.get("square" if shape == "diamond" else shape, np.inf)
    return bool(own > (1.0 + DRIFT_MARGIN) * min(dist.values()))


def classify_shape(masks: list[np.ndarray], feats: list[np.ndarray] | None = None) -> tuple[str, float]:
    """Name the shape seen in several masks of one object; returns (shape, margin of the vote).

    The first mask decides square vs diamond (the same shape turned 45°): give the earliest view.
    """
    dist = shape_distances(masks, feats)
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
    mz, z, _ = _moments(mask)
    return float(np.angle((mz * z**k).sum()) / k)


def symmetry_order(shape: str) -> int:
    return {"triangle": 3, "square": 4, "diamond": 4, "star": 5, "hexagon": 6}.get(shape, 0)
