"""Cases the motion describer once got wrong: a large object filling a sky row, a rotating shape
grazing the frame edge, frames out of order split into two tracks, the shot motion is judged in,
and bounces a decoder smears and jitters."""
from __future__ import annotations

import numpy as np
import pytest

from cinegen.eval.describe import describe
from cinegen.eval.motion import MIN_ACCEL, classify_motion, flight_acceleration, judged_shot, turned_angle
from cinegen.world.render import render
from cinegen.world.spec import GRAVITY, BackgroundSpec, CameraSpec, ObjectSpec, SceneSpec


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


def _bounce_track(fps: float = 8.0, n: int = 33, restitution: float = 0.75) -> np.ndarray:
    """y of a ball dropped at 0.35 onto a floor at 0.8 under the world's gravity (sub-stepped)."""
    y, v, out, dt = 0.35, 0.0, [], 1 / fps / 50
    for _ in range(n):
        out.append(y)
        for _ in range(50):
            v += GRAVITY * dt
            y += v * dt
            if y > 0.8 and v > 0:
                y, v = 1.6 - y, -restitution * v
    return np.array(out)


def _classify(x: np.ndarray, y: np.ndarray, shape: str = "circle") -> tuple[str, str | None]:
    t = len(y)
    return classify_motion(np.c_[x, y], np.full(t, 0.02), np.zeros(t), np.ones(t, bool), np.zeros(t, bool),
                           shape, 8.0, np.c_[np.zeros((t, 2)), np.ones(t)], np.zeros(t, int))


def test_bounce_smeared_and_jittered_by_a_decoder_still_bounces():
    y, idx = _bounce_track(), np.arange(33)
    assert flight_acceleration(y, idx, 8.0) == pytest.approx(GRAVITY)  # clean: every triple is right
    assert flight_acceleration(y, idx, 8.0, skip_contacts=True) == pytest.approx(GRAVITY)
    # A decoder blends each frame with its neighbours and jitters the centroid: the triples near
    # the contacts (bounces 3-7 frames apart) outvote the flights, the flights alone do not.
    smeared = y.copy()
    smeared[1:-1] = 0.25 * y[:-2] + 0.5 * y[1:-1] + 0.25 * y[2:]
    x = np.linspace(0.7, 0.3, 33)
    for seed in range(5):
        noisy = smeared + np.random.default_rng(seed).normal(0.0, 0.006, 33)
        assert flight_acceleration(noisy, idx, 8.0) < MIN_ACCEL
        assert flight_acceleration(noisy, idx, 8.0, skip_contacts=True) > MIN_ACCEL
        assert _classify(x, noisy) == ("bounce", None)


def test_constant_speed_reflection_off_the_floor_is_no_bounce():
    t = np.arange(33) / 8.0
    y = 0.88 - np.abs(0.58 - 0.3 * t) + np.random.default_rng(0).normal(0.0, 0.004, 33)
    assert _classify(0.2 + 0.15 * t, y) == ("move", "down-right")
