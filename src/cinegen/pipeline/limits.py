"""What a request may ask for, checked before any work starts (diffusers' `check_inputs`)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from cinegen.common.errors import InputError

MAX_PROMPT_CHARS = 2000
MIN_SIDE, MAX_SIDE = 16, 1024
MAX_SECONDS = 120.0
MIN_FPS, MAX_FPS = 1.0, 60.0
MAX_STEPS = 200
MAX_GUIDANCE = 30.0
SAMPLERS = ("euler", "unipc")  # flow/sampler.py sample_euler, flow/unipc.py sample_unipc
EDIT_METHODS = ("flowedit", "sdedit")  # the first is the default (bench_modes --only edit compares them)
EDIT_STRENGTH = 0.92  # FlowEdit's starting t (bench_modes: attribute .78, tracks moved .070 of the frame)
SDEDIT_STRENGTH = 0.55  # SDEdit's (tracks moved .090, target 0.10; attribute .34, backgrounds never change)


def edit_strength(method: str, strength: float | None = None) -> float:
    """`strength`, or the edit method's default when None."""
    if strength is not None:
        return strength
    return EDIT_STRENGTH if method == "flowedit" else SDEDIT_STRENGTH


def context_frames(time_factor: int) -> int:
    """The fewest frames a given video may have (extend, connect): an image latent and one group."""
    return 1 + time_factor


@dataclass(frozen=True)
class Geometry:
    """What a checkpoint's VAE and DiT fix about sizes, read from the loaded model (Pipeline.geometry)."""

    time_factor: int  # the VAE's: T = 1 + f·k frames ↔ 1 + k latent frames
    space_factor: int  # the VAE's: pixels per latent cell, each way
    latent_channels: int
    patch: tuple[int, int, int]  # the DiT's (t, h, w) latent cells per token

    @property
    def side_multiple(self) -> tuple[int, int]:
        """(height, width) multiples a generated frame must have: a whole number of tokens each way."""
        return self.space_factor * self.patch[1], self.space_factor * self.patch[2]

    def latent_frames(self, n_frames: int) -> int:
        """Latent frames that cover n_frames: T = 1 + f·k frames ↔ 1 + k latent frames."""
        return 1 + math.ceil((n_frames - 1) / self.time_factor)

    def frames_of(self, latent: int) -> range:
        """The frames latent frame `latent` stands for: frame 0 alone (the causal VAE's image frame), then
        f frames each."""
        if latent == 0:
            return range(0, 1)
        return range(1 + self.time_factor * (latent - 1), 1 + self.time_factor * latent)

    def unit(self, n: int) -> int:
        """The largest 1 + f·k not above n (frames a whole number of latent frames stand for)."""
        return 1 + self.time_factor * ((n - 1) // self.time_factor)


@dataclass(frozen=True)
class Request:
    prompt: str
    seconds: float
    fps: float
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    negative_prompt: str = ""
    geometry: Geometry | None = None  # the model's; None: validated only, not yet sized for a model
    sampler: str = "euler"

    def _geometry(self) -> Geometry:
        if self.geometry is None:
            raise InputError("this request was checked without a model: its latent sizes are unknown")
        return self.geometry

    @property
    def n_frames(self) -> int:
        """Frames the caller gets: at least one, round(seconds · fps) otherwise."""
        return max(1, round(self.seconds * self.fps))

    @property
    def n_latent_frames(self) -> int:
        """Latent frames that cover n_frames: T = 1 + f·k frames ↔ 1 + k latent frames."""
        return self._geometry().latent_frames(self.n_frames)

    @property
    def gen_size(self) -> tuple[int, int]:
        """(height, width) rounded up to the model's multiples; the output is centre-cropped back."""
        mh, mw = self._geometry().side_multiple
        return mh * math.ceil(self.height / mh), mw * math.ceil(self.width / mw)


def check_request(
    prompt: str,
    seconds: float,
    fps: float,
    width: int,
    height: int,
    steps: int,
    guidance: float,
    seed: int,
    negative_prompt: str = "",
    allow_empty_prompt: bool = False,
    geometry: Geometry | None = None,
    sampler: str = "euler",
) -> Request:
    """Validate every field; raise InputError naming the first bad one."""
    if not isinstance(prompt, str) or (not prompt.strip() and not allow_empty_prompt):
        raise InputError("prompt is empty: describe the video you want")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    if len(negative_prompt) > MAX_PROMPT_CHARS:
        raise InputError(f"negative prompt is {len(negative_prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
    for name, v in (("width", width), ("height", height)):
        if not isinstance(v, int) or isinstance(v, bool) or not MIN_SIDE <= v <= MAX_SIDE:
            raise InputError(f"{name} must be a whole number from {MIN_SIDE} to {MAX_SIDE} pixels, got {v}")
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
        raise InputError(f"seconds must be more than 0 and at most {MAX_SECONDS:g}, got {seconds}")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise InputError(f"fps must be from {MIN_FPS:g} to {MAX_FPS:g}, got {fps}")
    if not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps}")
    if not (isinstance(guidance, (int, float)) and math.isfinite(guidance) and 0 <= guidance <= MAX_GUIDANCE):
        raise InputError(f"guidance must be from 0 to {MAX_GUIDANCE:g}, got {guidance}")
    if not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise InputError(f"seed must be a whole number from 0 to 2^63 - 1, got {seed}")
    if sampler not in SAMPLERS:
        raise InputError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    return Request(prompt.strip(), float(seconds), float(fps), width, height, steps, float(guidance), seed, negative_prompt,
                   geometry, sampler)
