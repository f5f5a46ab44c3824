"""One entry for every mode: a typed request and the one function that runs it.

The CLI (`cinegen generate`, `cinegen image`), the Python API and the server's worker all build a
`VideoRequest` and call `run`, so a request gives the same frames whichever way it came in. Reading
files is the caller's part (frames go in as arrays); `read_source` is the one reader they share.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from cinegen.common.errors import InputError
from cinegen.pipeline.limits import EDIT_METHODS
from cinegen.pipeline.pipeline import GenerationResult, Pipeline
from cinegen.pipeline import modes
from cinegen.pipeline.storyboard import Storyboard, storyboard_frames

MODES = ("text", "image", "extend", "connect", "loop", "edit", "still", "storyboard")
DIRECTIONS = ("forward", "backward")
NEW_SECONDS = 2.0  # what extend and connect add when no length is asked

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class VideoRequest:
    """What the user asks for. Unset sampling fields (None) take the model's defaults (Pipeline.sampling).

    mode: text | image (`image` is frame 0) | extend (`video`, `direction`) | connect (`video` → `video_b`) |
    loop | edit (`video`, `strength`, `source_prompt`, `edit_method`) | still (one frame) | storyboard.
    For extend and connect `seconds` is the length of the new part (NEW_SECONDS when unset); an edit
    keeps the source's length.
    """

    mode: str = "text"
    prompt: str | None = None
    seconds: float | None = None
    frames: int | None = None  # an exact frame count instead of seconds (of the new part for extend and connect)
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    guidance: float | None = None
    seed: int = 0
    negative_prompt: str = ""
    sampler: str | None = None  # euler | unipc; None: the checkpoint's
    expand: bool = True
    image: np.ndarray | None = None
    video: np.ndarray | None = None
    video_b: np.ndarray | None = None
    direction: str = "forward"
    strength: float | None = None
    source_prompt: str | None = None
    edit_method: str = EDIT_METHODS[0]
    storyboard: Storyboard | None = None

    def __post_init__(self) -> None:
        """The checks that need no model; the sampling fields are checked against the model in `run`."""
        if self.mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.mode == "storyboard":
            if self.storyboard is None:
                raise InputError("a storyboard request needs its storyboard")
        elif self.prompt is None:
            raise InputError('give a prompt: cinegen generate "a red ball bouncing on a checker floor"')
        elif not isinstance(self.prompt, str) or not self.prompt.strip():
            raise InputError("prompt is empty: describe the video you want")
        needs = {"image": ("image",), "extend": ("video",), "edit": ("video",), "connect": ("video", "video_b")}
        for name in needs.get(self.mode, ()):
            if getattr(self, name) is None:
                raise InputError(f"{self.mode} needs {'a video' if name.startswith('video') else 'an image'}")
        if self.mode != "edit" and (self.strength is not None or self.source_prompt is not None
                                    or self.edit_method != EDIT_METHODS[0]):
            raise InputError("strength, source prompt and edit method go with an edit (--edit)")
        if self.edit_method not in EDIT_METHODS:
            raise InputError(f"the edit method (--edit-method) must be one of {', '.join(EDIT_METHODS)}, got {self.edit_method!r}")
        if self.strength is not None and not 0 < self.strength <= 1:
            raise InputError(f"strength (--strength) must be more than 0 and at most 1, got {self.strength:g}")
        if self.frames is not None and self.seconds is not None:
            raise InputError("give seconds or a frame count, not both")
        if self.frames is not None and (self.mode in ("edit", "still", "storyboard") or not isinstance(self.frames, int)
                                        or isinstance(self.frames, bool) or self.frames < 1):
            raise InputError(f"a frame count goes with text, image, extend, connect or loop, as a whole number of "
                             f"at least 1; got {self.frames!r} for {self.mode}")
        if self.direction not in DIRECTIONS:
            raise InputError(f"direction must be forward or backward, got {self.direction!r}")

    def sampling_kw(self) -> dict:
        """The fields every mode passes on to Pipeline.request (seconds and fps are each mode's own)."""
        return dict(width=self.width, height=self.height, steps=self.steps, guidance=self.guidance, seed=self.seed,
                    negative_prompt=self.negative_prompt, sampler=self.sampler)

    def fps_for(self, pipe: Pipeline) -> float:
        """The request's fps, else the storyboard's, else the model's."""
        if self.fps is not None:
            return self.fps
        board_fps = self.storyboard.fps if self.storyboard is not None else None
        return float(board_fps or pipe.sampling.fps)

    def seconds_for(self, fps: float, default: float | None = None) -> float | None:
        """The length asked for: `frames` at `fps`, else `seconds`, else `default` (None: the model's)."""
        if self.frames is not None:
            return self.frames / fps
        return default if self.seconds is None else self.seconds


@dataclass
class Generation:
    """A request under way: frame chunks in order (streamed where the mode allows), at `fps`."""

    chunks: Iterator[np.ndarray]
    fps: float
    encoded_prompt: str  # what the text encoder saw (a storyboard's: its first shot's)
    seed: int
    steps: int
    timings: dict[str, float] = field(default_factory=dict)

    def result(self, prompt: str = "") -> GenerationResult:
        t0 = time.perf_counter()
        frames = np.concatenate(list(self.chunks))
        return GenerationResult(frames, self.fps, prompt, self.encoded_prompt, self.seed, self.steps,
                                {**self.timings, "frames": time.perf_counter() - t0})


def check(pipe: Pipeline, req: VideoRequest) -> None:
    """Every sampling field against the model, before any expensive work (a storyboard checks each shot)."""
    kw = dict(req.sampling_kw(), fps=req.fps_for(pipe))
    if req.mode == "storyboard":
        for shot in req.storyboard.shots:
            pipe.request(req.storyboard.scene_prompt(shot), seconds=shot.seconds, **kw)
    elif req.mode in ("extend", "connect"):
        pipe.request(req.prompt, seconds=req.seconds_for(kw["fps"], NEW_SECONDS), **kw)
    elif req.mode != "edit":  # an edit's length is its source's
        pipe.request(req.prompt, seconds=req.seconds_for(kw["fps"]), **kw)


def run(pipe: Pipeline, req: VideoRequest, progress: ProgressFn | None = None, mark: bool = True) -> Generation:
    """Run any mode. Text, image and storyboards stream their frames as they are decoded; the other modes
    assemble the whole video first (given frames and new ones meet at seams). Frames carry the invisible
    watermark unless `mark` is False (provenance settings can also turn it off)."""
    check(pipe, req)
    fps = req.fps_for(pipe)
    kw = dict(req.sampling_kw(), fps=fps, expand=req.expand, progress=progress, mark=mark)
    t0 = time.perf_counter()
    if req.mode in ("text", "image", "still"):
        seconds = 1.0 / fps if req.mode == "still" else req.seconds_for(fps)
        r, text, cond = pipe.prepare(req.prompt, expand=req.expand, image=req.image, seconds=seconds,
                                     **dict(req.sampling_kw(), fps=fps))
        chunks = pipe.frames_stream(r, text, cond, progress=progress, mark=mark)
        return Generation(chunks, r.fps, text, r.seed, r.steps, {"prepare": time.perf_counter() - t0})
    if req.mode == "storyboard":
        board = req.storyboard
        kw.pop("seed")
        first = board.scene_prompt(board.shots[0])
        text = pipe.expand(first, req.seed) if req.expand else first
        chunks = storyboard_frames(pipe, board, seed=req.seed, **kw)
        return Generation(chunks, fps, text, req.seed, req.steps or pipe.sampling.steps)
    if req.mode == "extend":
        res = modes.extend(pipe, req.prompt, req.video, direction=req.direction,
                           seconds=req.seconds_for(fps, NEW_SECONDS), **kw)
    elif req.mode == "connect":
        res = modes.connect(pipe, req.prompt, req.video, req.video_b, seconds=req.seconds_for(fps, NEW_SECONDS), **kw)
    elif req.mode == "loop":
        res = modes.loop(pipe, req.prompt, seconds=req.seconds_for(fps), **kw)
    else:
        res = modes.edit(pipe, req.prompt, req.video, strength=req.strength, source_prompt=req.source_prompt,
                         method=req.edit_method, **kw)
    return Generation(iter([res.frames]), res.fps, res.encoded_prompt, res.seed, res.steps, res.timings)


def read_source(path: str | Path, fps: float) -> np.ndarray:
    """A given video (extend, connect, edit) as frames at the request's fps: the CLI and the server read alike."""
    from cinegen.common.video_io import read_video

    frames, _ = read_video(path, fps=fps)
    if len(frames) == 0:
        raise InputError(f"video {path} has no frames")
    return frames


def read_image(path: str | Path) -> np.ndarray:
    """A start image as RGB uint8 (H, W, 3)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (FileNotFoundError, IsADirectoryError, UnidentifiedImageError, OSError) as e:
        raise InputError(f"cannot read image {path}: {getattr(e, 'strerror', None) or e}") from None
