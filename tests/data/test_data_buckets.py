"""Bucketing: native aspect ratios, 1 + 4k lengths, single-bucket batches, seeded and DDP-sharded sampling."""
from __future__ import annotations

import numpy as np
import pytest

from cinegen.common.errors import InputError
from cinegen.data import Bucket, BucketBatchSampler, assign_bucket, fit_to_bucket, make_buckets, valid_length


def test_valid_length():
    assert [valid_length(n) for n in (1, 4, 5, 8, 9, 12, 33)] == [1, 1, 5, 5, 9, 9, 33]
    with pytest.raises(InputError):
        Bucket(8, 16, 16)


def test_make_buckets_sizes():
    buckets = make_buckets(pixels=64 * 64, frame_counts=(1, 9))
    assert len(buckets) == 10
    for b in buckets:
        assert b.height % 8 == 0 and b.width % 8 == 0
        assert 0.8 < b.height * b.width / 4096 < 1.25
    assert {(b.height, b.width) for b in buckets} >= {(64, 64), (48, 88), (88, 48)}


def test_assign_bucket_keeps_native_aspect_and_length():
    buckets = make_buckets(pixels=32 * 32, frame_counts=(1, 9, 17))
    wide = buckets[assign_bucket(20, 180, 320, buckets)]  # 16:9, long enough for 17
    tall = buckets[assign_bucket(12, 320, 240, buckets)]  # 3:4, 12 frames → 9
    image = buckets[assign_bucket(1, 100, 100, buckets)]
    assert wide.aspect > 1.5 and wide.frames == 17
    assert 0.7 < tall.aspect < 0.8 and tall.frames == 9
    assert image.aspect == 1 and image.frames == 1
    with pytest.raises(InputError):
        assign_bucket(5, 10, 10, [Bucket(9, 8, 8)])


def test_fit_to_bucket_trims_and_centre_crops():
    frames = np.zeros((12, 20, 40, 3), np.uint8)
    frames[:, :, 10:30] = 255  # a white centre band half the width
    out = fit_to_bucket(frames, Bucket(9, 16, 16))
    assert out.shape == (9, 16, 16, 3) and out.dtype == np.uint8
    assert out[:, :, 4:12].min() > 200  # the centre is kept ...
    assert out.mean() > 200  # ... and the black sides are cropped away


def batches_of(sampler, epoch):
    sampler.set_epoch(epoch)
    return list(sampler)


def test_sampler_single_bucket_batches_and_determinism():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 3, 50)
    sampler = BucketBatchSampler(ids, batch_size=4, seed=7)
    batches = batches_of(sampler, 0)
    assert all(len(set(ids[b])) == 1 for b in batches)  # never mixes buckets
    assert sorted(i for b in batches for i in b) == list(range(50))  # every item once
    assert batches == batches_of(BucketBatchSampler(ids, batch_size=4, seed=7), 0)
    assert batches != batches_of(sampler, 1)
    assert batches != batches_of(BucketBatchSampler(ids, batch_size=4, seed=8), 0)
    dropped = batches_of(BucketBatchSampler(ids, batch_size=4, seed=7, drop_last=True), 0)
    assert all(len(b) == 4 for b in dropped) and len(dropped) == len(sampler) - 3


def test_sampler_ddp_shards_are_disjoint_and_complete():
    ids = np.repeat([0, 1, 2], [16, 8, 24])  # 12 full batches of 4
    world = [BucketBatchSampler(ids, batch_size=4, seed=3, rank=r, world_size=3) for r in range(3)]
    shards = [batches_of(s, 2) for s in world]
    assert [len(s) for s in shards] == [4, 4, 4]
    items = [i for shard in shards for b in shard for i in b]
    assert sorted(items) == list(range(48))  # disjoint and together all
    assert sorted(map(tuple, sum(shards, []))) == sorted(map(tuple, batches_of(BucketBatchSampler(ids, 4, seed=3), 2)))
    uneven = [BucketBatchSampler(ids[:44], 4, seed=3, rank=r, world_size=3) for r in range(3)]
    assert len({len(s) for s in uneven}) == 1  # equal steps per rank for DDP lockstep
