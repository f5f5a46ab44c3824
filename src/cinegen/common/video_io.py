"""Video files in and out: MP4 (H.264), animated GIF / WebP, PNG frames, still images.

Frames are always numpy uint8 arrays shaped (T, H, W, 3), RGB. Writing is atomic (a temporary
file beside the target, renamed on success) and can stream: `VideoWriter.write(chunk)` encodes
each chunk as it arrives, so a minute-long video never sits in memory as a whole (MP4 and PNG
frames; GIF and WebP are preview formats that Pillow writes in one go, so they are buffered).

Reading decodes with PyAV (any container FFmpeg knows) or Pillow (still images, GIF, WebP),
optionally resampled to a target frame rate by taking the nearest source frame in time.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Iterable, Iterator

import av
import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from cinegen.common.atomic import atomic_dir, atomic_path
from cinegen.common.errors import InputError, OutputError

STILL_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
ANIMATED_PIL_EXTENSIONS = (".gif", ".webp")  # may be animated or still; Pillow reads both
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".flv")
WRITE_EXTENSIONS = (".mp4", ".gif", ".webp", ".png", ".jpg", ".jpeg", "<folder>")
FOLDER_META = "video.json"  # fps and frame count of a PNG-frame folder
DEFAULT_GIF_FPS = 10.0  # what browsers assume for a GIF frame without a delay


@dataclass(frozen=True)
class VideoInfo:
    frames: int
    fps: float
    width: int
    height: int
    duration: float  # seconds


# ----------------------------------------------------------------------------- writing


def _as_frames(chunk: np.ndarray) -> np.ndarray:
    """Check one chunk and return it as (n, H, W, 3) uint8."""
    if not isinstance(chunk, np.ndarray):
        raise InputError(f"video frames must be a numpy array, got {type(chunk).__name__}")
    if chunk.ndim == 3:
        chunk = chunk[None]
    if chunk.ndim != 4 or chunk.shape[-1] != 3:
        raise InputError(f"video frames must be shaped (T, H, W, 3), got {tuple(chunk.shape)}")
    if chunk.dtype != np.uint8:
        raise InputError(f"video frames must be uint8, got {chunk.dtype}")
    if chunk.shape[1] < 1 or chunk.shape[2] < 1:
        raise InputError(f"video frames have an empty size {tuple(chunk.shape[1:3])}")
    return chunk


def _pad_even(frames: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs even sizes: repeat the last row / column once when odd."""
    _, h, w, _ = frames.shape
    if h % 2 == 0 and w % 2 == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _frame_durations_ms(n: int, fps: float, step_ms: int) -> list[int]:
    """Per-frame delays in multiples of `step_ms` whose running sum tracks n / fps exactly.

    GIF stores delays in 1/100 s, so 8 fps (125 ms) alternates 120 and 130 ms instead of
    drifting to 8.33 fps.
    """
    ends = [math.floor((i + 1) * 1000.0 / fps / step_ms + 0.5) * step_ms for i in range(n)]
    starts = [0] + ends[:-1]
    return [max(step_ms, e - s) for s, e in zip(starts, ends)]


def _kind(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == "":
        return "folder"
    if ext == ".mp4":
        return "mp4"
    if ext in (".gif", ".webp"):
        return ext[1:]
    if ext in (".png", ".jpg", ".jpeg"):
        return "still"
    raise OutputError(f"cannot write video {path}: unknown extension {ext!r} (use one of {', '.join(WRITE_EXTENSIONS)})")


class VideoWriter:
    """Stream frames into a video file chunk by chunk; the file appears only on a clean close.

    The kind follows the extension:
    - `.mp4`: H.264 (libx264, yuv420p, `crf`), moov atom in front (+faststart) so it plays while
      downloading. Odd widths or heights are padded to even by repeating the last row / column,
      so the file is up to one pixel larger than the frames.
    - `.gif`, `.webp`: animated (looping), written by Pillow at close (frames are buffered).
    - a path without extension: a folder of `frame_00000.png`, ... plus `video.json` (fps).
    - `.png`, `.jpg`: one still image; more than one frame is an error.

        with VideoWriter("out.mp4", fps=24) as w:
            for chunk in chunks:            # (n, H, W, 3) uint8
                w.write(chunk)

    An exception inside the `with` block deletes the temporary file and leaves no target.
    """

    def __init__(self, path: str | os.PathLike, fps: float, crf: int = 18):
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise InputError(f"fps must be a positive number, got {fps!r}")
        if not 0 <= crf <= 51:
            raise InputError(f"crf must be in [0, 51], got {crf}")
        self.path = Path(path)
        self.fps = float(fps)
        self.crf = int(crf)
        self.kind = _kind(self.path)
        self.frames_written = 0
        self._size: tuple[int, int] | None = None  # (H, W) of the first chunk
        self._buffer: list[np.ndarray] = []  # gif / webp / still frames
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._closed = False
        if self.kind == "folder":
            if self.path.exists() and (not self.path.is_dir() or _foreign_files(self.path)):
                raise OutputError(f"cannot write video {self.path}: exists and is not a frame folder")
            self._cm = atomic_dir(self.path)
        else:
            self._cm = atomic_path(self.path)
        try:
            self._tmp: Path = self._cm.__enter__()
        except OSError as e:
            raise OutputError(f"cannot write video {self.path}: {e.strerror or e}") from None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, frames: np.ndarray) -> None:
        """Append frames shaped (n, H, W, 3) or one frame (H, W, 3), uint8."""
        if self._closed:
            raise OutputError(f"video {self.path} is already closed")
        frames = _as_frames(frames)
        size = frames.shape[1:3]
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise InputError(f"frame size {size} differs from the first frames' {self._size} in {self.path}")
        try:
            if self.kind == "mp4":
                self._write_mp4(frames)
            elif self.kind == "folder":
                for i, frame in enumerate(frames):
                    name = f"frame_{self.frames_written + i:05d}.png"
                    Image.fromarray(frame).save(self._tmp / name, format="PNG")
            else:
                if self.kind == "still" and self.frames_written + len(frames) > 1:
                    raise InputError(f"{self.path} is a still image but got more than one frame; use .mp4 or a folder")
                self._buffer.extend(frames)
            self.frames_written += len(frames)
        except (av.FFmpegError, OSError) as e:
            self.abort()
            raise OutputError(f"cannot write video {self.path}: {e}") from None

    def _write_mp4(self, frames: np.ndarray) -> None:
        frames = _pad_even(frames)
        if self._container is None:
            self._container = av.open(str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
            rate = Fraction(self.fps).limit_denominator(1001)
            self._stream = self._container.add_stream("libx264", rate=rate)
            self._stream.width, self._stream.height = frames.shape[2], frames.shape[1]
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"crf": str(self.crf), "preset": "medium"}
        for frame in frames:
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            self._container.mux(self._stream.encode(vf))

    def close(self) -> Path:
        """Finish the file and move it onto the target path; return the path."""
        if self._closed:
            return self.path
        try:
            if self.frames_written == 0:
                raise OutputError(f"cannot write video {self.path}: no frames were written")
            if self.kind == "mp4":
                self._container.mux(self._stream.encode(None))  # flush delayed frames
                self._container.close()
                self._container = None
            elif self.kind == "folder":
                meta = {"fps": self.fps, "frames": self.frames_written}
                (self._tmp / FOLDER_META).write_text(json.dumps(meta) + "\n")
            elif self.kind == "still":
                Image.fromarray(self._buffer[0]).save(self._tmp, format="JPEG" if self.path.suffix.lower() != ".png" else "PNG")
            else:
                self._save_animation()
        except (av.FFmpegError, OSError) as e:
            self.abort()
            raise OutputError(f"cannot write video {self.path}: {e}") from None
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._buffer = []
        self._cm.__exit__(None, None, None)  # rename onto the target
        return self.path

    def _save_animation(self) -> None:
        images = [Image.fromarray(f) for f in self._buffer]
        if self.kind == "gif":
            durations = _frame_durations_ms(len(images), self.fps, 10)
            images[0].save(self._tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=durations, loop=0, optimize=False)
        else:
            durations = _frame_durations_ms(len(images), self.fps, 1)
            images[0].save(self._tmp, format="WEBP", save_all=True, append_images=images[1:],
                           duration=durations, loop=0, quality=90, method=4)

    def abort(self) -> None:
        """Drop everything written so far; no target file is created."""
        if self._closed:
            return
        self._closed = True
        self._buffer = []
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None
        err = OutputError(f"writing {self.path} was aborted")
        with contextlib.suppress(OutputError):
            self._cm.__exit__(OutputError, err, None)  # the context manager deletes the temp file


def _foreign_files(folder: Path) -> bool:
    """True if `folder` holds anything but PNG frames and their metadata (never overwrite it)."""
    return any(not (p.name.startswith("frame_") and p.suffix == ".png") and p.name != FOLDER_META for p in folder.iterdir())


def write_video(path: str | os.PathLike, frames: np.ndarray | Iterable[np.ndarray], fps: float, crf: int = 18) -> Path:
    """Write frames (T, H, W, 3) uint8, or an iterable of (n, H, W, 3) chunks, to `path`.

    The format follows the extension (see VideoWriter): .mp4 (H.264, odd sizes padded to even),
    .gif, .webp, .png / .jpg (one frame), or a folder path for PNG frames. Atomic: on any error
    no target file exists. Returns the path.
    """
    with VideoWriter(path, fps, crf) as writer:
        if isinstance(frames, np.ndarray):
            writer.write(frames)
        else:
            for chunk in frames:
                writer.write(chunk)
    return writer.path


# ----------------------------------------------------------------------------- reading


def _cannot_read(path: Path, reason: object) -> InputError:
    if isinstance(reason, OSError) and reason.strerror:  # FFmpeg errors: drop the errno and path
        reason = reason.strerror
    reason = str(reason).strip().splitlines()[0] if str(reason).strip() else type(reason).__name__
    return InputError(f"cannot read video {path}: {reason}")


def _read_kind(path: Path) -> str:
    if not path.exists():
        raise _cannot_read(path, "no such file or folder")
    if path.is_dir():
        return "folder"
    ext = path.suffix.lower()
    if ext in STILL_EXTENSIONS or ext in ANIMATED_PIL_EXTENSIONS:
        return "pil"
    return "av"


def _folder_frames(path: Path) -> list[Path]:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in STILL_EXTENSIONS and not p.name.startswith("."))
    if not files:
        raise _cannot_read(path, "folder holds no image frames")
    return files


def _folder_fps(path: Path) -> float | None:
    meta = path / FOLDER_META
    if not meta.exists():
        return None
    try:
        return float(json.loads(meta.read_text())["fps"])
    except (ValueError, KeyError, TypeError, OSError):
        return None


def _pil_rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _pil_info(path: Path) -> tuple[int, float | None, int, int]:
    """(frames, fps or None for a still, width, height) of an image Pillow can open."""
    try:
        with Image.open(path) as img:
            n = getattr(img, "n_frames", 1)
            width, height = img.size
            if n <= 1:
                return 1, None, width, height
            total_ms = 0
            for frame in ImageSequence.Iterator(img):
                frame.load()  # WebP sets a frame's duration only once it is loaded
                total_ms += frame.info.get("duration", 0) or 0
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise _cannot_read(path, e) from None
    fps = 1000.0 * n / total_ms if total_ms > 0 else DEFAULT_GIF_FPS
    return n, fps, width, height


def _pil_frames(path: Path) -> Iterator[np.ndarray]:
    try:
        with Image.open(path) as img:
            for frame in ImageSequence.Iterator(img):
                yield _pil_rgb(frame)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as e:
        raise _cannot_read(path, e) from None


def _av_stream_fps(stream: av.video.stream.VideoStream) -> float | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return None


def _av_frames(path: Path) -> Iterator[np.ndarray]:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise _cannot_read(path, "no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
    except (av.FFmpegError, OSError, ValueError, EOFError) as e:
        raise _cannot_read(path, e) from None


def _source(path: Path) -> tuple[Iterator[np.ndarray], float | None]:
    """A lazy frame iterator and the source fps (None for a still image)."""
    kind = _read_kind(path)
    if kind == "folder":
        files = _folder_frames(path)

        def gen() -> Iterator[np.ndarray]:
            for f in files:
                try:
                    with Image.open(f) as img:
                        yield _pil_rgb(img)
                except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
                    raise _cannot_read(path, f"{f.name}: {e}") from None

        fps = None if len(files) == 1 else (_folder_fps(path) or 8.0)
        return gen(), fps
    if kind == "pil":
        _, fps, _, _ = _pil_info(path)
        return _pil_frames(path), fps
    return _av_frames(path), probe_video(path).fps


def iter_video(
    path: str | os.PathLike, chunk: int = 16, max_frames: int | None = None, fps: float | None = None
) -> Iterator[np.ndarray]:
    """Yield the video's frames in chunks of (≤ chunk, H, W, 3) uint8, decoding lazily.

    `fps` resamples to that frame rate by taking, for each output time j / fps, the nearest
    source frame (index-based, assuming a constant source frame rate). A still image is one
    frame at any fps. `max_frames` caps the output frames; decoding stops there.
    """
    if chunk < 1:
        raise InputError(f"chunk must be ≥ 1, got {chunk}")
    if fps is not None and not fps > 0:
        raise InputError(f"fps must be positive, got {fps}")
    if max_frames is not None and max_frames < 1:
        raise InputError(f"max_frames must be ≥ 1, got {max_frames}")
    path = Path(path)
    frames, src_fps = _source(path)
    step = src_fps / fps if (fps is not None and src_fps is not None) else 1.0  # source frames per output frame
    out: list[np.ndarray] = []
    n_out = 0
    for i, frame in enumerate(frames):
        # Emit every output frame whose nearest source frame is i (none when downsampling past it).
        while math.floor(n_out * step + 0.5) <= i:
            out.append(frame)
            n_out += 1
            if len(out) == chunk:
                yield np.stack(out)
                out = []
            if max_frames is not None and n_out >= max_frames:
                break
        if max_frames is not None and n_out >= max_frames:
            frames.close()  # stop decoding and close the container
            break
    if out:
        yield np.stack(out)
    if n_out == 0:
        raise _cannot_read(path, "no frames decoded")


def read_video(
    path: str | os.PathLike, max_frames: int | None = None, fps: float | None = None
) -> tuple[np.ndarray, float]:
    """Read a whole video: (frames uint8 (T, H, W, 3), fps). Images are 1-frame videos.

    Raises InputError("cannot read video ...") for a missing, corrupt or non-video file.
    The returned fps is the target `fps` when given, else the source's (1.0 for a still image).
    """
    path = Path(path)
    chunks = list(iter_video(path, chunk=64, max_frames=max_frames, fps=fps))
    if not chunks:
        raise _cannot_read(path, "no frames decoded")
    frames = np.concatenate(chunks)
    if fps is not None:
        return frames, float(fps)
    return frames, probe_video(path).fps


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Frame count, fps, size and duration, read from the header where possible (no decode)."""
    path = Path(path)
    kind = _read_kind(path)
    if kind == "folder":
        files = _folder_frames(path)
        try:
            with Image.open(files[0]) as img:
                width, height = img.size
        except (UnidentifiedImageError, OSError) as e:
            raise _cannot_read(path, e) from None
        fps = _folder_fps(path) or (1.0 if len(files) == 1 else 8.0)
        return VideoInfo(len(files), fps, width, height, len(files) / fps)
    if kind == "pil":
        n, fps, width, height = _pil_info(path)
        fps = fps or 1.0
        return VideoInfo(n, fps, width, height, n / fps)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise _cannot_read(path, "no video stream")
            stream = container.streams.video[0]
            fps = _av_stream_fps(stream)
            if fps is None:
                raise _cannot_read(path, "unknown frame rate")
            width, height = stream.codec_context.width, stream.codec_context.height
            n = stream.frames
            if n <= 0:  # some containers (webm, mkv) do not store the count: count packets instead
                n = sum(1 for p in container.demux(stream) if p.size > 0)
    except (av.FFmpegError, OSError, ValueError, EOFError) as e:
        raise _cannot_read(path, e) from None
    if n <= 0 or width <= 0 or height <= 0:
        raise _cannot_read(path, "no video frames")
    return VideoInfo(n, fps, width, height, n / fps)
