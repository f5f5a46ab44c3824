"""Deliberately wrong videos, to check that each score fails when it should (tests, benchmark).

Each corruption takes a ground-truth clip (frames + its spec) and returns frames plus the one
dimension it is meant to break. Pure numpy on pixels.
"""
from __future__ import annotations

import numpy as np

from cinegen.world.spec import COLOURS

CORRUPTIONS: dict[str, str] = {  # corruption → the dimension it must fail
    "recolour": "colour",
    "reverse": "motion",
    "shuffle": "smoothness",
    "delete": "consistency",
    "freeze": "motion",
    "flip_gravity": "physics",
    "teleport": "smoothness",
}


def _object_mask(frames: np.ndarray, colour: str, tol: float = 60.0) -> np.ndarray:
    c = np.array(COLOURS[colour], np.float32)
    return np.abs(frames.astype(np.float32) - c).max(-1) < tol  # (T, H, W)


def recolour(frames: np.ndarray, colour: str, new: str) -> np.ndarray:
    out = frames.copy()
    out[_object_mask(frames, colour)] = COLOURS[new]
    return out


def reverse(frames: np.ndarray) -> np.ndarray:
    return frames[::-1].copy()


def shuffle(frames: np.ndarray, seed: int = 0) -> np.ndarray:
    return frames[np.random.default_rng(seed).permutation(len(frames))].copy()


def freeze(frames: np.ndarray) -> np.ndarray:
    return np.repeat(frames[:1], len(frames), axis=0)


def flip_gravity(frames: np.ndarray) -> np.ndarray:
    """Upside down: falls go up and speed up upward."""
    return frames[:, ::-1].copy()


def delete(frames: np.ndarray, colour: str, background: np.ndarray, start: int) -> np.ndarray:
    """Remove one object from frame `start` on, filling with the background frames given."""
    out = frames.copy()
    m = _object_mask(frames, colour, 90.0)
    out[start:][m[start:]] = background[start:][m[start:]]
    return out


def teleport(frames: np.ndarray, colour: str, background: np.ndarray, start: int, shift: tuple[int, int]) -> np.ndarray:
    """Move one object by `shift` pixels (dx, dy) from frame `start` on."""
    out = frames.copy()
    m = _object_mask(frames, colour, 90.0)
    for t in range(start, len(frames)):
        obj = np.where(m[t][..., None], frames[t], 0)
        out[t][m[t]] = background[t][m[t]]
        moved = np.roll(np.roll(m[t], shift[1], 0), shift[0], 1)
        src = np.roll(np.roll(obj, shift[1], 0), shift[0], 1)
        out[t][moved] = src[moved]
    return out
