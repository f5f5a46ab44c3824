"""WorldStream: deterministic items, images mixed in, exact resume, disjoint worker / rank shards."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from cinegen.common.errors import InputError
from cinegen.data import WorldStream


def take(stream, n):
    return list(itertools.islice(iter(stream), n))


def test_items_are_deterministic_and_shaped():
    a = take(WorldStream(seed=5, width=24, height=16, n_frames=9, image_fraction=0.3), 12)
    b = take(WorldStream(seed=5, width=24, height=16, n_frames=9, image_fraction=0.3), 12)
    c = take(WorldStream(seed=6, width=24, height=16, n_frames=9, image_fraction=0.3), 12)
    for x, y in zip(a, b):
        assert np.array_equal(x["frames"], y["frames"]) and x["caption"] == y["caption"]
    assert [x["caption"] for x in a] != [x["caption"] for x in c]
    lengths = [x["frames"].shape[0] for x in a]
    assert set(lengths) == {1, 9}  # images and clips both appear
    for x in a:
        assert x["frames"].shape[1:] == (16, 24, 3) and x["frames"].dtype == np.uint8
        assert isinstance(x["caption"], str) and x["caption"]
        assert json.loads(x["spec_json"])["objects"]


def test_caption_modes_and_image_fraction():
    long = [x["caption"] for x in take(WorldStream(seed=1, width=8, height=8, n_frames=5, caption_mode="long"), 6)]
    short = [x["caption"] for x in take(WorldStream(seed=1, width=8, height=8, n_frames=5, caption_mode="short"), 6)]
    assert np.mean([s.count(". ") for s in long]) > np.mean([s.count(". ") for s in short]) + 1  # more sentences
    images = take(WorldStream(seed=2, width=8, height=8, n_frames=5, image_fraction=1.0), 4)
    assert all(x["frames"].shape[0] == 1 for x in images)
    with pytest.raises(InputError):
        WorldStream(n_frames=8)


def test_resume_and_rank_sharding():
    full = take(WorldStream(seed=3, width=8, height=8, n_frames=5), 6)
    resumed = take(WorldStream(seed=3, width=8, height=8, n_frames=5, start=4), 2)
    assert [x["index"] for x in resumed] == [4, 5]
    assert all(np.array_equal(x["frames"], y["frames"]) for x, y in zip(full[4:], resumed))
    ranks = [take(WorldStream(seed=3, width=8, height=8, n_frames=5, rank=r, world_size=2), 3) for r in range(2)]
    assert sorted(x["index"] for r in ranks for x in r) == list(range(6))
