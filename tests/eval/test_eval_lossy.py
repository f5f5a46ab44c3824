"""Scores of ground truth barely move after H.264 at CRF 28 and a 0.5× downscale."""
from __future__ import annotations

from cinegen.eval.validate import Case, lossy, lossy_change


def test_lossy_round_trip_keeps_scores():
    change, flips = lossy_change([Case(200 + i, 128, 8.0, 1.5) for i in range(6)])
    assert change <= 0.03, change
    assert flips <= 0.1, flips


def test_lossy_halves_and_keeps_length():
    clip = Case(1, 64, 8.0, 1.0).clip()
    out = lossy(clip.frames, clip.fps)
    assert out.shape == (len(clip.frames), 32, 32, 3)
    assert abs(out.astype(float).mean() - clip.frames.astype(float).mean()) < 8
