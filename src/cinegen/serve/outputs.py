"""A job's files: the MP4, a thumbnail and a spritesheet, published all at once.

Everything is written into a hidden staging folder `outputs/.ID.TOKEN/` and then renamed to
`outputs/ID/` in one step, so a reader sees all three files or none, and a worker killed mid-write
leaves only a staging folder, which the next attempt removes.
"""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import numpy as np

# variant → (file name, media type), the three assets of the Videos API.
VARIANTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}
SPRITE_COLUMNS = 5
SPRITE_FRAMES = 10
SPRITE_MAX_SIDE = 160  # each tile is scaled down to at most this many pixels on its long side


def job_dir(outputs: Path, job_id: str) -> Path:
    return outputs / job_id


def variant_path(outputs: Path, job_id: str, variant: str) -> Path:
    return job_dir(outputs, job_id) / VARIANTS[variant][0]


def staging_dirs(outputs: Path, job_id: str) -> list[Path]:
    return sorted(outputs.glob(f".{job_id}.*"))


def remove_job_files(outputs: Path, job_id: str) -> None:
    """The job's published folder and any staging folders left by killed attempts."""
    for d in [job_dir(outputs, job_id), *staging_dirs(outputs, job_id)]:
        shutil.rmtree(d, ignore_errors=True)


def spritesheet(frames: np.ndarray, n: int = SPRITE_FRAMES, columns: int = SPRITE_COLUMNS) -> np.ndarray:
    """Up to `n` evenly spaced frames tiled in a grid: (rows·h, columns·w, 3) uint8."""
    from PIL import Image

    idx = np.unique(np.linspace(0, len(frames) - 1, min(n, len(frames))).round().astype(int))
    h, w = frames.shape[1:3]
    scale = min(1.0, SPRITE_MAX_SIDE / max(h, w))
    th, tw = max(1, round(h * scale)), max(1, round(w * scale))
    cols = min(columns, len(idx))
    rows = math.ceil(len(idx) / cols)
    sheet = np.zeros((rows * th, cols * tw, 3), np.uint8)
    for k, i in enumerate(idx):
        tile = np.asarray(Image.fromarray(frames[i]).resize((tw, th), Image.BILINEAR))
        r, c = divmod(k, cols)
        sheet[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = tile
    return sheet


def publish(outputs: Path, job_id: str, token: str, frames: np.ndarray, fps: float, prompt: str,
            model_id: str) -> Path:
    """Write the three files for `frames` (T, H, W, 3) uint8 and move them into place atomically."""
    from PIL import Image

    from cinegen.pipeline.output import save_video

    outputs.mkdir(parents=True, exist_ok=True)
    stage = outputs / f".{job_id}.{token}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        save_video(frames, fps, stage / VARIANTS["video"][0], prompt=prompt, model_id=model_id)
        Image.fromarray(frames[len(frames) // 2]).save(stage / VARIANTS["thumbnail"][0], format="WEBP", quality=90)
        Image.fromarray(spritesheet(frames)).save(stage / VARIANTS["spritesheet"][0], format="JPEG", quality=90)
        _fsync_dir(stage)
        final = job_dir(outputs, job_id)
        if final.exists():  # an earlier attempt published but died before the database said so
            shutil.rmtree(final)
        os.replace(stage, final)
        _fsync_dir(outputs)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return final


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_uploads(uploads: Path, job_id: str) -> None:
    """A job's uploaded or copied sources: its one (`ID.ext`) or its named ones (`ID-video_a.ext`, connect)."""
    for pattern in (f"{job_id}.*", f"{job_id}-*"):
        for p in uploads.glob(pattern):
            p.unlink(missing_ok=True)
