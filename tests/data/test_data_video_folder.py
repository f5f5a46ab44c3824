"""VideoFolder: caption files and metadata.jsonl layouts, images, corrupt files skipped and counted."""
from __future__ import annotations

import json

import numpy as np
import pytest

from cinegen.common.errors import InputError
from cinegen.common.video_io import write_video
from cinegen.data import VideoFolder


def clip(t: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    base = np.random.default_rng(seed).integers(40, 200, (1, h, w, 3))
    return np.clip(base + np.arange(t)[:, None, None, None] * 3, 0, 255).astype(np.uint8)  # (T, H, W, 3)


@pytest.fixture()
def folder(tmp_path):
    write_video(tmp_path / "wide.mp4", clip(12, 16, 32), fps=8)  # 12 frames → trimmed to 9
    (tmp_path / "wide.txt").write_text("a wide clip\n")
    write_video(tmp_path / "tall.mp4", clip(24, 32, 16, 1), fps=16)  # 24 frames at 16 fps → 12 at 8 → 9
    (tmp_path / "tall.txt").write_text("a tall clip")
    write_video(tmp_path / "still.png", clip(1, 8, 12, 2), fps=1)
    (tmp_path / "still.txt").write_text("a still image")
    (tmp_path / "broken.mp4").write_bytes(np.random.default_rng(0).bytes(500))
    (tmp_path / "broken.txt").write_text("never read")
    write_video(tmp_path / "nocaption.mp4", clip(5, 16, 16), fps=8)
    return tmp_path


def test_caption_files_images_and_skips(folder):
    ds = VideoFolder(folder, fps=8, max_frames=33)
    by_caption = {ds[i]["caption"]: ds[i] for i in range(len(ds))}
    assert sorted(by_caption) == ["a still image", "a tall clip", "a wide clip"]
    assert by_caption["a wide clip"]["frames"].shape == (9, 16, 32, 3)
    assert by_caption["a tall clip"]["frames"].shape == (9, 32, 16, 3)
    assert by_caption["a still image"]["frames"].shape == (1, 8, 12, 3)
    assert by_caption["a wide clip"]["frames"].dtype == np.uint8
    assert sorted(p.rsplit("/", 1)[1] for p, _ in ds.skipped) == ["broken.mp4", "nocaption.mp4"]
    assert all(reason for _, reason in ds.skipped)
    # `shapes` (from headers, no decode) predicts the decoded shapes, for bucketing.
    for i in range(len(ds)):
        assert ds.shapes[i] == ds[i]["frames"].shape[:3]


def test_max_frames_and_size(folder):
    ds = VideoFolder(folder, fps=8, max_frames=6, size=(8, 8))
    for i in range(len(ds)):
        assert ds[i]["frames"].shape[1:] == (8, 8, 3) and ds[i]["frames"].shape[0] in (1, 5)
    ds = VideoFolder(folder, fps=8, size=8)  # shorter side to 8, aspect kept
    shapes = sorted(ds[i]["frames"].shape[1:3] for i in range(len(ds)))
    assert shapes == [(8, 12), (8, 16), (16, 8)]


def test_metadata_jsonl(folder):
    lines = [
        {"file": "wide.mp4", "caption": "from jsonl"},
        {"file": "missing.mp4", "caption": "gone"},
        {"file": "broken.mp4", "caption": "corrupt"},
        {"caption": "no file key"},
    ]
    (folder / "metadata.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    ds = VideoFolder(folder)
    assert len(ds) == 1 and ds[0]["caption"] == "from jsonl"
    assert len(ds.skipped) == 4


def test_decode_failure_falls_through_to_next_item(folder):
    ds = VideoFolder(folder)
    wide = next(i for i in range(len(ds)) if ds.items[i][1] == "a wide clip")
    ds.items[wide][0].write_bytes(b"truncated")  # breaks after the header was probed
    item = ds[wide]
    assert item["caption"] != "a wide clip"
    assert any(p.endswith("wide.mp4") for p, _ in ds.skipped)


def test_missing_folder(tmp_path):
    with pytest.raises(InputError):
        VideoFolder(tmp_path / "nope")
