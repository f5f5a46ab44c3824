"""describe/score on ground-truth renders and on deliberately wrong videos (tiny, CPU)."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from cinegen.eval import corrupt
from cinegen.eval.describe import describe
from cinegen.eval.parse import expected_from_spec
from cinegen.eval.score import score_description
from cinegen.world.render import render
from cinegen.world.scene import sample_scene
from cinegen.world.spec import BackgroundSpec, ObjectSpec, SceneSpec


def _one(motion="static", direction=None, speed=0.0, shape="square", colour="red", size="large", bg="gray", start=(0.5, 0.5)):
    obj = ObjectSpec(shape, colour, size, motion, direction, start, speed)
    return SceneSpec(BackgroundSpec("solid", bg), (obj,), duration=2.0)


def test_describe_single_moving_object():
    spec = _one("move", "right", 0.2, shape="star", colour="blue", size="medium", start=(0.3, 0.5))
    clip = render(spec, 96, 96, 8.0)
    d = describe(clip.frames, clip.fps)
    assert d.background == "solid" and d.background_colour == "gray"
    assert len(d.objects) == 1
    o = d.objects[0]
    assert (o.colour, o.shape, o.size, o.motion, o.direction) == ("blue", "star", "medium", "move", "right")
    # The track follows the truth centre to within a pixel.
    err = np.abs(o.centre * 96 - clip.truth[0].centre).max()
    assert err < 1.0


@pytest.mark.parametrize("shape", ["circle", "square", "triangle", "diamond", "star", "hexagon"])
def test_shape_named_at_128(shape):
    clip = render(_one(shape=shape, size="medium", colour="green", bg="white"), 128, 128, 8.0, n_frames=3)
    assert describe(clip.frames, clip.fps).objects[0].shape == shape


def test_agreement_on_random_scenes():
    ok, tot = Counter(), Counter()
    rng = np.random.default_rng(0)
    for i in range(40):
        spec = sample_scene(1000 + i, duration=1.0)
        side = int(rng.choice([64, 96, 128]))
        clip = render(spec, side, side, float(rng.choice([8.0, 12.0])))
        for k, v in score_description(describe(clip.frames, clip.fps), expected_from_spec(spec)).items():
            if v.passed is not None:
                tot[k] += 1
                ok[k] += bool(v.passed)
    rate = {k: ok[k] / tot[k] for k in tot}
    for dim in ("colour", "count", "size", "background"):
        assert rate[dim] >= 0.95, (dim, rate)
    for dim in ("shape", "motion", "consistency"):
        assert rate[dim] >= 0.8, (dim, rate)


def test_corruptions_fail_their_dimension():
    spec = _one("move", "right", 0.25, colour="red", start=(0.3, 0.5))
    clip = render(spec, 64, 64, 8.0)
    e = expected_from_spec(spec)
    good = score_description(describe(clip.frames, 8.0), e)
    assert good["colour"].passed and good["motion"].passed and good["consistency"].passed
    recol = score_description(describe(corrupt.recolour(clip.frames, "red", "blue"), 8.0), e)
    assert recol["colour"].passed is False and recol["motion"].passed
    rev = score_description(describe(corrupt.reverse(clip.frames), 8.0), e)
    assert rev["motion"].passed is False and rev["colour"].passed
    frozen = score_description(describe(corrupt.freeze(clip.frames), 8.0), e)
    assert frozen["motion"].passed is False
    bg = np.broadcast_to(clip.frames[:, :1, :1], clip.frames.shape)  # solid background colour
    gone = score_description(describe(corrupt.delete(clip.frames, "red", bg, 8), 8.0), e)
    assert gone["consistency"].passed is False and gone["colour"].passed
