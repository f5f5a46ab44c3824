"""Training batches from a folder of real videos: each clip at its native aspect and length, bucketed.

A step draws one (frames, H, W) bucket, then one clip per sample, all from generators seeded by
(seed, step, sample) as the world batches are, so resume stays exact and DDP ranks stay in step.
Unreadable files are skipped, counted and reported; they never stop a run.
"""
from __future__ import annotations

import numpy as np
import torch

from cinegen.common.errors import InputError
from cinegen.common.seed import generator
from cinegen.data import VideoFolder, assign_bucket, fit_to_bucket, make_buckets
from cinegen.train.config import TrainConfig


class FolderBatches:
    def __init__(self, cfg: TrainConfig, seed_fn):
        self.cfg, self.seed_fn = cfg, seed_fn
        self.ds = VideoFolder(cfg.data, fps=cfg.fps, max_frames=cfg.n_frames)
        if len(self.ds) == 0:
            raise InputError(f"no readable captioned videos in {cfg.data} ({len(self.ds.skipped)} skipped)")
        frame_counts = sorted({1, *range(5, cfg.n_frames + 1, 4)})
        self.buckets = make_buckets(pixels=cfg.width * cfg.height, frame_counts=frame_counts, multiple=16)
        ids = [assign_bucket(t, h, w, self.buckets) for t, h, w in self.ds.shapes]
        self.members: dict[int, list[int]] = {}
        for i, b in enumerate(ids):
            self.members.setdefault(b, []).append(i)
        self.order = sorted(self.members)
        if self.ds.skipped:
            print(f"{cfg.data}: skipped {len(self.ds.skipped)} unreadable or uncaptioned files "
                  f"(first: {self.ds.skipped[0][0]}: {self.ds.skipped[0][1]})")

    def batch(self, step: int, idx: range) -> tuple[list[np.ndarray], list[str]]:
        """Frames (one bucket's shape) and captions for this rank's samples of step `step`."""
        counts = torch.tensor([len(self.members[b]) for b in self.order], dtype=torch.float)
        pick = int(torch.multinomial(counts, 1, generator=generator(self.seed_fn(step, -2))))
        bucket = self.buckets[self.order[pick]]
        clips, captions = [], []
        for j in idx:
            g = generator(self.seed_fn(step, j))
            members = self.members[self.order[pick]]
            item = self.ds[members[int(torch.randint(len(members), (1,), generator=g))]]
            clips.append(fit_to_bucket(item["frames"], bucket))
            captions.append(item["caption"])
        return clips, captions
