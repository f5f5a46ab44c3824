"""Shot cuts (eval/cuts.py): zoom cuts on faint, torn-up blobs, and none inside a ragged shot; plus the blob-seed hysteresis and the shape-drift margin that keep faint generated objects steady."""
from __future__ import annotations

import numpy as np

from cinegen.eval import cuts as C
from cinegen.eval import describe as D
from cinegen.eval import segment
from cinegen.eval.shapes import clearly_other, rasterise
from cinegen.pipeline.framing import reframe, subject_centre

BG = np.array([128.0, 128.0, 128.0])
RED = np.array([220.0, 40.0, 40.0])


def _faint_ragged(n: int = 16, side: int = 64, seed: int = 0, centre=(0.42, 0.55), alpha: float = 0.55,
                 radius: float = 0.08) -> np.ndarray:
    """A faint red disc on gray, a bit off-centre, torn into pieces that change every frame (random
    gaps of background across it) and with a level or two of noise: what a small generator makes."""
    rng = np.random.default_rng(seed)
    yy, xx = (np.mgrid[0:side, 0:side] + 0.5) / side
    disc = np.clip((radius - np.hypot(yy - centre[0], xx - centre[1])) * side + 0.5, 0.0, 1.0)
    frames = []
    for _ in range(n):
        gaps = np.ones((side, side))
        for _ in range(3):  # thin background stripes tear the blob apart
            r = rng.integers(side // 4, 3 * side // 4)
            gaps[r : r + 1] = 0.0 if rng.random() < 0.5 else gaps[r : r + 1]
            gaps[:, r : r + 1] = 0.0 if rng.random() < 0.5 else gaps[:, r : r + 1]
        a = alpha * disc * gaps * rng.uniform(0.8, 1.1)
        f = BG * (1 - a[..., None]) + RED * a[..., None] + rng.normal(0, 1.0, (side, side, 3))
        frames.append(f)
    return np.clip(np.rint(np.stack(frames)), 0, 255).astype(np.uint8)


def test_zoom_cut_found_on_ragged_faint_blobs():
    wide = _faint_ragged(24, seed=1)
    centre = subject_centre(wide[12])
    video = np.concatenate([wide[:12], reframe(wide[12:], "close-up", centre)])
    cuts, diff = C.detect_cuts(video)
    assert cuts == []  # few pixels change on a plain background
    assert C.zoom_cuts(video, diff, cuts) == [12]
    assert describe_cuts(video) == [12]


def test_zoom_cut_found_from_medium_to_close_up():
    wide = _faint_ragged(24, seed=2)
    centre = subject_centre(wide[0])
    video = np.concatenate([reframe(wide[:12], "medium", centre), reframe(wide[12:], "close-up", centre)])
    assert describe_cuts(video) == [12]


def test_no_zoom_cut_within_a_ragged_shot():
    # The pieces' areas flicker by 2x from frame to frame; none of that is a reframing.
    assert describe_cuts(_faint_ragged(24, seed=3)) == []


def test_no_zoom_cut_when_an_object_vanishes_or_jumps():
    a = _faint_ragged(16, seed=4, alpha=0.9)
    b = _faint_ragged(16, seed=4, alpha=0.9, centre=(0.7, 0.3))
    blank = np.broadcast_to(BG.astype(np.uint8), a.shape).copy()
    vanished = np.concatenate([a[:8], blank[8:]])
    jumped = np.concatenate([a[:8], b[8:]])
    for video in (vanished, jumped):
        cuts, diff = C.detect_cuts(video)
        assert C.zoom_cuts(video, diff, cuts) == []


def describe_cuts(video: np.ndarray) -> list[int]:
    return D.describe(video, 8.0).cuts


def test_seed_hysteresis_keeps_a_faint_frame_of_a_seen_blob():
    # Peak 0.6 in frames 0 and 2, 0.35 in frame 1 (under SEED_ALPHA, over SEED_LOW): kept in all
    # three; a blob at 0.35 throughout is noise and stays out.
    soft = np.zeros((3, 16, 16), np.float32)
    soft[:, 5:10, 5:10] = np.array([0.6, 0.35, 0.6])[:, None, None]
    assert segment.SEED_LOW < 0.35 < segment.SEED_ALPHA
    assert segment._half_peak(soft)[:, 7, 7].all()
    faint = np.where(soft > 0, np.float32(0.35), np.float32(0.0))
    assert not segment._half_peak(faint).any()


def test_shape_drift_needs_a_clear_margin():
    disc = rasterise("circle", 9.0)
    star = rasterise("star", 9.0)
    assert not clearly_other([disc], None, "circle")
    assert clearly_other([star], None, "circle")
