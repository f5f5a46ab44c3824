"""Pixels → background model and per-colour object blobs, for a whole video at once. numpy + scipy.

An object pixel is explained as a blend between the local background colour b and one of the
world's object colours c: p ≈ b + α (c − b). Projecting onto that line gives the coverage α (so
anti-aliased and codec-blurred edges count fractionally) and a residual that says whether c is
the right colour at all. The background is modelled per frame from the frame itself, so a moving
camera or a cut needs no special case:

- solid:   one colour per frame (the frame's median),
- sky:     one colour per row (a vertical gradient),
- checker: per pixel the nearest of the row's median, the video's dominant non-object colours
           (tiles, wall) and the tiles' mean (their anti-aliased edges).

Everything is vectorised over frames: the per-frame Python work is only the blob bookkeeping.
"""
from __future__ import annotations

import warnings
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
MIN_ALPHA = 0.5  # a pixel counts toward the blob mask at half its blob's peak coverage or more
SEED_ALPHA = 0.4  # a blob needs a pixel at this coverage or more (its peak)
# Hysteresis in time: a blob peaking at SEED_LOW or more is kept where it continues (overlaps, the
# frame before or after) a blob that reached SEED_ALPHA. A faint generated object whose peak hovers
# at SEED_ALPHA would otherwise come and go with a grey level of noise (a watermark), and with it
# its track's appearances, count and smoothness; noise never reaching SEED_ALPHA stays out.
SEED_LOW = 0.3
DIFF_MIN = 8.0  # a pixel this close to its background model is background (codec noise)
CUT_CONTACT = 0.5  # edge contact (pixels) over sqrt(area) beyond which a blob is cut (~2% of a disc out)
# 2-D connectivity inside each frame of a (T, H, W) volume: never link across time.
PLANE = np.zeros((3, 3, 3), dtype=bool)
PLANE[1] = True
TIME = np.zeros((3, 3, 3), dtype=bool)  # the same pixel in the frame before and after
TIME[:, 1, 1] = True


@dataclass
class Blob:
    """One connected component of one object colour in one frame (pixel units)."""

    colour: int  # index into COLOUR_NAMES
    area: float  # soft area in pixels (sum of coverage)
    centre: tuple[float, float]  # (x, y), coverage-weighted
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1), inclusive-exclusive
    mask: np.ndarray  # (h, w) float coverage inside box
    touches_border: bool
    # Cut by the left/right and by the top/bottom frame edge: the blob meets the edge along more
    # than CUT_CONTACT of its size, so a good part of it is out of view there (a shape that only
    # grazes the edge is nearly whole, and its centroid and area are still its own).
    cut: tuple[bool, bool] = (False, False)


def background_kind(frame: np.ndarray) -> str:
    """Classify one frame's background: 'solid', 'sky' or 'checker'."""
    f = frame.astype(np.float32)
    rows = np.median(f, axis=1)  # (H, 3)
    grayish = f.max(-1) - f.min(-1) < 50  # tiles are gray; objects (and sky) are saturated
    # A checker row differs from its median over about half its pixels. The median is over the
    # row's gray pixels only: a large object covering half a row of a plain wall would otherwise
    # be the median, and the plain wall beside it would read as a second tile colour.
    with warnings.catch_warnings():  # a row with no gray pixel: NaN, replaced just below
        warnings.simplefilter("ignore", RuntimeWarning)
        gray_rows = np.nanmedian(np.where(grayish[..., None], f, np.nan), axis=1)
    gray_rows = np.where(np.isnan(gray_rows), rows, gray_rows)
    resid = np.abs(f - gray_rows[:, None, :]).max(axis=-1)  # (H, W)
    textured = np.mean((resid > 12) & grayish, axis=1) > 0.3  # (H,)
    if textured.mean() > 0.06:
        return "checker"
    # A plain colour fills most of the frame; a sky gradient keeps changing from row to row.
    if np.mean(np.abs(f - np.median(f.reshape(-1, 3), axis=0)).max(-1) < 12) > 0.4:
        return "solid"
    span = (rows.max(axis=0) - rows.min(axis=0)).max()
    return "sky" if span > 30 else "solid"


def _modes(frames: np.ndarray, k: int = 3) -> np.ndarray:
    """The k most common low-saturation colours of a video (checker tiles, wall), (k', 3)."""
    px = frames[:: max(1, len(frames) // 8), ::2, ::2].reshape(-1, 3).astype(np.float32)
    px = px[px.max(-1) - px.min(-1) < 40]  # object colours are saturated: leave them out
    if not len(px):
        return np.zeros((0, 3), np.float32)
    q = (px // 12).astype(np.int32)
    key = q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2]
    vals, counts = np.unique(key, return_counts=True)
    centres: list[np.ndarray] = []
    for v in vals[np.argsort(counts)[::-1][:8]]:
        c = np.median(px[key == v], axis=0)
        if all(np.abs(c - d).max() > 20 for d in centres):
            centres.append(c)
        if len(centres) == k:
            break
    return np.stack(centres).astype(np.float32)


OBJECT_NEAR = 45.0  # a pixel this close to an object colour is an object's (no background colour is)


def _background_median(px: np.ndarray) -> np.ndarray:
    """Median over axis -2 of px (..., N, 3), leaving out pixels of an object's own colour.

    A large object (grown, or seen close) can fill more than half a row or frame: a plain
    median is then the object's colour, and the object reads as background. Every background
    colour is far from every object colour, so an object's solid inside is easy to leave out;
    its anti-aliased rim is thin. Where fewer than a tenth of the pixels are left (nearly all
    object), the value is NaN: background_model fills such a row from its nearest neighbours.
    """
    d = ((px[..., None, :] - PALETTE) ** 2).sum(-1).min(-1)  # (..., N) to the nearest object colour
    keep = d > OBJECT_NEAR**2
    n_keep = keep.sum(-1)  # (...,)
    srt = np.sort(np.where(keep[..., None], px, np.inf), axis=-2)  # kept values first, per channel
    lo = np.take_along_axis(srt, np.maximum((n_keep - 1) // 2, 0)[..., None, None], axis=-2)[..., 0, :]
    hi = np.take_along_axis(srt, np.maximum(n_keep // 2, 0)[..., None, None], axis=-2)[..., 0, :]
    masked = 0.5 * (lo + hi)
    few = n_keep < max(3, 0.1 * px.shape[-2])
    return np.where(few[..., None], np.nan, masked).astype(np.float32)


def _fill_rows(rows: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """rows (T, H, 3) with NaN rows filled from the nearest filled rows of the same frame (a sky is
    a smooth gradient); a frame with no filled row takes `fallback` (T, H, 3)."""
    out = rows.copy()
    good = np.isfinite(rows[..., 0])  # (T, H)
    ys = np.arange(rows.shape[1])
    for t in np.flatnonzero(~good.all(1)):
        g = np.flatnonzero(good[t])
        if not len(g):
            out[t] = fallback[t]
            continue
        for c in range(3):
            out[t, ~good[t], c] = np.interp(ys[~good[t]], g, rows[t, g, c])
    return out


def background_model(frames: np.ndarray, kind: str) -> np.ndarray:
    """Background colour per pixel, float32, broadcastable to frames (T, H, W, 3)."""
    f = frames.astype(np.float32)
    t = len(f)
    if kind == "solid":
        sub = f[:, ::2, ::2].reshape(t, -1, 3)
        med = _background_median(sub)
        med = np.where(np.isfinite(med), med, np.median(sub, axis=1))
        return med[:, None, None, :]  # (T, 1, 1, 3)
    # Every other column is plenty for a row's median (and halves its cost).
    half = f[:, :, ::2]
    rows = _background_median(half)
    if not np.isfinite(rows).all():
        rows = _fill_rows(rows, np.median(half, axis=2))
    rows = rows[:, :, None, :]  # (T, H, 1, 3)
    if kind == "sky":
        return rows
    modes = _modes(frames)
    if len(modes) >= 2:  # the mean of the two tile colours: their anti-aliased edges
        modes = np.concatenate([modes, modes[:2].mean(0, keepdims=True)])
    if not len(modes):
        return rows
    # Squared distances to the constant candidates in one matmul: |f|² − 2 f·c + |c|².
    ff = (f * f).sum(-1)  # (T, H, W)
    dm = ff[..., None] - 2.0 * (f @ modes.T) + (modes * modes).sum(-1)  # (T, H, W, C)
    pick = dm.argmin(-1)
    best_mode = dm.min(-1)
    d_rows = ((f - rows) ** 2).sum(-1)  # (T, H, W)
    return np.where((d_rows <= best_mode)[..., None], rows, modes[pick])


def coverage(frames: np.ndarray, bg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel best object colour and its coverage α in [0, 1].

    Returns (label (T, H, W) int8, -1 = background; alpha (T, H, W) float32). Only pixels that
    differ from the background model are examined (most of a frame is background).
    """
    p_all = frames.astype(np.float32)
    bg = np.broadcast_to(bg, p_all.shape)
    label = np.full(p_all.shape[:3], -1, dtype=np.int8)
    alpha_out = np.zeros(p_all.shape[:3], dtype=np.float32)
    sel = np.abs(p_all - bg).max(axis=-1) > DIFF_MIN
    if not sel.any():
        return label, alpha_out
    p, b = p_all[sel], bg[sel]  # (P, 3)
    d = p - b
    e = PALETTE[None] - b[:, None, :]  # (P, K, 3)
    ee = (e * e).sum(-1) + 1e-6  # (P, K)
    alpha = (d[:, None, :] * e).sum(-1) / ee  # (P, K)
    a = np.clip(alpha, 0.0, 1.0)
    resid = ((d[:, None, :] - a[..., None] * e) ** 2).sum(-1)  # (P, K) squared
    # Colours indistinguishable from the background here cannot be seen on it.
    resid = np.where(ee > 40.0**2, resid, np.inf)
    best = np.argmin(resid, axis=-1)  # (P,)
    r = np.take_along_axis(resid, best[:, None], -1)[:, 0]
    al = np.take_along_axis(alpha, best[:, None], -1)[:, 0]
    ok = (r < MAX_RESIDUAL**2) & (al > 0.15)
    label[sel] = np.where(ok, best, -1)
    alpha_out[sel] = np.where(ok, np.clip(al, 0.0, 1.0), 0.0)
    return label, alpha_out


def _half_peak(soft: np.ndarray) -> np.ndarray:
    """Blob masks at half of each blob's own peak coverage (the half-maximum contour).

    A crisp object peaks at coverage 1, so its mask is at coverage MIN_ALPHA (0.5) as ever. A
    faint or washed-out one (a blurry generated video) peaks lower: an absolute 0.5 would cut
    through its plateau, where a level or two of noise decides whether it is there at all. Its
    mask is at half its own peak instead, as long as that peak reaches SEED_ALPHA.
    """
    low = soft >= MIN_ALPHA * SEED_LOW
    if not low.any():
        return low
    comp, n = ndimage.label(low, PLANE)
    peak = np.zeros(n + 1, dtype=np.float32)
    peak[1:] = ndimage.maximum(soft, comp, np.arange(1, n + 1))
    pk = peak[comp]
    seeded = low & (pk >= SEED_LOW)
    # Join the seeded components through time (pixel overlap with the frame before or after): a
    # chain with a SEED_ALPHA peak anywhere keeps all its components (SEED_LOW).
    chain, m = ndimage.label(seeded, PLANE | TIME)
    strong = np.zeros(m + 1, dtype=bool)
    strong[1:] = ndimage.maximum(pk >= SEED_ALPHA, chain, np.arange(1, m + 1)).astype(bool)
    return seeded & strong[chain] & (soft >= MIN_ALPHA * np.minimum(pk, 1.0))


def video_blobs(frames: np.ndarray, kind: str, min_area: float) -> list[list[Blob]]:
    """Object blobs per frame: components of each colour, fragments of one object merged."""
    t_len, h, w, _ = frames.shape
    label, alpha = coverage(frames, background_model(frames, kind))
    out: list[list[Blob]] = [[] for _ in range(t_len)]
    for k in np.unique(label):
        if k < 0:
            continue
        soft = np.where(label == k, alpha, 0.0).astype(np.float32)  # (T, H, W)
        hard = _half_peak(soft)
        if not hard.any():
            continue
        # Dilate before labelling: fragments split by a thin occluder or codec noise join up.
        grown = ndimage.binary_dilation(hard, PLANE, iterations=1)
        comp, n = ndimage.label(grown, PLANE)
        idx = np.arange(1, n + 1)
        areas = ndimage.sum_labels(soft, comp, idx)
        for i, sl in enumerate(ndimage.find_objects(comp), start=1):
            area = float(areas[i - 1])
            if sl is None or area < min_area:
                continue
            t = sl[0].start
            m = (comp[t, sl[1], sl[2]] == i) * soft[t, sl[1], sl[2]]
            ys = np.arange(sl[1].start, sl[1].stop) + 0.5
            xs = np.arange(sl[2].start, sl[2].stop) + 0.5
            cx = float((m.sum(0) * xs).sum() / area)
            cy = float((m.sum(1) * ys).sum() / area)
            y0, y1, x0, x1 = sl[1].start, sl[1].stop, sl[2].start, sl[2].stop
            border = x0 <= 0 or y0 <= 0 or x1 >= w or y1 >= h
            cut = (False, False)
            if border:
                on = m >= 0.5
                cx_px = (x0 <= 0) * on[:, 0].sum() + (x1 >= w) * on[:, -1].sum()
                cy_px = (y0 <= 0) * on[0].sum() + (y1 >= h) * on[-1].sum()
                lim = CUT_CONTACT * np.sqrt(area)
                cut = (bool(cx_px > lim), bool(cy_px > lim))
            out[t].append(Blob(int(k), area, (cx, cy), (x0, y0, x1, y1), m.astype(np.float32), border, cut))
    return out


def nearest_background_colour(colour: np.ndarray) -> str:
    d = ((BG_PALETTE - colour[None].astype(np.float32)) ** 2).sum(-1)
    return BG_NAMES[int(np.argmin(d))]
