"""Video I/O: round trips per format, streaming writes, atomicity, corrupt input."""
from __future__ import annotations

import numpy as np
import pytest

from cinegen.common.errors import InputError, OutputError
from cinegen.common.video_io import VideoWriter, iter_video, probe_video, read_video, write_video


def smooth_clip(t: int = 9, h: int = 32, w: int = 48) -> np.ndarray:
    """Gradients moving over time: compressible, so codec PSNR is meaningful."""
    yy, xx = np.mgrid[:h, :w] / 8.0
    frames = [
        np.stack([np.sin(xx + i * 0.3), np.cos(yy - i * 0.2), np.sin(xx + yy)], -1) * 100 + 128 for i in range(t)
    ]
    return np.stack(frames).astype(np.uint8)  # (T, H, W, 3)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


def test_mp4_round_trip(tmp_path):
    clip = smooth_clip()
    path = write_video(tmp_path / "clip.mp4", clip, fps=12)
    frames, fps = read_video(path)
    assert frames.shape == clip.shape and frames.dtype == np.uint8
    assert fps == pytest.approx(12.0)
    assert psnr(frames, clip) > 30
    info = probe_video(path)
    assert (info.frames, info.width, info.height) == (9, 48, 32)
    assert info.duration == pytest.approx(9 / 12)
    head = path.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < head.find(b"mdat")  # +faststart: index before the data


def test_mp4_odd_size_is_padded_to_even(tmp_path):
    clip = smooth_clip(5, 31, 45)
    frames, _ = read_video(write_video(tmp_path / "odd.mp4", clip, fps=8))
    assert frames.shape == (5, 32, 46, 3)
    assert psnr(frames[:, :31, :45], clip) > 30


def test_streaming_writer_and_chunked_reader(tmp_path):
    clip = smooth_clip(17)
    with VideoWriter(tmp_path / "stream.mp4", fps=8) as writer:
        for start in range(0, 17, 5):
            writer.write(clip[start : start + 5])
    chunks = list(iter_video(tmp_path / "stream.mp4", chunk=4))
    assert [len(c) for c in chunks] == [4, 4, 4, 4, 1]
    assert psnr(np.concatenate(chunks), clip) > 30


@pytest.mark.parametrize("name", ["clip.gif", "clip.webp", "frames"])
def test_animated_and_folder_round_trip(tmp_path, name):
    clip = smooth_clip(6, 24, 20)
    frames, fps = read_video(write_video(tmp_path / name, clip, fps=8))
    assert frames.shape == clip.shape
    assert fps == pytest.approx(8.0, rel=0.02)
    assert psnr(frames, clip) > (60 if name == "frames" else 25)  # GIF palette / lossy WebP


def test_png_folder_layout_and_still_image(tmp_path):
    clip = smooth_clip(3, 8, 8)
    write_video(tmp_path / "frames", clip, fps=5)
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [
        "frame_00000.png", "frame_00001.png", "frame_00002.png", "video.json"]
    write_video(tmp_path / "still.png", clip[:1], fps=5)
    frames, _ = read_video(tmp_path / "still.png", fps=24)
    assert frames.shape == (1, 8, 8, 3) and np.array_equal(frames[0], clip[0])
    with pytest.raises(InputError):
        write_video(tmp_path / "two.png", clip[:2], fps=5)
    assert not (tmp_path / "two.png").exists()


def test_fps_resample_takes_nearest_frame(tmp_path):
    clip = np.zeros((8, 8, 8, 3), np.uint8)
    clip[:, 0, 0, 0] = np.arange(8) * 30  # frame index readable from a pixel
    write_video(tmp_path / "f", clip, fps=8)
    down, fps = read_video(tmp_path / "f", fps=4)
    assert fps == 4 and list(down[:, 0, 0, 0] // 30) == [0, 2, 4, 6]
    up, _ = read_video(tmp_path / "f", fps=16, max_frames=6)
    assert list(up[:, 0, 0, 0] // 30) == [0, 1, 1, 2, 2, 3]  # nearest, ties forward


def test_exception_mid_write_leaves_nothing(tmp_path):
    clip = smooth_clip(4, 16, 16)
    with pytest.raises(RuntimeError):
        with VideoWriter(tmp_path / "broken.mp4", fps=8) as writer:
            writer.write(clip)
            raise RuntimeError("generator crashed")
    assert list(tmp_path.iterdir()) == []

    def chunks():
        yield clip
        yield clip[:, :8]  # a size change is an input error
    with pytest.raises(InputError):
        write_video(tmp_path / "sizes.gif", chunks(), fps=8)
    assert list(tmp_path.iterdir()) == []


def test_bad_outputs(tmp_path):
    clip = smooth_clip(2, 8, 8)
    with pytest.raises(OutputError, match="unknown extension"):
        write_video(tmp_path / "clip.xyz", clip, fps=8)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError):
        write_video(tmp_path / "file" / "clip.mp4", clip, fps=8)
    with pytest.raises(InputError):
        write_video(tmp_path / "float.mp4", clip.astype(np.float32), fps=8)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError):  # never swap away a folder that is not ours
        write_video(tmp_path / "mine", clip, fps=8)
    assert (tmp_path / "mine" / "notes.txt").exists()


def test_corrupt_and_missing_inputs(tmp_path):
    good = write_video(tmp_path / "good.mp4", smooth_clip(), fps=8).read_bytes()
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(2000))
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "half.mp4").write_bytes(good[: len(good) // 2])
    for name in ["noise.mp4", "text.png", "half.mp4", "missing.mp4"]:
        with pytest.raises(InputError, match="cannot read video") as err:
            read_video(tmp_path / name)
        assert "\n" not in str(err.value) and err.value.__cause__ is None
    with pytest.raises(InputError):
        probe_video(tmp_path / "noise.mp4")
