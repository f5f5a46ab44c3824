"""Sliding windows over latent frames: how videos longer than the model's training window are made.

Each window holds `context` clean latent frames carried over from the window before (so motion and
identity continue across the seam) plus new frames; the first window is all new. Any length is
covered by windows of the trained size, and memory does not grow with length.

When frames are given (condition frames), the plan must let them shape the new frames next to them:
a video given only at its end (extend backward) is made right to left, and a short one given at both
ends (connect, loop) in one window (plan_conditioned).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cinegen.pipeline.limits import Geometry


@dataclass(frozen=True)
class Window:
    start: int  # first latent index of the window (context included)
    end: int  # one past the last latent index
    n_context: int  # latent frames held clean that an earlier window made: leading (trailing when backward)
    backward: bool = False

    @property
    def new(self) -> range:
        if self.backward:
            return range(self.start, self.end - self.n_context)
        return range(self.start + self.n_context, self.end)


def plan(n_frames: int, geometry: Geometry, window: int, context: int,
         known: Sequence[bool] | None = None) -> list[Window]:
    """The windows that make an `n_frames`-frame video under a model's geometry: its latent frames
    (geometry.latent_frames), windows of `window` latent frames carrying `context` from one to the next.
    `known` marks the latent frames given clean (one per latent frame; plan_conditioned's rules)."""
    n_latent = geometry.latent_frames(n_frames)
    if known is None:
        return plan_windows(n_latent, window, context)
    if len(known) != n_latent:
        raise ValueError(f"known has {len(known)} entries for {n_latent} latent frames")
    return plan_conditioned(known, window, context)


def plan_windows(n_latent: int, window: int, context: int, backward: bool = False) -> list[Window]:
    """Windows covering latent frames [0, n_latent): every frame generated exactly once, left to right
    (or right to left when `backward`: the mirror image of the same plan)."""
    if window < 1 or not 0 <= context < window:
        raise ValueError(f"need window ≥ 1 and 0 ≤ context < window, got {window}, {context}")
    if n_latent <= window:
        return [Window(0, n_latent, 0, backward)]
    out = [Window(0, window, 0)]
    done = window
    while done < n_latent:
        end = min(done + window - context, n_latent)
        out.append(Window(end - window, end, window - (end - done)))  # keep full size: more context at the tail
        done = end
    if backward:
        return [Window(n_latent - w.end, n_latent - w.start, w.n_context, True) for w in out]
    return out


def plan_conditioned(known: Sequence[bool], window: int, context: int) -> list[Window]:
    """Windows for latent frames of which `known` are given. Left to right, unless the given frames are
    only at the end (right to left, so the first window holds them), or at both ends of a video at most
    2·window − context long (one window: both ends shape every new frame; longer ones go left to right,
    the last window holding the end)."""
    n = len(known)
    head, tail = bool(known[0]), bool(known[-1])
    if n <= window or not tail:
        return plan_windows(n, window, context)
    if not head:
        return plan_windows(n, window, context, backward=True)
    if n <= 2 * window - context:
        return [Window(0, n, 0)]
    return plan_windows(n, window, context)
