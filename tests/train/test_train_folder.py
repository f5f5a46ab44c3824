"""Training on a folder of real videos: native aspect ratios bucketed, images as 1-frame clips, bad files skipped."""
import dataclasses

import numpy as np
from PIL import Image

from cinegen.common.video_io import write_video
from cinegen.pipeline import Pipeline
from cinegen.train.folder import FolderBatches
from cinegen.train.recipes import tiny_dit, tiny_vae
from cinegen.train.trainer import train


def _folder(root):
    rng = np.random.default_rng(0)
    for name, (t, h, w) in {"land": (9, 32, 48), "port": (9, 48, 32), "wide": (13, 32, 64)}.items():
        write_video(root / f"{name}.mp4", rng.integers(0, 255, (t, h, w, 3), dtype=np.uint8), 8)
        (root / f"{name}.txt").write_text(f"a {name} clip of a red ball")
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(root / "still.png")
    (root / "still.txt").write_text("a still image of a blue square")
    (root / "broken.mp4").write_bytes(b"not a video at all")
    (root / "broken.txt").write_text("never read")
    return root


def test_folder_buckets_and_training(tmp_path):
    root = _folder(tmp_path / "videos")
    vcfg = dataclasses.replace(tiny_vae(), data=str(root), steps=2, batch_size=2, n_frames=9)
    fb = FolderBatches(vcfg, lambda step, j: step * 100 + j)
    assert len(fb.ds) == 4 and len(fb.ds.skipped) == 1  # the broken file is counted, not fatal
    shapes = {fb.buckets[b] for b in fb.members}
    aspects = {round(b.width / b.height, 2) for b in shapes}
    assert len(aspects) >= 3 and any(b.frames == 1 for b in shapes)  # native aspects; the image as 1 frame
    for step in range(6):
        clips, caps = fb.batch(step, range(2))
        assert clips[0].shape == clips[1].shape  # one bucket per batch
        assert clips[0].shape[1] % 16 == 0 and clips[0].shape[2] % 16 == 0
    assert train(vcfg, tmp_path / "vae", progress=False)["done"]
    dcfg = dataclasses.replace(tiny_dit(str(tmp_path / "vae/model")), data=str(root), steps=2, batch_size=2,
                               n_frames=9)
    assert train(dcfg, tmp_path / "dit", progress=False)["done"]
    pipe = Pipeline.from_pretrained(tmp_path / "dit/model")
    assert pipe("a red ball", seconds=0.5, steps=1, expand=False, mark=False).frames.shape[0] == 4
