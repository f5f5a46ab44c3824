"""Bucketing by (frames, height, width): every clip trains near its native size, aspect and length.

Sora trains on videos at their native aspect ratio and duration instead of cropping everything to
a square of fixed length (Brooks et al., 2024, "Video generation models as world simulators").
Batches still need one shape, so each clip is mapped to the nearest bucket from a short list
(closest aspect ratio, then the longest length it can fill, then the closest area), resized to
cover the bucket and centre-cropped, and trimmed to the bucket's 1 + 4k frames (the causal VAE
encodes the first frame alone and then 4 frames per latent frame). `BucketBatchSampler` then
draws each batch from a single bucket.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
from PIL import Image

from cinegen.common.errors import InputError

TIME_FACTOR = 4  # the VAE's temporal compression: valid lengths are 1 + 4k


def valid_length(n_frames: int, time_factor: int = TIME_FACTOR) -> int:
    """The largest 1 + time_factor·k that is ≤ n_frames (1 for an image)."""
    if n_frames < 1:
        raise InputError(f"a clip needs at least one frame, got {n_frames}")
    return 1 + time_factor * ((n_frames - 1) // time_factor)


@dataclass(frozen=True)
class Bucket:
    frames: int  # 1 + 4k
    height: int
    width: int

    def __post_init__(self) -> None:
        if self.frames < 1 or (self.frames - 1) % TIME_FACTOR:
            raise InputError(f"bucket frames must be 1 + {TIME_FACTOR}k, got {self.frames}")
        if self.height < 1 or self.width < 1:
            raise InputError(f"bucket size must be positive, got {self.height}x{self.width}")

    @property
    def aspect(self) -> float:
        return self.width / self.height


def _grid_size(pixels: int, aspect: float, multiple: int) -> tuple[int, int]:
    """(H, W), multiples of `multiple`, closest to `aspect` and `pixels`; aspect errors count double
    because at small sizes plain rounding can turn 3:4 into 3:5."""
    best, best_err = (multiple, multiple), math.inf
    h_max = int(math.sqrt(pixels / aspect) * 1.5 / multiple) + 2
    for h in range(multiple, h_max * multiple, multiple):
        w = max(multiple, round(h * aspect / multiple) * multiple)
        err = 2 * abs(math.log(w / h / aspect)) + abs(math.log(h * w / pixels))
        if err < best_err:
            best, best_err = (h, w), err
    return best


def make_buckets(
    pixels: int = 64 * 64,
    aspects: Sequence[float] = (9 / 16, 3 / 4, 1.0, 4 / 3, 16 / 9),
    frame_counts: Sequence[int] = (1, 9, 17),
    multiple: int = 8,
) -> list[Bucket]:
    """One bucket per (aspect, length), each with about `pixels` pixels per frame, sides multiples of `multiple`.

    Aspect is width / height. A 1-frame bucket per aspect lets images train at their native shape.
    """
    if pixels < multiple * multiple:
        raise InputError(f"pixels must be at least {multiple}x{multiple}, got {pixels}")
    buckets = []
    for aspect in aspects:
        if not aspect > 0:
            raise InputError(f"aspect ratios must be positive, got {aspect}")
        h, w = _grid_size(pixels, aspect, multiple)
        for t in frame_counts:
            buckets.append(Bucket(t, h, w))
    return list(dict.fromkeys(buckets))  # distinct, in order


def assign_bucket(n_frames: int, height: int, width: int, buckets: Sequence[Bucket]) -> int:
    """Index of the bucket for a (T, H, W) clip: closest aspect ratio, then the longest bucket the
    clip can fill (never longer than the clip), then the closest area. InputError if none fits."""
    fits = [i for i, b in enumerate(buckets) if b.frames <= n_frames]
    if not fits:
        raise InputError(f"no bucket is {n_frames} frames or shorter")
    aspect, area = width / height, height * width

    def key(i: int) -> tuple[float, int, float]:
        b = buckets[i]
        return (round(abs(math.log(b.aspect / aspect)), 6), -b.frames, abs(math.log(b.height * b.width / area)))

    return min(fits, key=key)


def resize_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale (T, H, W, 3) uint8 to cover (height, width), keeping aspect, then centre-crop."""
    t, h, w, _ = frames.shape
    if (h, w) == (height, width):
        return frames
    scale = max(height / h, width / w)
    sh, sw = max(height, round(h * scale)), max(width, round(w * scale))
    top, left = (sh - height) // 2, (sw - width) // 2
    out = np.empty((t, height, width, 3), np.uint8)  # (T, h', w', 3)
    for i, frame in enumerate(frames):
        big = Image.fromarray(frame).resize((sw, sh), Image.Resampling.BICUBIC, reducing_gap=2.0)
        out[i] = np.asarray(big)[top : top + height, left : left + width]
    return out


def fit_to_bucket(frames: np.ndarray, bucket: Bucket) -> np.ndarray:
    """Trim to the bucket's first `bucket.frames` frames and resize / centre-crop to its size."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise InputError(f"frames must be (T, H, W, 3), got {tuple(frames.shape)}")
    if frames.shape[0] < bucket.frames:
        raise InputError(f"a {frames.shape[0]}-frame clip cannot fill a {bucket.frames}-frame bucket")
    return resize_crop(frames[: bucket.frames], bucket.height, bucket.width)


class BucketBatchSampler:
    """Batches of dataset indices, each from one bucket; deterministic per (seed, epoch); DDP-shardable.

    Every epoch, each bucket's indices are shuffled and cut into batches of `batch_size`, and the
    batches of all buckets are shuffled together. Rank r of `world_size` takes every world_size-th
    batch, so ranks are disjoint and together cover every batch. All ranks get the same number of
    batches (DDP steps in lockstep): with drop_last the few left over are dropped, otherwise the
    short ranks repeat batches from the start. Call `set_epoch(e)` before each epoch.
    """

    def __init__(self, bucket_ids: Sequence[int], batch_size: int, seed: int = 0, rank: int = 0,
                 world_size: int = 1, drop_last: bool = False, shuffle: bool = True):
        if batch_size < 1:
            raise InputError(f"batch_size must be ≥ 1, got {batch_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise InputError(f"rank {rank} is not in a world of size {world_size}")
        self.bucket_ids = np.asarray(bucket_ids, dtype=np.int64)
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def all_batches(self) -> list[list[int]]:
        """This epoch's batches for every rank together, in order."""
        rng = np.random.default_rng([self.seed, self.epoch])
        batches: list[list[int]] = []
        for bucket in np.unique(self.bucket_ids):
            idx = np.flatnonzero(self.bucket_ids == bucket)
            if self.shuffle:
                idx = rng.permutation(idx)
            for start in range(0, len(idx), self.batch_size):
                batch = idx[start : start + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch.tolist())
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def _per_rank(self, n_batches: int) -> int:
        if self.drop_last:
            return n_batches // self.world_size
        return -(-n_batches // self.world_size)

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.all_batches()
        n = self._per_rank(len(batches))
        for k in range(n):
            yield batches[(k * self.world_size + self.rank) % len(batches)]

    def __len__(self) -> int:
        return self._per_rank(len(self.all_batches()))
