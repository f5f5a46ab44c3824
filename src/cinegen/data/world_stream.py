"""The procedural world as an endless, deterministic stream of captioned clips: the built-in training set.

Item i is a function of (seed, i) alone, so a run resumes exactly by restarting at its next index
(`start`), and DataLoader workers / DDP ranks split the stream by striding over indices.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from cinegen.common.errors import InputError
from cinegen.data.buckets import TIME_FACTOR
from cinegen.world import render, sample_scene
from cinegen.world.captions import make_captions

CAPTION_MODES = ("mixed", "long", "short")
LONG_CAPTION_P = 0.8  # "mixed": mostly descriptive captions, sometimes the short prompts users type


def item_seed(seed: int, index: int) -> int:
    """A well-mixed 63-bit seed for item `index` of stream `seed` (neighbouring items are unrelated)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(2, np.uint64)[0] >> np.uint64(1))


class WorldStream(torch.utils.data.IterableDataset):
    """Infinite iterator of dict(frames uint8 (T, H, W, 3), caption str, spec_json str, index int).

    A fraction `image_fraction` of items are images (T = 1); the rest have `n_frames` frames
    (1 + 4k, the VAE's valid lengths) rendered at `fps`. caption_mode: "long", "short", or
    "mixed" (long captions 80% of the time).
    """

    def __init__(self, seed: int = 0, width: int = 32, height: int = 32, fps: float = 8.0, n_frames: int = 9,
                 image_fraction: float = 0.2, caption_mode: str = "mixed", start: int = 0,
                 rank: int = 0, world_size: int = 1):
        if n_frames < 1 or (n_frames - 1) % TIME_FACTOR:
            raise InputError(f"n_frames must be 1 + {TIME_FACTOR}k, got {n_frames}")
        if width < 1 or height < 1 or not fps > 0:
            raise InputError(f"need a positive size and fps, got {width}x{height} at {fps} fps")
        if not 0.0 <= image_fraction <= 1.0:
            raise InputError(f"image_fraction must be in [0, 1], got {image_fraction}")
        if caption_mode not in CAPTION_MODES:
            raise InputError(f"caption_mode must be one of {CAPTION_MODES}, got {caption_mode!r}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise InputError(f"rank {rank} is not in a world of size {world_size}")
        self.seed = seed
        self.width, self.height, self.fps, self.n_frames = width, height, fps, n_frames
        self.image_fraction = image_fraction
        self.caption_mode = caption_mode
        self.start = start
        self.rank, self.world_size = rank, world_size

    def item(self, index: int) -> dict:
        """Item `index` of the stream: the same every time, on every machine."""
        rng = np.random.default_rng(item_seed(self.seed, index))
        is_image = rng.random() < self.image_fraction
        n = 1 if is_image else self.n_frames
        # A scene lasts exactly the clip: frame i shows time i / fps.
        duration = max(self.n_frames - 1, 1) / self.fps
        spec = sample_scene(int(rng.integers(2**31)), duration=duration)
        frames = render(spec, self.width, self.height, self.fps, n).frames  # (T, H, W, 3)
        captions = make_captions(spec, rng)
        long = self.caption_mode == "long" or (self.caption_mode == "mixed" and rng.random() < LONG_CAPTION_P)
        pool = captions.long if long and captions.long else captions.short
        caption = str(pool[int(rng.integers(len(pool)))])
        return {"frames": frames, "caption": caption, "spec_json": spec.to_json(), "index": index}

    def __iter__(self) -> Iterator[dict]:
        # Split the index stream over DDP ranks and then DataLoader workers: disjoint, together complete.
        worker = torch.utils.data.get_worker_info()
        n_workers, worker_id = (worker.num_workers, worker.id) if worker is not None else (1, 0)
        stride = self.world_size * n_workers
        index = self.start + self.rank * n_workers + worker_id
        while True:
            yield self.item(index)
            index += stride
