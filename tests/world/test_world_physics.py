"""Physics: bouncing, falling, directions, orbits, collisions, fps independence."""
import numpy as np
import pytest

from cinegen.world import render, sample_scene
from cinegen.world.physics import mass, object_states
from cinegen.world.spec import DIRECTIONS, FLOOR_Y, SIZES, BackgroundSpec, ObjectSpec, SceneSpec


def _scene(*objects: ObjectSpec, duration: float = 2.0) -> SceneSpec:
    return SceneSpec(background=BackgroundSpec(), objects=objects, duration=duration)


def test_bounce_stays_above_floor_and_apexes_decay():
    ball = ObjectSpec(shape="circle", colour="red", size="medium", motion="bounce", start=(0.5, 0.2))
    t = np.arange(0, 4.0, 1 / 240)
    y = object_states(_scene(ball, duration=4.0), t).centre[:, 0, 1]
    bottom = y + SIZES["medium"] / 2
    assert bottom.max() <= FLOOR_Y + 1e-9
    assert bottom.max() > FLOOR_Y - 0.01  # it does reach the floor
    # Apexes: the highest points (local minima of y) between bounces.
    apex = np.flatnonzero((y[1:-1] < y[:-2]) & (y[1:-1] <= y[2:])) + 1
    apexes = y[apex]
    assert len(apexes) >= 2
    heights = FLOOR_Y - SIZES["medium"] / 2 - np.array(apexes)
    assert np.all(np.diff(heights) < 0) and abs(heights[1] / heights[0] - 0.64) < 0.05


def test_fall_comes_to_rest_on_floor():
    obj = ObjectSpec(shape="square", colour="blue", size="small", motion="fall", start=(0.3, 0.2))
    y = object_states(_scene(obj), np.linspace(1.5, 2.0, 5)).centre[:, 0, 1]
    assert np.allclose(y, FLOOR_Y - SIZES["small"] / 2, atol=1e-6)


@pytest.mark.parametrize("direction", list(DIRECTIONS))
def test_eight_directions_move_the_right_way(direction):
    spec = sample_scene(7, n_objects=1, motion="move", direction=direction, camera="static")
    c = render(spec, 64, 64, fps=8.0).truth[0].centre
    d = c[-1] - c[0]
    ux, uy = DIRECTIONS[direction]
    assert np.dot(d, (ux, uy)) / np.linalg.norm(d) > 0.99 and np.linalg.norm(d) > 5


def test_orbit_keeps_radius_and_rotate_turns():
    orb = ObjectSpec(shape="star", colour="pink", size="small", motion="orbit", direction="ccw", start=(0.8, 0.5), speed=2.0)
    c = object_states(_scene(orb), np.linspace(0, 2, 50), 64, 64).centre[:, 0]
    r = np.hypot(c[:, 0] - 0.5, c[:, 1] - 0.5)
    assert np.allclose(r, 0.3, atol=1e-9)
    rot = ObjectSpec(shape="square", colour="pink", size="small", motion="rotate", direction="ccw", speed=2.0)
    a = object_states(_scene(rot), np.array([0.0, 1.0])).angle[:, 0]
    assert a[1] == pytest.approx(-2.0)


def test_collision_conserves_momentum():
    a = ObjectSpec(shape="circle", colour="red", size="large", motion="move", direction="right", start=(0.2, 0.5), speed=0.4)
    b = ObjectSpec(shape="circle", colour="blue", size="small", motion="move", direction="left", start=(0.8, 0.52), speed=0.3)
    clip = render(_scene(a, b), 64, 64, fps=24.0)
    m = np.array([mass(a), mass(b)])
    v = np.stack([np.diff(t.centre, axis=0) for t in clip.truth], 1)  # (T-1, 2, 2) px / frame
    p = (v * m[None, :, None]).sum(1)
    before, after = p[1], p[-2]
    assert np.linalg.norm(after - before) < 0.1 * np.linalg.norm(before)
    assert v[-2, 1, 0] > 0  # the small ball was knocked back to the right
    gap = np.hypot(*(clip.truth[0].centre - clip.truth[1].centre).T)
    assert gap.min() > 0.9 * (SIZES["large"] + SIZES["small"]) / 2 * 64


def test_same_trajectory_at_any_fps():
    spec = sample_scene(3, n_objects=2, motion="bounce")
    lo = render(spec, 64, 64, fps=4.0).truth[0].centre
    hi = render(spec, 64, 64, fps=12.0).truth[0].centre
    assert np.allclose(lo, hi[::3], atol=1e-6)


def test_sampled_scenes_start_inside_and_mostly_stay_visible():
    vis = []
    for seed in range(40):
        clip = render(sample_scene(seed), 32, 32, fps=4.0)
        for t in clip.truth:
            assert 0 <= t.centre[0, 0] <= 32 and 0 <= t.centre[0, 1] <= 32
            vis.append(t.visible.mean())
    assert np.mean(vis) > 0.85
