"""describe(frames, fps) → what a video shows, from pixels alone (no access to how it was made).

Steps: 1. background kind per frame and shot cuts from frame differences, 2. object blobs per
frame by colour (segment.py), and the cuts only they show (every object rescaled at once, or the
whole frame a zoomed view of the one before: zoom_cuts),
3. tracks: blobs linked across frames by colour and predicted position, 4. camera motion from
the textured background, 5. per track: colour, shape, size, motion. Coordinates in the result are normalised like the world's (x / width, y / height).

Camera: what a background can show is in camera.OBSERVABLE. A plain colour carries no texture,
so a pan or zoom there is seen only as every object moving together, which cannot be told apart
from the objects moving: the camera is "unknown" and object tracks are not compensated. A sky
is the same in every column, so a left/right pan over it is invisible (`camera_observable`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from scipy.spatial import ConvexHull

from cinegen.eval import segment
from cinegen.eval.cuts import (CUT_CHANGED, CUT_CHANGED_TEXTURED, background_cut, detect_cuts, reframing_cuts,
                               zoom_cuts)
from cinegen.eval.camera import OBSERVABLE, estimate_camera
from cinegen.eval.motion import classify_motion
from cinegen.eval.shapes import classify_shape, clearly_other, features, orientation, symmetry_order, unit_area
from cinegen.world.spec import SIZES


# Views a track's shape is judged from (the median of their features): more views, less say for
# one ragged view of a faint generated blob.
SHAPE_VIEWS = 11
MIN_SHAPE_PX = 10.0  # objects narrower than this (pixels) are too small to name their shape
FLICKER_BLOCK = 5  # pixels: the neighbourhood the background change is averaged over (flicker)


@dataclass
class ObjectTrack:
    colour: str
    shape: str  # "unknown" when too small to tell (MIN_SHAPE_PX)
    size: str
    motion: str
    direction: str | None
    centre: np.ndarray  # (T, 2) normalised, NaN where not seen
    visible: np.ndarray  # (T,) bool
    area: np.ndarray  # (T,) soft area as a fraction of min(H, W)², 0 where not seen
    angle: np.ndarray  # (T,) orientation in radians, NaN where unknown
    touches_border: np.ndarray  # (T,) bool
    shape_per_frame: list[str] = field(default_factory=list)  # shape named in sampled frames
    colour_drift: float = 0.0  # fraction of seen frames where the blob's colour disagrees
    overlapped: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (T,) touches another blob
    near: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # (T,) its box touches another's
    cut: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=bool))  # (T, 2) cut by an x / y edge
    # How clearly the track is seen, in [0, 1]: 1 for an object seen over 2·min_len frames or more
    # at 3·min_area or more; towards 0 for a short or tiny one (near describe's thresholds, which
    # a level of noise moves across). Quality scores weigh tracks by it, so such a track coming
    # and going moves them little (see track_weight).
    weight: float = 1.0

    def summary(self) -> dict[str, Any]:
        seen = np.flatnonzero(self.visible)
        return {
            "colour": self.colour,
            "shape": self.shape,
            "size": self.size,
            "motion": self.motion,
            "direction": self.direction,
            "first_frame": int(seen[0]) if len(seen) else None,
            "last_frame": int(seen[-1]) if len(seen) else None,
            "visible_fraction": float(self.visible.mean()),
            "track": [None if not v else [round(float(x), 4), round(float(y), 4)]
                      for (x, y), v in zip(self.centre, self.visible)],
        }


@dataclass
class Description:
    width: int
    height: int
    fps: float
    n_frames: int
    background: str
    background_colour: str | None
    camera_motion: str  # static | pan | zoom | unknown
    camera_direction: str | None
    cuts: list[int]  # frame index where a new shot starts
    objects: list[ObjectTrack]
    camera_path: np.ndarray  # (T, 3) (dx, dy, scale) relative to frame 0, image motion of the scene
    frame_diff: np.ndarray  # (T-1,) mean absolute frame difference in [0, 1]
    background_diff: np.ndarray  # (T-1,) the same over pixels no object covers
    shot: np.ndarray  # (T,) shot index per frame
    camera_observable: tuple[str, ...] = ()  # camera axes this background shows: x, y, zoom

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "n_frames": self.n_frames,
            "background": {"kind": self.background, "colour": self.background_colour},
            "camera": {"motion": self.camera_motion, "direction": self.camera_direction,
                       "observable": list(self.camera_observable)},
            "cuts": list(self.cuts),
            "objects": [o.summary() for o in self.objects],
        }


def check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"expected frames (T, H, W, 3), got shape {frames.shape}")
    if frames.dtype != np.uint8:
        frames = np.clip(frames, 0, 255).astype(np.uint8)
    return frames


def background_change(frames: np.ndarray, free: np.ndarray) -> np.ndarray:
    """(T-1,) mean absolute change of the background between frames, over `free` pixels, in [0, 1].

    The signed change is averaged over FLICKER_BLOCK² neighbourhoods of free pixels before taking
    its size: flicker (light or texture changing over a region) survives that, while noise that is
    independent from pixel to pixel (grain, dither, a codec's, an invisible watermark's) mostly
    cancels, so a level or two of it does not read as flicker.
    """
    d = np.diff(frames.astype(np.float32), axis=0).mean(-1)  # (T-1, H, W)
    f = free.astype(np.float32)
    size = (1, FLICKER_BLOCK, FLICKER_BLOCK)
    num = ndimage.uniform_filter(d * f, size, mode="constant")
    den = ndimage.uniform_filter(f, size, mode="constant")
    local = np.abs(num) / np.maximum(den, 1e-6)
    return (local * f).sum(axis=(1, 2)) / np.maximum(f.sum(axis=(1, 2)), 1) / 255.0


def _link(blobs_per_frame: list[list[segment.Blob]], scale: float, fps: float) -> list[list[tuple[int, segment.Blob]]]:
    """Greedy-optimal linking of blobs into tracks, per colour, by predicted position."""
    tracks: list[list[tuple[int, segment.Blob]]] = []
    gate = 0.35 * scale  # pixels: farther than this is not the same object
    for t, blobs in enumerate(blobs_per_frame):
        if not blobs:
            continue
        cost = np.full((len(tracks), len(blobs)), 1e9)
        for i, tr in enumerate(tracks):
            t_last, b_last = tr[-1]
            pred = np.array(b_last.centre)
            if len(tr) >= 2 and tr[-2][0] == t_last - 1:
                pred = pred + (pred - np.array(tr[-2][1].centre)) * (t - t_last)
            for j, b in enumerate(blobs):
                if b.colour != b_last.colour:
                    continue
                # Nearest of the constant-velocity prediction and the last position: a floor
                # bounce flips the velocity, landing near where it was, far from the prediction.
                dist = float(min(np.hypot(*(np.array(b.centre) - pred)),
                                 np.hypot(*(np.array(b.centre) - np.array(b_last.centre)))))
                if dist < gate * (1 + 0.25 * (t - t_last - 1)):
                    size_pen = abs(np.log((b.area + 1) / (b_last.area + 1)))
                    cost[i, j] = dist + 0.1 * scale * size_pen + 0.02 * scale * (t - t_last)
        used = set()
        if len(tracks):
            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols):
                if cost[i, j] < 1e8:
                    tracks[i].append((t, blobs[j]))
                    used.add(j)
        for j, b in enumerate(blobs):
            if j not in used:
                tracks.append([(t, b)])
    return tracks


def _relink(tracks: list[list[tuple[int, segment.Blob]]]) -> list[list[tuple[int, segment.Blob]]]:
    """Join two tracks of one colour that are never seen in the same frame, whatever the distance.

    The linker's distance gate splits an object that jumps (a teleport) or comes back elsewhere
    after an occlusion into two tracks, and frames out of order into two interleaved ones (each
    frame goes to whichever is nearer); as one track, smoothness and permanence can judge the
    jumps, and count does not see two objects where there was one. Only the one earlier track of
    the colour is joined: two objects of one colour are seen together.
    """
    tracks = sorted(tracks, key=lambda tr: tr[0][0])
    out: list[list[tuple[int, segment.Blob]]] = []
    for tr in tracks:
        colour = tr[0][1].colour
        same = [o for o in out if o[0][1].colour == colour]
        frames = {t for t, _ in tr}
        if len(same) == 1 and not frames & {t for t, _ in same[0]}:
            same[0].extend(tr)  # the only other track of this colour, never seen with this one
            same[0].sort(key=lambda tb: tb[0])
        else:
            out.append(tr)
    return out


def size_class(area_frac: float, shape: str) -> str:
    """Size class from the soft area (fraction of min(H, W)²) and the shape's area per diameter²."""
    diameter = 2 * np.sqrt(area_frac / unit_area(shape))  # in min(H, W) units
    names = sorted(SIZES, key=SIZES.get)
    best = min(names, key=lambda n: abs(np.log(diameter / SIZES[n])))
    return best


def describe(frames: np.ndarray, fps: float) -> Description:
    frames = check_frames(frames)
    n, h, w, _ = frames.shape
    side = min(h, w)
    # 1. Background kind (majority over frames) and cuts.
    step = max(1, n // 16)
    sub = max(1, min(h, w) // 64)  # the kind needs no more than ~64 pixels a side
    kinds = [segment.background_kind(f[::sub, ::sub]) for f in frames[:: max(1, n // 6)]]
    # A close-up may show only the plain wall above a checker floor or a patch of sky: a kind
    # seen in a good share of the frames wins over a plain colour.
    share = {k: kinds.count(k) / len(kinds) for k in set(kinds)}
    kind = "checker" if share.get("checker", 0) >= 0.25 else "sky" if share.get("sky", 0) >= 0.25 else "solid"
    cuts, frame_diff = detect_cuts(frames, CUT_CHANGED if kind == "solid" else CUT_CHANGED_TEXTURED)
    bg_colour = None
    if kind == "solid":
        med = np.median(frames[::step].reshape(-1, 3), axis=0)
        bg_colour = segment.nearest_background_colour(med)
    # 2. Blobs per frame. Smallest object: "small" at half area, partly hidden.
    min_area = max(3.0, 0.1 * (SIZES["small"] * side) ** 2)
    per_frame = segment.video_blobs(frames, kind, min_area)
    reframed = reframing_cuts(per_frame, cuts)
    # Background-only frame difference (flicker): pixels no blob box touches in either frame.
    covered = np.zeros((n, h, w), dtype=bool)
    for t, bl in enumerate(per_frame):
        for b in bl:
            x0, y0, x1, y1 = b.box
            covered[t, max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = True
    free = ~(covered[:-1] | covered[1:])  # (T-1, H, W)
    bdiff = background_change(frames, free)
    if kind != "solid":
        cuts = [c for c in cuts if background_cut(bdiff, free, c)]
    cuts = cuts + reframed
    cuts = sorted(cuts + zoom_cuts(frames, frame_diff, cuts))
    shot = np.zeros(n, dtype=int)
    for c in cuts:
        shot[c:] += 1
    # 3. Tracks. Drop short flickers of noise (fewer than 3 frames or 10% of the video).
    raw = _link(per_frame, side, fps)
    min_len = max(min(3, n), int(0.1 * n))  # a still image (n = 1) keeps its one-frame tracks
    raw = _relink([tr for tr in raw if len(tr) >= min_len])
    # 4. Camera from the background texture.
    cam_motion, cam_dir, path = estimate_camera(frames, kind, covered, shot)
    # 5. Per-track attributes.
    objects = []
    for tr in raw:
        o = _track(tr, n, w, h, fps, path, shot, _overlapped(tr, per_frame))
        o.near = _near(tr, per_frame)
        o.weight = track_weight(len(tr), float(np.median([b.area for _, b in tr])), min_len, min_area)
        objects.append(o)
    objects.sort(key=lambda o: (-o.visible.sum(), o.colour))
    return Description(w, h, float(fps), n, kind, bg_colour, cam_motion, cam_dir, cuts, objects,
                       path, frame_diff, bdiff, shot, OBSERVABLE[kind])


def track_weight(n_seen: int, median_area: float, min_len: int, min_area: float) -> float:
    """Ramps from 0 at the thresholds a track must pass (min_len frames, min_area pixels) to 1 at
    twice min_len and thrice min_area: a continuous stand-in for "clearly an object"."""
    w_len = np.clip((n_seen - min_len + 1) / (min_len + 1), 0.0, 1.0)
    w_area = np.clip((median_area - min_area) / (2.0 * min_area), 0.0, 1.0)
    return float(w_len * w_area)


def _near(tr: list[tuple[int, segment.Blob]], per_frame: list[list[segment.Blob]]) -> np.ndarray:
    """(T,) whether the track's blob box touches another blob's box (grown by a pixel)."""
    out = np.zeros(len(per_frame), dtype=bool)
    for t, b in tr:
        x0, y0, x1, y1 = b.box
        out[t] = any(q is not b and q.box[0] <= x1 and x0 <= q.box[2] and q.box[1] <= y1 and y0 <= q.box[3]
                     for q in per_frame[t])
    return out


def _overlapped(tr: list[tuple[int, segment.Blob]], per_frame: list[list[segment.Blob]]) -> np.ndarray:
    """(T,) whether the track's blob is partly hidden by another blob in that frame: where one
    object passes over another, the hidden one's area and centroid are not its own.

    The blobs must touch (their masks come within TOUCH_PX pixels: boxes that meet while the
    shapes keep apart are no contact), and this one must be the one behind: the nearer object
    cuts a bite out of the farther one, whose outline then turns inward where they meet. Every
    world shape but the star is convex and the star keeps its own notches, so the blob behind
    is the one whose solidity (area over convex hull) falls below its own when nothing touches
    it (HIDDEN_SOLIDITY); the one in front keeps its outline and its solidity.
    """
    out = np.zeros(len(per_frame), dtype=bool)
    touching = [(t, b) for t, b in tr if any(q is not b and _touch(b, q) for q in per_frame[t])]
    if not touching:
        return out
    hit = {t for t, _ in touching}
    free = [b for t, b in tr if t not in hit and not b.touches_border]
    free = [free[i] for i in np.linspace(0, len(free) - 1, min(len(free), 5)).round().astype(int)] if free else []
    own = float(np.median([_solidity(b) for b in free])) if free else max(_solidity(b) for _, b in tr)
    for t, b in touching:
        out[t] = _solidity(b) < own - HIDDEN_SOLIDITY
    return out


HIDDEN_SOLIDITY = 0.04  # a solidity this far below the object's own: a bite out of its outline


def _solidity(b: segment.Blob) -> float:
    """Covered pixels (coverage >= 0.5) over the area of the convex hull of their squares."""
    ys, xs = np.nonzero(b.mask >= 0.5)
    if len(ys) < 3:
        return 1.0
    corners = np.concatenate([np.stack([xs + dx, ys + dy], 1) for dx in (0, 1) for dy in (0, 1)])
    try:
        hull = ConvexHull(corners)
    except Exception:  # degenerate (a line of pixels)
        return 1.0
    return float(len(ys) / max(hull.volume, 1e-9))


TOUCH_PX = 2  # pixels: masks this close meet (an anti-aliased edge between two objects)


def _touch(b: segment.Blob, q: segment.Blob) -> bool:
    """Whether blob b's mask, grown by TOUCH_PX, reaches blob q's mask."""
    g = TOUCH_PX
    x0, y0 = max(b.box[0] - g, q.box[0]), max(b.box[1] - g, q.box[1])
    x1, y1 = min(b.box[2] + g, q.box[2]), min(b.box[3] + g, q.box[3])
    if x0 >= x1 or y0 >= y1:
        return False
    # b's mask padded by g on every side, then grown by g: the window [x0, x1) × [y0, y1).
    pad = np.pad(b.mask > 0.05, g)
    grown = ndimage.maximum_filter(pad, size=2 * g + 1)
    bw = grown[y0 - (b.box[1] - g) : y1 - (b.box[1] - g), x0 - (b.box[0] - g) : x1 - (b.box[0] - g)]
    qw = q.mask[y0 - q.box[1] : y1 - q.box[1], x0 - q.box[0] : x1 - q.box[0]] > 0.05
    return bool((bw & qw).any())


def _track(tr: list[tuple[int, segment.Blob]], n: int, w: int, h: int, fps: float,
           path: np.ndarray, shot: np.ndarray, overlapped: np.ndarray) -> ObjectTrack:
    side = min(w, h)
    centre = np.full((n, 2), np.nan)
    area = np.zeros(n)
    visible = np.zeros(n, dtype=bool)
    border = np.zeros(n, dtype=bool)
    cut = np.zeros((n, 2), dtype=bool)
    colours = []
    for t, b in tr:
        centre[t] = (b.centre[0] / w, b.centre[1] / h)
        area[t] = b.area / side**2
        visible[t] = True
        border[t] = b.touches_border
        cut[t] = b.cut
        colours.append(b.colour)
    colour_idx = max(set(colours), key=colours.count)
    # Shape from the fullest unclipped views (largest areas are the least occluded), leaving out
    # views where another object hides part of it (its outline there is not its own).
    full = [(t, b) for t, b in tr if not b.touches_border and not overlapped[t]] or \
        [(t, b) for t, b in tr if not b.touches_border] or tr
    big = sorted(full, key=lambda tb: -tb[1].area)
    top_area = big[0][1].area
    picks = [tb for tb in big if tb[1].area > 0.85 * top_area]
    # Spread the samples through time so shape drift is visible.
    picks = sorted(picks, key=lambda tb: tb[0])
    idx = np.linspace(0, len(picks) - 1, min(len(picks), SHAPE_VIEWS)).round().astype(int)
    sample = [picks[i] for i in np.unique(idx)]
    feats = [features(b.mask) for _, b in sample]
    shape, _ = classify_shape([b.mask for _, b in sample], feats)
    # Per view, another shape only where the view shows it clearly (shapes.clearly_other): drift
    # is a change of shape, not a ragged view between two templates.
    per_frame_shapes = [classify_shape([b.mask], [f])[0] if clearly_other([b.mask], [f], shape) else shape
                        for (_, b), f in zip(sample, feats)]
    angle = np.full(n, np.nan)
    if symmetry_order(shape):  # a disc has no orientation
        for t, b in tr:
            if not any(b.cut):  # a corner grazing the edge leaves the orientation as it is
                angle[t] = orientation(b.mask, shape)
    # Size from the first unoccluded frames of each shot, undoing the camera's zoom within the
    # shot. A closer framing only makes things look bigger, so the smallest over shots is the
    # widest view's (a close-up of a small ball and a wide shot of a large one look alike).
    sizes = []
    for k in sorted({int(shot[t]) for t, _ in full}):
        # The median of the first three views: before much grow / shrink, and one ragged view (a
        # faint generated blob) neither makes nor breaks the size class.
        in_shot = [(t, b) for t, b in full if shot[t] == k][:3]
        sizes.append(float(np.median([b.area / path[t, 2] ** 2 for t, b in in_shot])))
    size = size_class(float(min(sizes)) / side**2, shape)
    motion, direction = classify_motion(centre, area, angle, visible, cut.any(1) | overlapped, shape, fps, path,
                                        shot, axis_clipped=cut)
    # Below MIN_SHAPE_PX across, blur (a codec, a downscale) rounds corners into other shapes.
    if 2 * np.sqrt(top_area / unit_area(shape)) < MIN_SHAPE_PX:
        shape, per_frame_shapes = "unknown", []
    drift = float(np.mean([c != colour_idx for c in colours]))
    return ObjectTrack(segment.COLOUR_NAMES[colour_idx], shape, size, motion, direction, centre, visible,
                       area, angle, border, per_frame_shapes, drift, overlapped, cut=cut)


def describe_dict(frames: np.ndarray, fps: float) -> dict[str, Any]:
    return describe(frames, fps).to_dict()


__all__ = ["Description", "ObjectTrack", "describe", "describe_dict", "asdict"]
