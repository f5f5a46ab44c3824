"""Sliding windows over latent frames: how videos longer than the model's training window are made.

Each window holds `context` clean latent frames carried over from the window before (so motion and
identity continue across the seam) plus new frames; the first window is all new. Any length is
covered by windows of the trained size, and memory does not grow with length.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    start: int  # first latent index of the window (context included)
    end: int  # one past the last latent index
    n_context: int  # leading latent frames held clean (already generated)

    @property
    def new(self) -> range:
        return range(self.start + self.n_context, self.end)


def plan_windows(n_latent: int, window: int, context: int) -> list[Window]:
    """Windows covering latent frames [0, n_latent): every frame generated exactly once."""
    if window < 1 or not 0 <= context < window:
        raise ValueError(f"need window ≥ 1 and 0 ≤ context < window, got {window}, {context}")
    if n_latent <= window:
        return [Window(0, n_latent, 0)]
    out = [Window(0, window, 0)]
    done = window
    while done < n_latent:
        end = min(done + window - context, n_latent)
        out.append(Window(end - window, end, window - (end - done)))  # keep full size: more context at the tail
        done = end
    return out
