"""Cases the motion describer once got wrong: a large object filling a sky row, a rotating shape
grazing the frame edge, frames out of order split into two tracks, and the shot motion is judged in."""
from __future__ import annotations

import numpy as np

from cinegen.eval.describe import describe
from cinegen.eval.motion import judged_shot, turned_angle
from cinegen.world.render import render
from cinegen.world.spec import BackgroundSpec, CameraSpec, ObjectSpec, SceneSpec


def test_turned_angle_sums_steps_across_gaps_modulo_the_symmetry():
    # A triangle (period 2π/3) turning -0.15 rad a frame, with its orientation unknown for seven
    # frames (edge contact): half a period hides in the gap, so unwrapping across it would guess.
    ang = -0.15 * np.arange(20)
    ang[4:11] = np.nan
    ang = np.angle(np.exp(3j * ang)) / 3  # as measured: modulo the period
    net, total = turned_angle(ang, 3, np.zeros(20, dtype=int))
    assert np.isclose(net, -0.15 * 11) and np.isclose(total, 0.15 * 11)
    # A still shape's orientation noise sums to little; a cut is no turn.
    rng = np.random.default_rng(0)
    still = np.angle(np.exp(4j * rng.normal(0.0, 0.02, 30))) / 4
    assert abs(turned_angle(still, 4, np.zeros(30, dtype=int))[0]) < 0.35
    assert turned_angle(np.array([0.0, 0.5]), 3, np.array([0, 1])) == (0.0, 0.0)


def test_judged_shot_is_the_opening_one_unless_it_shows_the_object_far_less():
    shot = np.repeat([0, 1], 8)
    seen = np.ones(16, dtype=bool)
    assert judged_shot(seen, shot) == 0
    whole = np.r_[np.zeros(8, bool), np.ones(8, bool)]  # cut by a close framing in the first
    assert judged_shot(seen, shot, whole) == 1
    assert judged_shot(np.zeros(16, dtype=bool), shot) is None


def test_large_growing_object_over_a_sky_under_a_zoom_stays_in_place():
    # Grown and zoomed, the square fills most of its rows: a row median would be its colour.
    obj = ObjectSpec("square", "cyan", "large", "grow", None, (0.4, 0.55), 0.5)
    spec = SceneSpec(BackgroundSpec("sky"), (obj,), CameraSpec("zoom", "in", 0.3), duration=2.0)
    clip = render(spec, 64, 64, 8.0)
    d = describe(clip.frames, clip.fps)
    assert [(o.colour, o.motion) for o in d.objects] == [("cyan", "grow")]


def test_rotating_triangle_grazing_the_bottom_edge_rotates():
    obj = ObjectSpec("triangle", "purple", "medium", "rotate", "ccw", (0.41, 0.9), 2.4)
    clip = render(SceneSpec(BackgroundSpec("solid", "brown"), (obj,), duration=2.0), 64, 64, 16.0)
    assert describe(clip.frames, clip.fps).objects[0].motion == "rotate"


def test_frames_out_of_order_stay_one_track():
    obj = ObjectSpec("square", "green", "medium", "orbit", "cw", (0.25, 0.3), 1.2)
    clip = render(SceneSpec(BackgroundSpec("sky"), (obj,), duration=1.5), 64, 64, 8.0)
    order = np.random.default_rng(15).permutation(len(clip.frames))
    d = describe(clip.frames[order], clip.fps)
    assert len(d.objects) == 1  # interleaved pieces of one colour, never seen together: one object
