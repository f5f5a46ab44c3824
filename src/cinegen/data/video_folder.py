"""A folder of real captioned videos (and images) as a training dataset.

Two layouts:
    clips/cat.mp4 + clips/cat.txt          # a caption file beside each video, same name
    clips/metadata.jsonl                   # {"file": "cat.mp4", "caption": "..."} per line
Videos (mp4, webm, mov, avi, gif, mkv) are decoded by PyAV through cinegen.common.video_io;
still images (png, jpg, webp) join as 1-frame videos. Files that cannot be read are skipped and
listed in `.skipped` as (path, reason): one broken download must not stop a training run.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from cinegen.common.errors import InputError
from cinegen.common.video_io import probe_video, read_video
from cinegen.data.buckets import resize_crop, valid_length

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".avi", ".gif", ".mkv")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
METADATA = "metadata.jsonl"

log = logging.getLogger(__name__)


def resampled_length(n_frames: int, src_fps: float, fps: float | None) -> int:
    """How many frames iter_video yields when resampling n_frames at src_fps to fps (nearest frame)."""
    if fps is None or n_frames <= 1:
        return n_frames
    step = src_fps / fps
    return max(1, int(np.ceil((n_frames - 0.5) / step)))


class VideoFolder(torch.utils.data.Dataset):
    """Captioned clips from a folder: items are dict(frames uint8 (T, H, W, 3), caption, path).

    T is 1 + 4k: the clip is resampled to `fps`, cut to `max_frames` and trimmed to the longest
    such length. `size` None keeps the native size; an int scales the shorter side to it; (H, W)
    scales to cover and centre-crops (for bucketing at native size, use `shapes` + data.buckets).
    """

    def __init__(self, root: str | os.PathLike, fps: float | None = 8.0, max_frames: int = 33,
                 size: int | tuple[int, int] | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(f"video folder {self.root} does not exist or is not a folder")
        if max_frames < 1:
            raise InputError(f"max_frames must be ≥ 1, got {max_frames}")
        if fps is not None and not fps > 0:
            raise InputError(f"fps must be positive, got {fps}")
        if isinstance(size, int) and size < 1 or isinstance(size, tuple) and min(size) < 1:
            raise InputError(f"size must be positive, got {size}")
        self.fps = fps
        self.max_frames = max_frames
        self.size = size
        self.skipped: list[tuple[str, str]] = []
        self.items: list[tuple[Path, str]] = []  # (file, caption)
        self.shapes: list[tuple[int, int, int]] = []  # (T, H, W) each item will have, before `size`
        self._bad: set[int] = set()  # items that passed the probe but failed to decode
        for path, caption in self._listing():
            self._add(path, caption)
        if self.skipped:
            log.warning("%s: skipped %d of %d files (see .skipped)", self.root, len(self.skipped),
                        len(self.skipped) + len(self.items))

    def _listing(self) -> list[tuple[Path, str]]:
        meta = self.root / METADATA
        if meta.exists():
            entries = []
            for n, line in enumerate(meta.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    entries.append((self.root / record["file"], str(record["caption"])))
                except (json.JSONDecodeError, KeyError, TypeError) as e:
                    self.skipped.append((f"{meta}:{n}", f"bad metadata line: {e!r}"))
            return entries
        entries = []
        for path in sorted(self.root.rglob("*")):
            if path.suffix.lower() not in VIDEO_SUFFIXES + IMAGE_SUFFIXES or path.name.startswith("."):
                continue
            caption_file = path.with_suffix(".txt")
            if not caption_file.exists():
                self.skipped.append((str(path), "no caption file"))
                continue
            entries.append((path, caption_file.read_text().strip()))
        return entries

    def _add(self, path: Path, caption: str) -> None:
        if not path.is_file():
            self.skipped.append((str(path), "file not found"))
            return
        try:
            info = probe_video(path)  # header only: cheap, and catches most broken files up front
        except InputError as e:
            self.skipped.append((str(path), str(e)))
            return
        n = resampled_length(info.frames, info.fps, self.fps)
        self.items.append((path, caption))
        self.shapes.append((valid_length(min(n, self.max_frames)), info.height, info.width))

    def __len__(self) -> int:
        return len(self.items)

    def load(self, index: int) -> dict:
        """Decode item `index`; InputError if the file turns out unreadable."""
        path, caption = self.items[index]
        frames, _ = read_video(path, max_frames=self.max_frames, fps=self.fps)
        frames = frames[: valid_length(len(frames))]  # (T, H, W, 3), T = 1 + 4k
        if isinstance(self.size, int):
            h, w = frames.shape[1:3]
            scale = self.size / min(h, w)
            frames = resize_crop(frames, max(1, round(h * scale)), max(1, round(w * scale)))
        elif self.size is not None:
            frames = resize_crop(frames, *self.size)
        return {"frames": frames, "caption": caption, "path": str(path)}

    def __getitem__(self, index: int) -> dict:
        """Item `index`, or the next readable one if its file fails to decode (recorded in .skipped)."""
        for k in range(len(self.items)):
            i = (index + k) % len(self.items)
            if i in self._bad:
                continue
            try:
                return self.load(i)
            except InputError as e:
                self._bad.add(i)
                self.skipped.append((str(self.items[i][0]), str(e)))
        raise InputError(f"video folder {self.root}: no readable clip")
