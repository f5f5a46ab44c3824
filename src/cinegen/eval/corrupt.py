"""Deliberately wrong videos, to check that each score fails when it should (tests, benchmark).

Each corruption turns a ground-truth render of a scene into a video that is wrong in one way,
aimed at its first object (the subject). Some re-render the scene with one attribute changed
(wrong shape, wrong direction, recoloured), the rest edit the pixels (time reversed, shuffled or
frozen; the object deleted, teleported, or mirrored in height so it falls upward). An edit that
moves or removes the object paints the background from a render of the scene without it.

CORRUPTIONS maps each one to the dimension that must fail ("a|b": either) and those that may also
change because they measure the same thing from another side (a teleport is also a jump in the
motion; an object that falls upward is not "falling"). Every other dimension must keep passing.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from cinegen.world.render import Clip, render
from cinegen.eval.describe import MIN_SHAPE_PX
from cinegen.world.spec import COLOURS, SHAPES, SIZES, ObjectSpec, SceneSpec

CORRUPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {  # name -> (must fail, may also change)
    "recolour": ("colour", ()),
    "wrong_shape": ("shape", ()),
    # Deleted next to another object, it reads as hidden behind it and never back: permanence.
    "delete": ("consistency|permanence", ("motion", "physics")),
    # The first frames set the size and the square/diamond orientation: reversed, they change.
    "reverse": ("motion", ("physics", "permanence", "camera", "size", "shape")),
    "wrong_direction": ("motion", ()),
    "shuffle": ("smoothness", ("motion", "physics", "permanence", "consistency", "camera", "count", "size", "shape")),
    "freeze": ("motion", ("camera",)),
    "flip_gravity": ("physics", ("motion", "consistency", "permanence", "smoothness")),
    "teleport": ("smoothness", ("motion", "permanence", "physics")),
}
OPPOSITE = {"right": "left", "left": "right", "up": "down", "down": "up", "up-right": "down-left",
            "down-left": "up-right", "up-left": "down-right", "down-right": "up-left", "cw": "ccw", "ccw": "cw"}


def applies(name: str, spec: SceneSpec, side: int = 64) -> bool:
    """Whether corruption `name` changes what the subject visibly shows in `spec` at `side` pixels."""
    o = spec.objects[0]
    if name == "wrong_shape":  # shape is not named below MIN_SHAPE_PX across
        return SIZES[o.size] * side >= MIN_SHAPE_PX
    if name == "reverse":
        return o.motion in ("move", "fall", "grow", "shrink", "orbit")
    if name == "wrong_direction":
        return o.motion in ("move", "orbit")
    if name == "shuffle":
        return o.motion in ("move", "fall", "bounce", "orbit")
    if name == "freeze":
        return o.motion in ("move", "fall", "bounce", "orbit", "grow", "shrink") or (
            o.motion == "rotate" and o.shape != "circle")
    if name == "flip_gravity":
        return o.motion in ("fall", "bounce")
    return name in CORRUPTIONS


def _render_like(spec: SceneSpec, clip: Clip) -> np.ndarray:
    h, w = clip.frames.shape[1:3]
    return render(spec, w, h, clip.fps, n_frames=len(clip.frames)).frames


def _without_subject(spec: SceneSpec, clip: Clip) -> np.ndarray:
    """The same video with the subject parked far outside the frame (static: it hits nothing).

    Without the subject the others no longer collide with it, so from the first such collision
    on they are elsewhere than in the clip: painting from those frames would leave a ghost of an
    object where the subject was. There the frame of a scene with every object parked (the bare
    background) is used instead; elsewhere an object the subject passed in front of shows."""
    park = lambda o: dataclasses.replace(o, motion="static", direction=None, speed=0.0, start=(9.0, 9.0))  # noqa: E731
    gone = _render_like(dataclasses.replace(spec, objects=(park(spec.objects[0]),) + spec.objects[1:]), clip)
    if len(spec.objects) == 1:
        return gone
    bare = _render_like(dataclasses.replace(spec, objects=tuple(park(o) for o in spec.objects)), clip)
    mask = _subject_mask(spec, clip)
    near = ndimage.binary_dilation(mask, np.ones((1, 5, 5), dtype=bool))  # (T, H, W) the subject and its rim
    others_moved = (np.abs(gone.astype(np.int16) - clip.frames).max(-1) > 0) & ~near
    return np.where(others_moved.any(axis=(1, 2))[:, None, None, None], bare, gone)


def _replace_subject(spec: SceneSpec, clip: Clip, **change: object) -> np.ndarray:
    return _render_like(dataclasses.replace(spec, objects=(dataclasses.replace(spec.objects[0], **change),) + spec.objects[1:]), clip)


def _subject_mask(spec: SceneSpec, clip: Clip) -> np.ndarray:
    """(T, H, W) pixels where the subject shows: those that change when only its colour does
    (colour plays no part in the physics, so nothing else moves)."""
    other = next(c for c in COLOURS if c not in {o.colour for o in spec.objects})
    return np.abs(_replace_subject(spec, clip, colour=other).astype(np.int16) - clip.frames).max(-1) > 0


def _move_subject(clip: Clip, background: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The clip with its subject moved by shift[t] = (dx, dy) pixels; where it was, the background
    (from a render without it) shows through.

    The subject is moved as coverage, not as pixels: its anti-aliased rim is a blend with the
    background where it was (p = b + α (c − b)), so each pixel's α is recovered from the render
    without it and the subject is blended anew over what lies where it lands. Copied pixels would
    carry the old background's tint along (a green fringe of grass into the sky), which reads as
    an extra object and breaks dimensions the corruption is not about."""
    frames = clip.frames
    mask = _subject_mask(clip.spec, clip)
    c = np.array(COLOURS[clip.spec.objects[0].colour], np.float32)
    bg = background.astype(np.float32)
    e = c - bg  # (T, H, W, 3)
    ee = (e * e).sum(-1)
    alpha = np.where(ee > 1.0, ((frames.astype(np.float32) - bg) * e).sum(-1) / np.maximum(ee, 1.0), 1.0)
    alpha = np.where(mask, np.clip(alpha, 0.0, 1.0), 0.0)  # (T, H, W)
    out = frames.copy()
    out[mask] = background[mask]
    h, w = frames.shape[1:3]
    for t in range(len(frames)):
        ys, xs = np.nonzero(mask[t])
        dx, dy = np.round(shift[t]).astype(int)
        ok = (ys + dy >= 0) & (ys + dy < h) & (xs + dx >= 0) & (xs + dx < w)
        ys, xs = ys[ok], xs[ok]
        a = alpha[t, ys, xs][:, None]
        under = out[t, ys + dy, xs + dx].astype(np.float32)
        out[t, ys + dy, xs + dx] = np.clip(np.round(under * (1 - a) + c * a), 0, 255).astype(np.uint8)
    return out


def corrupt(name: str, clip: Clip, seed: int = 0) -> np.ndarray:
    """The frames of `clip` made wrong in the way `name` says (see CORRUPTIONS)."""
    spec, frames = clip.spec, clip.frames
    o: ObjectSpec = spec.objects[0]
    rng = np.random.default_rng(seed)
    n, h, w = frames.shape[:3]
    if name == "recolour":
        free = [c for c in COLOURS if c not in {x.colour for x in spec.objects}]
        return _replace_subject(spec, clip, colour=free[int(rng.integers(len(free)))])
    if name == "wrong_shape":
        others = [s for s in SHAPES if s != o.shape]
        return _replace_subject(spec, clip, shape=others[int(rng.integers(len(others)))])
    if name == "wrong_direction":
        start = o.start
        if o.motion == "move":  # mirror the start too, so the object still crosses the frame
            mirror = {"left", "right"} & set(o.direction.split("-")), {"up", "down"} & set(o.direction.split("-"))
            start = (1.0 - start[0] if mirror[0] else start[0], 1.0 - start[1] if mirror[1] else start[1])
        return _replace_subject(spec, clip, direction=OPPOSITE[o.direction], start=start)
    if name == "reverse":
        return frames[::-1].copy()
    if name == "shuffle":
        order = rng.permutation(n)
        while n > 2 and (np.diff(order) == 1).mean() > 0.5:
            order = rng.permutation(n)
        return frames[order].copy()
    if name == "freeze":
        return np.repeat(frames[:1], n, axis=0)
    background = _without_subject(spec, clip)
    if name == "delete":
        out = frames.copy()
        gone = _subject_mask(spec, clip)
        gone[: n // 2] = False
        out[gone] = background[gone]
        return out
    centre = clip.truth[0].centre  # (T, 2) pixels
    shift = np.zeros((n, 2))
    if name == "flip_gravity":
        # Mirror the height about the middle of its range: it starts low and falls upward, in frame.
        y = centre[:, 1]
        shift[:, 1] = y[0] + y.max() - 2.0 * y
        return _move_subject(clip, background, shift)
    if name == "teleport":
        # Jump a third of the frame at mid-video, toward the side with more room.
        c = centre[n // 2] / [w, h]
        shift[n // 2 :] = [(0.33 if c[0] < 0.5 else -0.33) * w, (0.2 if c[1] < 0.5 else -0.2) * h]
        return _move_subject(clip, background, shift)
    raise ValueError(f"unknown corruption {name!r}; known: {sorted(CORRUPTIONS)}")


def judge(name: str, clean: dict, wrong: dict) -> tuple[bool, list[str]] | None:
    """(caught, broken): whether the target dimension fails on the wrong video, and which other
    dimensions that passed on the clean video (and are not expected to move) now fail. None when
    the target does not pass on the clean video (not measurable there, e.g. motion under a camera
    move on a plain background), so there is nothing to break.

    `clean` / `wrong` are score dicts of DimScore for the same expectation.
    """
    target, also = CORRUPTIONS[name]
    targets = target.split("|")
    if clean[targets[0]].passed is not True:
        return None
    caught = any(wrong[t].passed is False for t in targets)
    broken = [k for k, v in clean.items()
              if k not in targets and k not in also and v.passed is True and wrong[k].passed is False]
    return caught, broken
