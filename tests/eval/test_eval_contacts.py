"""Contacts the quality scores must tell apart from defects: two objects that collide between two
frames, free flight next to an object passed in front of, an object coming out from behind an
occluder; and the defects themselves (a turn with no one to meet, a return far from the track)."""
from __future__ import annotations

import dataclasses

import numpy as np

from cinegen.eval import corrupt
from cinegen.eval.describe import describe
from cinegen.eval.score import _meet, permanence, smoothness
from cinegen.eval.validate import occlusion_clip
from cinegen.world.render import render
from cinegen.world.spec import BACKGROUND_COLOURS, BackgroundSpec, ObjectSpec, SceneSpec


def _stars(speed: float) -> SceneSpec:
    # Stars fill under half of their disc, which is what the world's collisions use: they meet
    # while their blobs, seen as discs of equal area, are still far apart.
    a = ObjectSpec("star", "red", "large", "move", "right", (0.2, 0.5), speed)
    b = ObjectSpec("star", "blue", "medium", "move", "left", (0.8, 0.5), speed)
    return SceneSpec(BackgroundSpec("solid", "white"), (a, b), duration=1.0)


def test_collision_between_two_frames_is_smooth():
    for speed in (0.5, 0.7):
        clip = render(_stars(speed), 64, 64, 8.0)
        d = describe(clip.frames, clip.fps)
        assert smoothness(d).passed is True, (speed, smoothness(d).detail)
        # They do meet between frames, and neither frame shows them touching as discs of their area.
        meets = [b for b in range(1, d.n_frames - 1) if _meet(d, 0, 1, b)]
        assert meets


def test_turn_with_no_one_to_meet_is_not_smooth():
    # The same collision with the other star painted out: the red one turns back in the open.
    spec = _stars(0.5)
    clip = render(spec, 64, 64, 8.0)
    recoloured = render(dataclasses.replace(spec, objects=(spec.objects[0], dataclasses.replace(spec.objects[1], colour="green"))),
                        64, 64, 8.0).frames
    blue = np.abs(recoloured.astype(int) - clip.frames).max(-1) > 0  # (T, H, W) where the blue star shows
    frames = clip.frames.copy()
    frames[blue] = BACKGROUND_COLOURS["white"]
    s = smoothness(describe(frames, clip.fps))
    assert s.passed is False and "red star" in s.detail


def test_mover_passing_behind_an_occluder_comes_back_where_expected():
    passed = [permanence(describe(c.frames, c.fps)) for c in (occlusion_clip(s, 64, 8.0) for s in range(4))]
    assert all(p.passed is True for p in passed), [p.detail for p in passed]


def test_mover_coming_back_elsewhere_breaks_permanence():
    clip = occlusion_clip(1, 64, 8.0)
    d = describe(clip.frames, clip.fps)
    mover = clip.truth[0]
    hidden = np.flatnonzero(mover.visible < 0.05)
    assert len(hidden), "the mover never hides"
    # From the first frame it is hidden on, move it a quarter of the frame up (down, it would
    # land where a fall from behind the occluder could take it).
    shift = np.zeros((len(clip.frames), 2))
    shift[hidden[0]:, 1] = -16
    moved = corrupt._move_subject(clip, corrupt._without_subject(clip.spec, clip), shift)
    assert permanence(d).passed is True
    p = permanence(describe(moved, clip.fps))
    assert p.passed is False and "from prediction" in p.detail
