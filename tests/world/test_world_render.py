"""Rendering: determinism, any frame shape, ground truth that matches the pixels, occlusion."""
import numpy as np
import pytest

from cinegen.common.errors import InputError
from cinegen.world import render, sample_scene
from cinegen.world.spec import COLOURS, BackgroundSpec, ObjectSpec, SceneSpec


def _scene(*objects: ObjectSpec, background: str = "solid") -> SceneSpec:
    return SceneSpec(background=BackgroundSpec(kind=background, colour="black"), objects=objects)


def _mask(clip, colour: str) -> np.ndarray:
    """Per-pixel share of `colour` over the black background, (T, H, W) in [0, 1]."""
    c = np.array(COLOURS[colour], float)
    bg = np.array((18, 18, 22), float)
    f = clip.frames.astype(float)
    return np.clip(((f - bg) @ (c - bg)) / ((c - bg) @ (c - bg)), 0, 1)


def test_same_seed_same_frames_different_seed_differs():
    a = render(sample_scene(11), 48, 40, 8.0)
    b = render(sample_scene(11), 48, 40, 8.0)
    c = render(sample_scene(12), 48, 40, 8.0)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


@pytest.mark.parametrize("size", [(64, 64), (33, 17), (24, 60), (1, 1)])
def test_any_size_and_frame_count(size):
    w, h = size
    spec = sample_scene(5, duration=1.5)
    clip = render(spec, w, h, fps=6.0)
    assert clip.frames.shape == (round(1.5 * 6) + 1, h, w, 3) and clip.frames.dtype == np.uint8
    assert clip.camera.shape == (10, 3) and clip.shot.shape == (10,)
    one = render(spec, w, h, fps=6.0, n_frames=1)
    assert one.frames.shape == (1, h, w, 3)
    assert np.array_equal(one.frames[0], clip.frames[0])
    assert len(clip.truth) == len(spec.objects) and clip.truth[0].box.shape == (10, 4)


def test_bad_sizes_raise():
    with pytest.raises(InputError):
        render(sample_scene(0), 0, 10)
    with pytest.raises(InputError):
        render(sample_scene(0), 10, 10, fps=0)


@pytest.mark.parametrize("shape", ["circle", "square", "triangle", "diamond", "star", "hexagon"])
def test_truth_centre_and_visibility_match_pixels(shape):
    obj = ObjectSpec(shape=shape, colour="red", size="large", motion="rotate", direction="cw", start=(0.4, 0.55), speed=1.0)
    clip = render(_scene(obj), 80, 64, fps=4.0)
    m = _mask(clip, "red")
    ys, xs = np.mgrid[0:64, 0:80] + 0.5
    for t in range(len(m)):
        cx = (m[t] * xs).sum() / m[t].sum()
        cy = (m[t] * ys).sum() / m[t].sum()
        assert np.hypot(cx - clip.truth[0].centre[t, 0], cy - clip.truth[0].centre[t, 1]) < 1.0
        x0, y0, x1, y1 = clip.truth[0].box[t]
        inside = m[t] > 0.5
        assert xs[inside].min() > x0 - 1 and xs[inside].max() < x1 + 1
        assert ys[inside].min() > y0 - 1 and ys[inside].max() < y1 + 1
    assert np.allclose(clip.truth[0].visible, 1.0, atol=0.01)


def test_frame_edge_cuts_visibility():
    obj = ObjectSpec(shape="square", colour="blue", size="large", start=(0.0, 0.5))  # half outside
    clip = render(_scene(obj), 64, 64, n_frames=1)
    full = render(_scene(ObjectSpec(shape="square", colour="blue", size="large")), 64, 64, n_frames=1)
    share = _mask(clip, "blue").sum() / _mask(full, "blue").sum()
    assert abs(clip.truth[0].visible[0] - 0.5) < 0.03
    assert abs(clip.truth[0].visible[0] - share) < 0.03


def test_nearer_object_wins_and_truth_counts_occlusion():
    far = ObjectSpec(shape="circle", colour="red", size="large", start=(0.45, 0.5), depth=0)
    near = ObjectSpec(shape="square", colour="green", size="medium", start=(0.55, 0.5), depth=1)
    for objects in ((far, near), (near, far)):  # spec order must not matter, only depth
        clip = render(_scene(*objects), 64, 64, n_frames=1)
        px = clip.frames[0, 32, 35]  # inside both
        assert tuple(px) == COLOURS["green"]
        t_far = clip.truth[objects.index(far)]
        t_near = clip.truth[objects.index(near)]
        assert t_near.visible[0] > 0.99 and 0.3 < t_far.visible[0] < 0.9
        alone = render(_scene(far), 64, 64, n_frames=1)
        # Unmix each pixel into background + a * red + b * green (least squares over RGB).
        bg = np.array((18, 18, 22), float)
        basis = np.stack([np.array(COLOURS["red"]) - bg, np.array(COLOURS["green"]) - bg], 1)  # (3, 2)
        ab = np.linalg.lstsq(basis, (clip.frames[0].reshape(-1, 3) - bg).T, rcond=None)[0]
        share = ab[0].clip(0, 1).sum() / _mask(alone, "red").sum()
        assert abs(t_far.visible[0] - share) < 0.03


def test_antialiased_edges_and_backgrounds_differ():
    obj = ObjectSpec(shape="circle", colour="yellow", size="large")
    clip = render(_scene(obj), 64, 64, n_frames=1)
    m = _mask(clip, "yellow")[0]
    assert ((m > 0.05) & (m < 0.95)).sum() > 20  # partial-coverage pixels on the outline
    means = [render(_scene(obj, background=k), 32, 32, n_frames=1).frames.mean() for k in ("solid", "sky", "checker")]
    assert len({round(v) for v in means}) == 3


def test_camera_pan_and_zoom_move_the_view():
    pan = sample_scene(2, n_objects=1, motion="static", camera="pan", camera_direction="left")
    clip = render(pan, 64, 64, fps=8.0)
    dx = clip.truth[0].centre[-1, 0] - clip.truth[0].centre[0, 0]
    assert dx > 1.0 and clip.camera[-1, 0] < clip.camera[0, 0]  # camera left -> world slides right
    zoom = sample_scene(2, n_objects=1, motion="static", camera="zoom", camera_direction="in")
    z = render(zoom, 64, 64, fps=8.0)
    assert z.camera[-1, 2] > z.camera[0, 2] and z.truth[0].box[-1, 2] - z.truth[0].box[-1, 0] > z.truth[0].box[0, 2] - z.truth[0].box[0, 0]


def test_multi_shot_reframes():
    spec = sample_scene(4, n_objects=1, motion="static", camera="static", n_shots=2, framings=["wide", "close-up"])
    clip = render(spec, 64, 64, fps=8.0)
    assert clip.shot[0] == 0 and clip.shot[-1] == 1
    assert clip.camera[0, 2] == 1.0 and clip.camera[-1, 2] > 2.0
    assert abs(clip.truth[0].centre[-1] - 32).max() < 2.0  # the close-up centres the object
