"""Camera motion from the background texture: a global translation + zoom per frame pair.

Model (normalised coordinates): a scene point seen at p in frame t−1 is seen at
p' = 0.5 + (1 + e)(p − 0.5) + d in frame t. Solved by Lucas–Kanade on image gradients
(Lucas & Kanade, 1981; Baker & Matthews, "Lucas-Kanade 20 years on", 2004), coarse to fine,
with object pixels masked out, warm-started from the previous pair.

What each background lets us see (`observable`):
- checker: pan in x and y and zoom (a 2-D texture),
- sky:     pan in y and zoom only: the sky is a vertical gradient, the same in every column, so a
           left/right pan leaves no trace in it. Solved in 1-D on the row profile.
- solid:   nothing: a plain colour has no texture, and every object moving together cannot be
           told apart from a camera move. Reported as camera "unknown".
The pan direction is the way the camera turns, opposite to the way the scene slides.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

MIN_PAN = 0.025  # normalised image travel over the shot
MIN_ZOOM = 0.07  # |log scale| over the shot
MAX_STEP = 0.1  # per frame: a larger shift (fraction of the frame) or scale change is no camera
OBSERVABLE = {"checker": ("x", "y", "zoom"), "sky": ("y", "zoom"), "solid": ()}
PLANE = np.zeros((3, 3, 3), dtype=bool)  # dilate inside each frame, never across time
PLANE[1] = True
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _gray(frames: np.ndarray, side: int = 64) -> tuple[np.ndarray, int]:
    """Luma (T, h, w) block-averaged to at most `side` pixels a side, and the factor used."""
    g = frames.astype(np.float32) @ LUMA
    factor = 1
    while min(g.shape[1:]) > side:
        h, w = g.shape[1] // 2 * 2, g.shape[2] // 2 * 2
        g = g[:, :h, :w].reshape(len(g), h // 2, 2, w // 2, 2).mean(axis=(2, 4))
        factor *= 2
    return g, factor


def _down_mask(valid: np.ndarray, factor: int) -> np.ndarray:
    t, h, w = valid.shape
    h2, w2 = h // factor, w // factor
    v = valid[:, : h2 * factor, : w2 * factor].reshape(t, h2, factor, w2, factor)
    return v.all(axis=(2, 4))


def _lk(a: np.ndarray, grad_a: tuple[np.ndarray, np.ndarray], b: np.ndarray, valid: np.ndarray,
        init: np.ndarray, params: tuple[int, ...], iters: int = 5) -> np.ndarray:
    """Refine p = (dx, dy, e) in pixels so that b(c + (1+e)(x−c) + d) ≈ a(x); only `params` move.

    The Jacobian uses the gradient of `a` at x (≈ that of the warped b when aligned), so it and
    the normal matrix are built once, not per iteration.
    """
    h, w = a.shape
    ys, xs = np.nonzero(valid)
    if len(ys) < 20:
        return init
    xr, yr = xs - (w - 1) / 2, ys - (h - 1) / 2
    gx, gy = grad_a[0][ys, xs], grad_a[1][ys, xs]
    cols = [gx, gy, gx * xr + gy * yr]
    J = np.stack([cols[k] for k in params], 1).astype(np.float64)  # (P, n)
    H = J.T @ J + 1e-3 * np.eye(len(params))
    av = a[ys, xs]
    prm = init.astype(np.float64).copy()
    for _ in range(iters):
        dx, dy, e = prm
        coords = np.stack([(h - 1) / 2 + (1 + e) * yr + dy, (w - 1) / 2 + (1 + e) * xr + dx])
        bw = ndimage.map_coordinates(b, coords, order=1, mode="nearest")
        step = np.linalg.solve(H, J.T @ (av - bw))
        prm[list(params)] += step
        if np.abs(step[:2]).max() < 0.01:
            break
    return prm


def estimate_camera(frames: np.ndarray, kind: str, covered: np.ndarray,
                    shot: np.ndarray) -> tuple[str, str | None, np.ndarray]:
    """(motion, direction, path (T, 3)): path[t] = (dx, dy, scale) of the scene relative to frame 0
    of its shot, normalised; motion/direction from the first shot (classify_path). "unknown" on a solid colour."""
    n = len(frames)
    path = np.tile([0.0, 0.0, 1.0], (n, 1))
    observable = OBSERVABLE.get(kind, ())
    if not observable:
        return "unknown", None, path
    gray, factor = _gray(frames)
    # Blur so the one-pixel tile edges give gradients over a few pixels (a wider capture range).
    gray = ndimage.gaussian_filter(gray, (0, 1.2, 1.2))
    grads = np.gradient(gray, axis=(1, 2))  # [(T, h, w) d/dy, d/dx]
    # Object pixels, grown by the blur's reach so no object edge leaks into the fit.
    cov = ~_down_mask(~covered, factor) if factor > 1 else covered  # any covered pixel counts
    valid = ~ndimage.binary_dilation(cov, PLANE, iterations=2)
    valid[:, :2] = valid[:, -2:] = False  # border pixels move out of view under a pan or zoom
    valid[:, :, :2] = valid[:, :, -2:] = False
    h, w = gray.shape[1:]
    params = (0, 1, 2) if "x" in observable else (1, 2)
    prm = np.zeros(3)
    for t in range(1, n):
        if shot[t] != shot[t - 1]:
            prm = np.zeros(3)
            continue  # a cut restarts the path
        v = valid[t - 1] & valid[t]
        new = _lk(gray[t - 1], (grads[1][t - 1], grads[0][t - 1]), gray[t], v, prm, params)
        # A step of a tenth of the frame or more in one frame is a failed fit (a large object
        # covering most of the texture), not a camera: the last step carries on instead.
        if np.isfinite(new).all() and abs(new[0]) < MAX_STEP * w and abs(new[1]) < MAX_STEP * h and abs(new[2]) < MAX_STEP:
            prm = new
        # b(c + s(x−c) + d) ≈ a(x): a frame t-1 point at x is found at c + s(x−c) + d in frame t.
        sx, sy, s = prm[0] / w, prm[1] / h, 1.0 + prm[2]
        ox, oy, scale = path[t - 1]
        path[t] = (s * ox + sx, s * oy + sy, s * scale)
    motion, direction = classify_path(path, shot, observable)
    return motion, direction, path


def classify_path(path: np.ndarray, shot: np.ndarray, observable: tuple[str, ...]) -> tuple[str, str | None]:
    """Name the camera motion of the first shot from its accumulated path.

    A prompt (and a storyboard caption) states one camera, the opening shot's; later shots
    reframe. Only a first shot too short to show a move (under 3 frames) gives way to the longest.
    """
    first = np.flatnonzero(shot == shot[0])
    idx = first if len(first) >= 3 else np.flatnonzero(shot == np.bincount(shot).argmax())
    if len(idx) < 2:
        return "static", None
    d = path[idx[-1], :2] - path[idx[0], :2]
    ratio = path[idx[-1], 2] / path[idx[0], 2]
    if not (np.isfinite(ratio) and ratio > 0 and np.isfinite(path[idx[-1]]).all()):
        return "static", None  # the fit diverged: no evidence of a move
    z = float(np.log(ratio))
    if abs(z) > MIN_ZOOM and abs(z) > 1.5 * float(np.abs(d).max()):
        return "zoom", "in" if z > 0 else "out"
    if np.abs(d).max() > MIN_PAN:
        if abs(d[0]) >= abs(d[1]):
            return "pan", "left" if d[0] > 0 else "right"
        return "pan", "up" if d[1] > 0 else "down"
    return "static", None
