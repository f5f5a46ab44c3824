"""Edits a marked video may go through, for robustness tests and the benchmark.

Each attack maps uint8 frames (T, H, W, 3) to uint8 frames; none of them knows the watermark.
"""
from __future__ import annotations

import io
from collections.abc import Callable

import av
import numpy as np
from PIL import Image


def h264(frames: np.ndarray, crf: int, fps: float = 8.0) -> np.ndarray:
    """Encode with libx264 (yuv420p) at `crf` in memory and decode again."""
    h, w = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")  # yuv420p needs even sizes
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=round(fps))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        # Reproducible output: one thread (frame threads make decisions that depend on the core
        # count) and x264's C code, asm=0. Measured on 64x64 clips: with x264's assembly, repeated
        # encodes of the same frames in one process now and then differ (1-11 distinct outputs in
        # 12 runs, at one thread too, gone with asm=0, mbtree=0 or rc-lookahead=0); asm=0 keeps
        # x264's own rate control. It costs about 4x the encoder time (0.15 s for 24 frames).
        stream.options = {"crf": str(crf), "preset": "medium", "x264-params": "asm=0"}
        stream.codec_context.thread_count = 1  # the `threads` option would be overridden by this
        for i, f in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf) as inp:
        decoded = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    return np.stack(decoded)[:, :h, :w]


def resize(frames: np.ndarray, factor: float) -> np.ndarray:
    """Rescale every frame by `factor` (area-averaging when shrinking, like most tools)."""
    h, w = frames.shape[1:3]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.stack([np.asarray(Image.fromarray(f).resize(size, Image.BICUBIC, reducing_gap=2.0)) for f in frames])


def centre_crop(frames: np.ndarray, keep: float) -> np.ndarray:
    """Keep the central `keep` fraction of each axis."""
    h, w = frames.shape[1:3]
    ch, cw = max(1, round(h * keep)), max(1, round(w * keep))
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return frames[:, y0 : y0 + ch, x0 : x0 + cw]


def change_fps(frames: np.ndarray, src_fps: float, dst_fps: float) -> np.ndarray:
    """Resample in time by taking the nearest source frame, as ffmpeg's fps filter does."""
    n = max(1, round(len(frames) * dst_fps / src_fps))
    idx = np.minimum(np.round(np.arange(n) * src_fps / dst_fps).astype(int), len(frames) - 1)
    return frames[idx]


def trim(frames: np.ndarray, start: int, length: int) -> np.ndarray:
    return frames[start : start + length]


def noise(frames: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(frames + rng.normal(0.0, sigma, frames.shape)), 0, 255).astype(np.uint8)


def brightness(frames: np.ndarray, gain: float, offset: float) -> np.ndarray:
    return np.clip(np.rint(frames.astype(np.float64) * gain + offset), 0, 255).astype(np.uint8)


def gamma(frames: np.ndarray, g: float) -> np.ndarray:
    """Brighten (g < 1) or darken (g > 1) the mid-tones without clipping: a video editor's brightness slider."""
    lut = np.clip(np.rint(255.0 * (np.arange(256) / 255.0) ** g), 0, 255).astype(np.uint8)
    return lut[frames]


def standard_attacks(fps: float = 8.0, seed: int = 0) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """The attacks the provenance issue lists, by name."""
    two_s = round(2 * fps)
    return {
        "none": lambda f: f,
        "h264_crf23": lambda f: h264(f, 23, fps),
        "h264_crf28": lambda f: h264(f, 28, fps),
        "h264_crf35": lambda f: h264(f, 35, fps),
        "downscale_0.5": lambda f: resize(f, 0.5),
        "crop_80": lambda f: centre_crop(f, 0.8),
        # 12 → 8 fps: the frames are taken as a 12 fps clip and resampled to 8 fps.
        "fps_12_to_8": lambda f: change_fps(f, 12.0, 8.0),
        "trim_2s": lambda f: trim(f, int(np.random.default_rng(seed).integers(0, max(1, len(f) - two_s + 1))), two_s),
        "noise_3": lambda f: noise(f, 3.0, seed),
        "brightness": lambda f: brightness(f, 1.1, 8.0),  # on a white background this saturates nearly everything
        "brightness_gamma": lambda f: gamma(f, 0.8),
        "down_crop_crf28": lambda f: h264(centre_crop(resize(f, 0.5), 0.8), 28, fps),
    }
