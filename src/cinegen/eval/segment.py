"""Pixels → background model and per-colour object blobs, one frame at a time. Pure numpy + scipy.

An object pixel is explained as a blend between the local background colour b and one of the
world's object colours c: p ≈ b + α (c − b). Projecting onto that line gives the coverage α (so
anti-aliased and codec-blurred edges count fractionally) and a residual that says whether c is
the right colour at all. The background is modelled per frame from the frame itself, so a moving
camera or a cut needs no special case:

- solid:   one colour (the frame's median),
- sky:     one colour per row (a vertical gradient),
- checker: one of two colours per pixel (the two dominant non-object colours).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from cinegen.world.spec import BACKGROUND_COLOURS, COLOURS

COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)
PALETTE = np.array([COLOURS[c] for c in COLOUR_NAMES], dtype=np.float32)  # (K, 3)
BG_NAMES: tuple[str, ...] = tuple(BACKGROUND_COLOURS)
BG_PALETTE = np.array([BACKGROUND_COLOURS[c] for c in BG_NAMES], dtype=np.float32)  # (4, 3)

# Half the smallest distance between two object colours (orange-yellow, ~81): a pixel further
# than this from every blend line is not an object pixel.
MAX_RESIDUAL = 38.0
# A pixel counts toward the blob mask at half coverage or more.
MIN_ALPHA = 0.5


@dataclass
class Blob:
    """One connected component of one object colour in one frame (pixel units)."""

    colour: int  # index into COLOUR_NAMES
    area: float  # soft area in pixels (sum of coverage)
    centre: tuple[float, float]  # (x, y), coverage-weighted
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1), inclusive-exclusive
    mask: np.ndarray  # (h, w) float coverage inside box
    touches_border: bool


def _saturation(rgb: np.ndarray) -> np.ndarray:
    return rgb.max(axis=-1) - rgb.min(axis=-1)


def background_kind(frame: np.ndarray) -> str:
    """Classify one frame's background: 'solid', 'sky' or 'checker' (see module docstring)."""
    f = frame.astype(np.float32)
    rows = np.median(f, axis=1)  # (H, 3)
    resid = np.abs(f - rows[:, None, :]).max(axis=-1)  # (H, W)
    # A checker row differs from its median over about half its pixels; an object row less.
    textured = np.mean(resid > 12, axis=1) > 0.45  # (H,)
    if textured.mean() > 0.12:
        return "checker"
    span = (rows.max(axis=0) - rows.min(axis=0)).max()
    if span > 30:
        return "sky"
    return "solid"


def background_model(frame: np.ndarray, kind: str) -> np.ndarray:
    """Per-pixel background colour estimate, (H, W, 3) float32.

    Candidates: the row's median colour (solid, sky gradient, a plain wall) and, for checker, the
    frame's most common colours (the tiles); each pixel takes the nearest candidate.
    """
    f = frame.astype(np.float32)
    if kind == "solid":
        return np.broadcast_to(np.median(f.reshape(-1, 3), axis=0), f.shape)
    rows = np.broadcast_to(np.median(f, axis=1)[:, None, :], f.shape)
    if kind == "sky":
        return rows
    px = f.reshape(-1, 3)
    q = (px // 12).astype(np.int32)
    key = q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2]
    vals, counts = np.unique(key, return_counts=True)
    centres: list[np.ndarray] = []
    for k in vals[np.argsort(counts)[::-1][:8]]:
        c = np.median(px[key == k], axis=0)
        if all(np.abs(c - d).max() > 20 for d in centres):
            centres.append(c)
        if len(centres) == 3:
            break
    cand = np.concatenate([rows[:, :, None, :], np.broadcast_to(np.stack(centres), f.shape[:2] + (len(centres), 3))], axis=2)
    d = ((f[:, :, None, :] - cand) ** 2).sum(-1)  # (H, W, C)
    pick = np.argmin(d, axis=-1)
    return np.take_along_axis(cand, pick[..., None, None], 2)[:, :, 0]


def coverage(frame: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel best object colour and its coverage α in [0, 1].

    Returns (label (H, W) int, -1 = background; alpha (H, W) float32). Only pixels that differ
    from the background model are examined (most of a frame is background).
    """
    h, w, _ = frame.shape
    label = np.full((h, w), -1, dtype=np.int64)
    alpha_out = np.zeros((h, w), dtype=np.float32)
    p_all = frame.astype(np.float32)
    diff = np.abs(p_all - bg).max(axis=-1)
    sel = diff > 8.0
    if not sel.any():
        return label, alpha_out
    p, b = p_all[sel], np.asarray(bg)[sel]  # (P, 3)
    d = p - b
    e = PALETTE[None] - b[:, None, :]  # (P, K, 3)
    ee = (e * e).sum(-1) + 1e-6  # (P, K)
    alpha = (d[:, None, :] * e).sum(-1) / ee  # (P, K)
    a = np.clip(alpha, 0.0, 1.0)
    resid = np.sqrt(((d[:, None, :] - a[..., None] * e) ** 2).sum(-1))  # (P, K)
    # Colours indistinguishable from the background here cannot be seen on it.
    resid = np.where(ee > 40.0**2, resid, np.inf)
    best = np.argmin(resid, axis=-1)  # (P,)
    r = np.take_along_axis(resid, best[:, None], -1)[:, 0]
    al = np.take_along_axis(alpha, best[:, None], -1)[:, 0]
    ok = (r < MAX_RESIDUAL) & (al > 0.15)
    label[sel] = np.where(ok, best, -1)
    alpha_out[sel] = np.where(ok, np.clip(al, 0.0, 1.0), 0.0)
    return label, alpha_out


def blobs(frame: np.ndarray, kind: str, min_area: float) -> list[Blob]:
    """Object blobs in one frame: components of each colour, fragments of one object merged."""
    h, w, _ = frame.shape
    bg = background_model(frame, kind)
    label, alpha = coverage(frame, bg)
    out: list[Blob] = []
    structure = np.ones((3, 3), dtype=bool)
    for k in np.unique(label):
        if k < 0:
            continue
        hard = (label == k) & (alpha >= MIN_ALPHA)
        if not hard.any():
            continue
        # Dilate before labelling: fragments split by a thin occluder or codec noise join up.
        grown = ndimage.binary_dilation(hard, structure, iterations=1)
        comp, n = ndimage.label(grown, structure)
        soft = np.where(label == k, alpha, 0.0)
        for i, sl in enumerate(ndimage.find_objects(comp), start=1):
            m = (comp[sl] == i) * soft[sl]
            area = float(m.sum())
            if area < min_area:
                continue
            ys, xs = np.mgrid[sl[0], sl[1]]
            cx = float((m * (xs + 0.5)).sum() / area)
            cy = float((m * (ys + 0.5)).sum() / area)
            y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
            border = x0 <= 0 or y0 <= 0 or x1 >= w or y1 >= h
            out.append(Blob(int(k), area, (cx, cy), (x0, y0, x1, y1), m.astype(np.float32), border))
    return out


def nearest_background_colour(colour: np.ndarray) -> str:
    d = ((BG_PALETTE - colour[None].astype(np.float32)) ** 2).sum(-1)
    return BG_NAMES[int(np.argmin(d))]
