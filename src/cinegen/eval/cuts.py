"""Shot cuts, from pixels alone: where a video jumps to a new view.

Three signs, each catching what the others miss: a frame difference far above its neighbours'
that changes much of the frame (detect_cuts, and over a sky or a checker the background itself
must change: background_cut); every object rescaled at once (reframing_cuts, for a tighter or
wider framing of a plain background, where few pixels change besides the objects); and the whole
frame a zoomed view of the one before (zoom_cuts, which still works when the objects are faint,
torn-up blobs that the object rule cannot pair).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from cinegen.eval import segment

CUT_CHANGED = 0.2  # share of the frame a cut must change (a large object jumping: ~0.15)
# The same over a sky or a checker, where a cut must also change the background itself
# (background_cut), which no object jumping does: a small reframing of a smooth sky changes
# most pixels by less than the 24 levels counted (measured: 0.19 of the frame for a shift of 0.18).
CUT_CHANGED_TEXTURED = 0.1
# Area ratio between two frames that only a reframing makes: every object scaled by 1.3 or more
# at once. Growing, shrinking and a zooming camera change an object's area by under ~1.5 a frame.
REFRAME_AREA = 1.3**2


def detect_cuts(frames: np.ndarray, min_changed: float = CUT_CHANGED) -> tuple[list[int], np.ndarray]:
    """Frame indices that start a new shot: a frame difference far above its neighbours' that
    changes a good part of the frame, `min_changed` of it at least (one object jumping or
    vanishing changes only its own area)."""
    diff = np.abs(np.diff(frames.astype(np.int16), axis=0)).max(-1)  # (T-1, H, W)
    d = diff.mean(axis=(1, 2)) / 255.0  # (T-1,)
    changed = (diff > 24).mean(axis=(1, 2))  # (T-1,) share of pixels that clearly change
    cuts = []
    for i, v in enumerate(d):
        others = np.delete(d[max(0, i - 4) : i + 5], min(i, 4))
        base = float(np.median(others)) if len(others) else 0.0
        share = float(np.median(np.delete(changed[max(0, i - 4) : i + 5], min(i, 4)))) if len(others) else 0.0
        spike = v > 4.0 * base + 0.01 or changed[i] > 3.0 * share + 0.05
        if v > 0.03 and spike and changed[i] > min_changed:
            cuts.append(i + 1)
    return cuts, d


CUT_BACKGROUND = 0.012  # background change (fraction of 255) a cut over a sky or checker makes, at least


def background_cut(bdiff: np.ndarray, free: np.ndarray, c: int) -> bool:
    """Whether the step into frame c changes the background as a cut does. A new view of a sky or
    a checker floor moves its rows or tiles (change 0.02 and more, measured: 0.019-0.17), while
    one large object jumping (a teleport) changes the frame as much and the background not at
    all. Where objects cover nearly all of the frame, the background cannot say, and the cut stands."""
    if free[c - 1].mean() < 0.1:
        return True
    return bool(bdiff[c - 1] > max(CUT_BACKGROUND, 2.0 * float(np.median(bdiff))))


def reframing_cuts(per_frame: list[list[segment.Blob]], cuts: list[int]) -> list[int]:
    """Cuts seen only on the objects: every object whose whole blob is seen in both frames changes
    its area by the same large factor at once (REFRAME_AREA). On a plain background (or a close-up
    of a plain wall, or of a smooth sky) a cut to a tighter or wider framing changes few pixels
    besides the objects, but no motion scales every object by 1.3 or more in one frame.

    A cut joins two steady views: the steps just before and after it must be small. Frames out of
    order (a shuffled video of a growing object) jump back and forth instead, and are no cut."""
    logs = [None] + [_area_logs(per_frame[t - 1], per_frame[t]) for t in range(1, len(per_frame))]
    big = np.log(REFRAME_AREA)

    def jump(t: int) -> bool:
        x = logs[t]
        return bool(x) and min(abs(v) for v in x) > big and (max(x) < 0 or min(x) > 0) and max(x) - min(x) < big / 2

    def steady(t: int) -> bool:  # no step at the ends of the video; else a small one
        return t < 1 or t >= len(logs) or (bool(logs[t]) and max(abs(v) for v in logs[t]) < big / 2)

    return [t for t in range(1, len(per_frame))
            if not any(abs(t - c) <= 1 for c in cuts) and jump(t) and steady(t - 1) and steady(t + 1)]


# Zoom cuts: a step from one frame to the next that a crop-zoom of the frame before explains. A
# storyboard reframes its wide shot by a virtual camera (1.6x, 2.4x): on a plain background that
# changes few pixels, and faint generated objects come in pieces whose areas flicker by 2x from
# frame to frame, so neither the changed share nor per-blob areas can see it. The whole frame can:
# the view after is the view before magnified (or the reverse), which no motion makes.
ZOOM_FIT = 0.7  # the best zoom's residual under this share of the plain difference and of the best shift's
ZOOM_SPIKE = 1.5  # a candidate step changes the frame this much more than its neighbours (median)
ZOOM_STEPS = np.exp(np.linspace(np.log(1.3), np.log(3.0), 12))  # 1.3: growing is under 1.22x a frame
ZOOM_KEEP = 0.6  # share of the wider view's subjects (foreground) the tighter view must keep
ZOOM_SIDE = 64  # pixels: frames are fitted at about this size (block means), enough for the objects


def zoom_cuts(frames: np.ndarray, frame_diff: np.ndarray, cuts: list[int]) -> list[int]:
    """Cuts to a tighter or wider framing of the same scene, from the frames themselves.

    A candidate is a step that stands out from its neighbours (ZOOM_SPIKE over their median, the
    largest around): frames out of order jump at every step and make none. It is a zoom cut when
    frame t is best explained as a zoomed view of frame t-1 (or t-1 of t), far better than by the
    plain difference and by any shift (ZOOM_FIT): a teleport or a fast move is a shift, a popping
    generated frame is neither. Zooms at the end of the searched range are left out: there the fit
    has found no zoom, only the flattest view.
    """
    n = len(frames)
    k = max(1, min(frames.shape[1:3]) // ZOOM_SIDE)
    small = frames.astype(np.float32)
    if k > 1:  # block means: the fit needs shapes, not pixels
        h, w = (frames.shape[1] // k) * k, (frames.shape[2] // k) * k
        small = small[:, :h, :w].reshape(n, h // k, k, w // k, k, 3).mean((2, 4))
    out = []
    for i, v in enumerate(frame_diff):
        t = i + 1
        nb = np.delete(frame_diff[max(0, i - 4) : i + 5], min(i, 4))
        if not len(nb) or v * 255 < 1.0 or v < frame_diff[max(0, i - 1) : i + 2].max():
            continue
        if v < ZOOM_SPIKE * float(np.median(nb)) or any(abs(t - c) <= 1 for c in cuts):
            continue
        a, b = small[t - 1], small[t]
        plain = float(np.abs(b - a).mean()) + 1e-3
        e_in, z_in, keep_in = _zoom_fit(a, b)
        e_out, z_out, keep_out = _zoom_fit(b, a)
        e, z, keep = (e_in, z_in, keep_in) if e_in <= e_out else (e_out, z_out, keep_out)
        if z >= ZOOM_STEPS[-1] or keep < ZOOM_KEEP or e >= ZOOM_FIT * plain or e >= ZOOM_FIT * _shift_fit(a, b):
            continue
        out.append(t)
    return out


def _fg_weight(f: np.ndarray) -> np.ndarray:
    """(h, w) how much each pixel differs from the frame's median colour (the subjects), in levels."""
    return np.maximum(np.abs(f - np.median(f.reshape(-1, 3), axis=0)).max(-1) - segment.DIFF_MIN, 0.0)


def _fg_centre(f: np.ndarray) -> np.ndarray | None:
    """(y, x) centre of what differs from the frame's median colour (the subjects), weighted by how much."""
    wgt = _fg_weight(f)
    total = float(wgt.sum())
    if total < 1e-6:
        return None
    ys, xs = np.mgrid[0 : f.shape[0], 0 : f.shape[1]] + 0.5
    return np.array([(wgt * ys).sum() / total, (wgt * xs).sum() / total])


def _view(a: np.ndarray, z: float, o: np.ndarray) -> np.ndarray:
    """The view of frame a magnified z times from top-left corner o (y, x): out(p) = a(o + p / z)."""
    h, w, _ = a.shape
    yy, xx = np.meshgrid(o[0] + (np.arange(h) + 0.5) / z - 0.5, o[1] + (np.arange(w) + 0.5) / z - 0.5, indexing="ij")
    return np.stack([ndimage.map_coordinates(a[..., c], [yy, xx], order=1, mode="nearest") for c in range(3)], -1)


def _zoom_fit(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(mean |b - view of a|, zoom, share of a's foreground inside the view) of the best magnified
    view of a (ZOOM_STEPS). The corner is where the subjects' centre lands (both frames' foreground
    centres), give or take two pixels. A reframing is centred on the subjects, so the share is high;
    a tight view that only leaves out an object that vanished (a deletion) fits too, but keeps little."""
    h, w, _ = a.shape
    ca, cb = _fg_centre(a), _fg_centre(b)
    best = (np.inf, 1.0, np.zeros(2))
    for z in ZOOM_STEPS:
        lim = np.array([h - h / z, w - w / z])
        o0 = np.clip(ca - cb / z, 0, lim) if ca is not None and cb is not None else lim / 2
        for dy in (-2, 0, 2):
            for dx in (-2, 0, 2):
                o = np.clip(o0 + [dy, dx], 0, lim)
                e = float(np.abs(b - _view(a, z, o)).mean())
                if e < best[0]:
                    best = (e, float(z), o)
    e, z, o = best
    wgt = _fg_weight(a)
    y0, x0 = int(np.floor(o[0])), int(np.floor(o[1]))
    inside = wgt[y0 : int(np.ceil(o[0] + h / z)), x0 : int(np.ceil(o[1] + w / z))].sum()
    return e, z, float(inside / max(float(wgt.sum()), 1e-6))


def _shift_fit(a: np.ndarray, b: np.ndarray) -> float:
    """mean |b - a shifted| of the best shift (the foreground centres aligned, give or take two pixels)."""
    ca, cb = _fg_centre(a), _fg_centre(b)
    o0 = ca - cb if ca is not None and cb is not None else np.zeros(2)
    return min(float(np.abs(b - _view(a, 1.0, o0 + [dy, dx])).mean()) for dy in range(-2, 3) for dx in range(-2, 3))


def _area_logs(before: list[segment.Blob], after: list[segment.Blob]) -> list[float]:
    """log area ratios of the objects seen whole in both frames (one object per colour)."""
    out = []
    for b in after:
        prev = [q for q in before if q.colour == b.colour]
        same = [q for q in after if q.colour == b.colour]
        if len(prev) != 1 or len(same) != 1 or _clipped(b, after) or _clipped(prev[0], before):
            continue  # only one object of a colour, all of it in view in both frames
        out.append(float(np.log(b.area / prev[0].area)))
    return out


def _clipped(b: segment.Blob, blobs: list[segment.Blob]) -> bool:
    """Whether a blob is cut by the frame edge or touches another blob's box (part hidden)."""
    if b.touches_border:
        return True
    x0, y0, x1, y1 = b.box
    return any(q is not b and q.box[0] <= x1 and x0 <= q.box[2] and q.box[1] <= y1 and y0 <= q.box[3] for q in blobs)
