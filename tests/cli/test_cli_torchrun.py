"""`torchrun --nproc-per-node 2 -m cinegen generate`: each window's tokens split over 2 gloo processes
(Ulysses), the same frames as one process, one file written by rank 0."""
import os
import subprocess
import sys

import av
import numpy as np


def _frames(path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def test_two_processes_give_the_same_frames_as_one(tiny_model, tmp_path):
    env = {**os.environ, "CINEGEN_WATERMARK": "0", "OMP_NUM_THREADS": "1"}  # marks off: compare the samples
    args = ["generate", "a red ball moves to the right", "--seed", "0", "--model", str(tiny_model), "--steps", "3"]
    one, two = tmp_path / "one.mp4", tmp_path / "two" / "a.mp4"
    two.parent.mkdir()
    r = subprocess.run([sys.executable, "-m", "cinegen", *args, "-o", str(one)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                        "-m", "cinegen", *args, "-o", str(two)], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    a, b = _frames(one), _frames(two)
    assert a.shape == b.shape
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    assert mse == 0 or 10 * np.log10(255.0**2 / mse) >= 40.0
    assert sorted(p.name for p in two.parent.iterdir()) == ["a.mp4"]  # one file, no rank's leftovers
