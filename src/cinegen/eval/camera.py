"""Camera motion from the background texture: a global translation + zoom per frame pair.

Model (normalised coordinates): a scene point seen at p in frame t−1 is seen at
p' = 0.5 + (1 + e)(p − 0.5) + d in frame t. Solved by Lucas–Kanade on image gradients
(Lucas & Kanade, 1981; Baker & Matthews, "Lucas-Kanade 20 years on", 2004), coarse to fine,
with object pixels masked out. The pan direction is the way the camera turns, so it is
opposite to the way the scene slides across the image.
"""
from __future__ import annotations

import numpy as np

MIN_PAN = 0.05  # normalised image travel over the shot
MIN_ZOOM = 0.08  # |log scale| over the shot


def _gray(f: np.ndarray) -> np.ndarray:
    return f.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _down(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    return img[:h, :w].reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def _lk(a: np.ndarray, b: np.ndarray, valid: np.ndarray, init: np.ndarray, iters: int = 4) -> np.ndarray:
    """Refine (dx, dy, e) in pixels so that b(c + (1+e)(x−c) + d) ≈ a(x)."""
    h, w = a.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    gy, gx = np.gradient(b)
    prm = init.astype(np.float64).copy()
    for _ in range(iters):
        dx, dy, e = prm
        X = cx + (1 + e) * (xs - cx) + dx
        Y = cy + (1 + e) * (ys - cy) + dy
        inside = valid & (X >= 1) & (X <= w - 2) & (Y >= 1) & (Y <= h - 2)
        if inside.sum() < 20:
            break
        # Bilinear samples of the image and its gradients at the warped points.
        xi, yi = np.floor(X[inside]).astype(np.int64), np.floor(Y[inside]).astype(np.int64)
        fx, fy = X[inside] - xi, Y[inside] - yi

        def samp(img: np.ndarray) -> np.ndarray:
            return ((img[yi, xi] * (1 - fx) + img[yi, xi + 1] * fx) * (1 - fy)
                    + (img[yi + 1, xi] * (1 - fx) + img[yi + 1, xi + 1] * fx) * fy)

        bw, gxw, gyw = samp(b), samp(gx), samp(gy)
        r = a[inside] - bw
        xr = xs[inside] - cx
        yr = ys[inside] - cy
        J = np.stack([gxw, gyw, gxw * xr + gyw * yr], 1).astype(np.float64)
        H = J.T @ J + np.diag([1e-3, 1e-3, 1e-3 * (w * h)])
        prm = prm + np.linalg.solve(H, J.T @ r)
    return prm


def pair_motion(f0: np.ndarray, f1: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(dx, dy, e) in pixels between two frames, coarse to fine."""
    pyr = [(_gray(f0), _gray(f1), valid)]
    # Solve at ≤ 64 pixels a side: a global pan / zoom needs no more, and it keeps this cheap.
    factor = 1.0
    while min(pyr[0][0].shape) > 64:
        a, b, v = pyr[0]
        pyr[0] = (_down(a), _down(b), _down(v.astype(np.float32)) > 0.99)
        factor *= 2.0
    while min(pyr[-1][0].shape) >= 48:
        a, b, v = pyr[-1]
        vd = _down(v.astype(np.float32)) > 0.99
        pyr.append((_down(a), _down(b), vd))
    prm = np.zeros(3)
    for level in range(len(pyr) - 1, -1, -1):
        a, b, v = pyr[level]
        prm = _lk(a, b, v, prm)
        if level:
            prm = prm * np.array([2.0, 2.0, 1.0])
    return prm * np.array([factor, factor, 1.0])


def estimate_camera(frames: np.ndarray, kind: str, covered: np.ndarray,
                    shot: np.ndarray) -> tuple[str, str | None, np.ndarray]:
    """(motion, direction, path (T, 3)): path[t] = (dx, dy, scale) of the scene relative to frame 0
    of its shot, normalised; motion/direction from the longest shot."""
    n, h, w, _ = frames.shape
    path = np.tile([0.0, 0.0, 1.0], (n, 1))
    for t in range(1, n):
        if shot[t] != shot[t - 1]:
            continue  # a cut restarts the path
        valid = ~(covered[t - 1] | covered[t])
        dx, dy, e = pair_motion(frames[t - 1], frames[t], valid)
        sx, sy, s = dx / w, dy / h, 1.0 + e  # where a frame t-1 point lands in frame t
        ox, oy, S = path[t - 1]
        path[t] = (s * ox + sx, s * oy + sy, s * S)
    best = np.bincount(shot).argmax()
    idx = np.flatnonzero(shot == best)
    if len(idx) < 2:
        return "static", None, path
    d = path[idx[-1], :2] - path[idx[0], :2]
    z = float(np.log(path[idx[-1], 2] / path[idx[0], 2]))
    if abs(z) > MIN_ZOOM and abs(z) > 2 * float(np.abs(d).max()):
        return "zoom", "in" if z > 0 else "out", path
    if np.abs(d).max() > MIN_PAN:
        if abs(d[0]) >= abs(d[1]):
            return "pan", "left" if d[0] > 0 else "right", path
        return "pan", "up" if d[1] > 0 else "down", path
    return "static", None, path
