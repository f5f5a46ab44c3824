"""The storyboard's virtual camera: finds the subjects, zooms as the world's camera does, stays in frame."""
import numpy as np
import pytest

from cinegen.pipeline.framing import crop_box, reframe, subject_centre
from cinegen.world.camera import FRAMING_ZOOM


def _frame(top=20, left=36, size=8, h=64, w=64):
    f = np.full((h, w, 3), 128, np.uint8)
    f[top : top + size, left : left + size] = (220, 30, 30)
    return f


def _box(frame):
    ys, xs = np.nonzero(frame[..., 0].astype(int) - frame[..., 1] > 100)
    return ys.min(), ys.max() + 1, xs.min(), xs.max() + 1


def test_subject_centre_finds_the_object():
    cy, cx = subject_centre(_frame(top=20, left=36, size=8))
    assert cy == pytest.approx(24 / 64) and cx == pytest.approx(40 / 64)
    assert subject_centre(np.full((32, 32, 3), 90, np.uint8)) == (0.5, 0.5)  # nothing stands out


def test_wide_is_unchanged_and_closeup_zooms_on_the_subject():
    frames = np.stack([_frame(), _frame(left=38)])
    assert reframe(frames, "wide", (0.4, 0.6)) is frames
    centre = subject_centre(frames[0])
    close = reframe(frames, "close-up", centre)
    assert close.shape == frames.shape and close.dtype == np.uint8
    t, b, l, r = _box(close[0])
    zoom = FRAMING_ZOOM["close-up"]
    assert abs((b - t) - 8 * zoom) <= 2 and abs((r - l) - 8 * zoom) <= 2  # the subject grows by the zoom ...
    assert abs((t + b) / 2 - 32) <= 1.5 and abs((l + r) / 2 - 32) <= 1.5  # ... at the centre of the view
    assert _box(close[1])[2] > l  # the camera holds still: the subject's own motion is kept (and magnified)


def test_view_stays_in_frame():
    top, left, ch, cw = crop_box((64, 96), (0.02, 0.99), 2.0)
    assert (top, left, ch, cw) == (0.0, 48.0, 32.0, 48.0)
    close = reframe(_frame(top=0, left=0)[None], "medium", (0.0, 0.0))
    assert close[0, 0, 0].tolist() == [220, 30, 30]  # a corner subject stays in the corner, no border fill
