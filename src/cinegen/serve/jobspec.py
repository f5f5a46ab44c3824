"""From API fields to a job: the served model's name and limits, and every field checked.

The API process never loads weights: it reads the checkpoint's config.json for the model's name and
sampling defaults and validates a request with the pipeline's own `check_request`, so a request that
passes here is one the worker can run.
"""
from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cinegen.common.errors import CheckpointError, InputError
from cinegen.pipeline import limits as L
from cinegen.pipeline.sampling_config import SamplingConfig
from cinegen.serve.errors import bad_request

# Names the OpenAI Videos API used; old code sends them, and they all mean the served model.
SORA_ALIASES = ("sora-2", "sora-2-pro", "sora-2-2025-10-06", "sora-2-pro-2025-10-06", "sora-2-2025-12-08")
SIZE_RE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")
# The first word of a check_request message names the field; the API reports it as `param`.
FIELD_OF_MESSAGE = {"prompt": "prompt", "negative": "negative_prompt", "width": "size", "height": "size",
                    "seconds": "seconds", "fps": "fps", "steps": "steps", "guidance": "guidance", "seed": "seed"}


@dataclass(frozen=True)
class ModelInfo:
    """What the API needs to know about the served model, read from its config.json without loading weights."""

    name: str
    sampling: SamplingConfig
    time_factor: int  # the VAE's: a given video needs at least 1 + this many frames to be extended

    @classmethod
    def from_dir(cls, path: Path | None) -> "ModelInfo":
        from cinegen.common.checkpoint import load_config
        from cinegen.pipeline.pipeline import DEFAULT_MODEL_DIR
        from cinegen.vae import VAEConfig

        from cinegen.wan.folder import is_wan_folder, pipeline_config

        folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
        if is_wan_folder(folder):
            config = pipeline_config(folder)
            return cls(config["name"], SamplingConfig.from_dict(config["sampling"]), config["time_factor"])
        if not (folder / "config.json").exists():
            raise CheckpointError(f"no model at {folder}: pass --model DIR (a folder with config.json)")
        config = load_config(folder)
        try:
            time_factor = VAEConfig.from_dict(config["vae"]).temporal_down
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{folder / 'config.json'}: bad VAE config ({e})") from None
        return cls(config.get("name", "cinegen"), SamplingConfig.from_dict(config.get("sampling", {})), time_factor)

    @property
    def defaults(self) -> dict:
        """The sampling defaults as the API reports them (/health)."""
        return self.sampling.to_dict()

    @property
    def context_frames(self) -> int:
        """The fewest frames a video to extend may have."""
        return L.context_frames(self.time_factor)

    @property
    def default_size(self) -> str:
        return f"{self.sampling.width}x{self.sampling.height}"

    def check_model(self, model: str | None) -> None:
        if model is not None and model != self.name and model not in SORA_ALIASES:
            raise bad_request(f"model must be '{self.name}' (this server's model) or one of its aliases "
                              f"{', '.join(SORA_ALIASES[:2])}; got '{model}'", "model", "invalid_model")


def parse_size(size: str | None, info: ModelInfo) -> tuple[int, int]:
    """'WIDTHxHEIGHT' → (width, height). Any size within the limits is made exactly (generated at the next
    size multiple of the model and centre-cropped); anything else is a 400 naming what the model can make."""
    if size is None or size == "":
        return info.sampling.width, info.sampling.height
    m = SIZE_RE.match(size)
    can = (f"this model makes any WIDTHxHEIGHT with each side from {L.MIN_SIDE} to {L.MAX_SIDE} pixels "
           f"(its default is {info.default_size})")
    if not m:
        raise bad_request(f"size must look like 1280x720; {can}; got '{size}'", "size", "invalid_size")
    w, h = int(m.group(1)), int(m.group(2))
    if not (L.MIN_SIDE <= w <= L.MAX_SIDE and L.MIN_SIDE <= h <= L.MAX_SIDE):
        raise bad_request(f"size {w}x{h} cannot be made: {can}", "size", "invalid_size")
    return w, h


def parse_seconds(seconds: str | float | None, default: float, param: str = "seconds") -> float:
    if seconds is None or seconds == "":
        return float(default)
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise bad_request(f"seconds must be a number of seconds, got '{seconds}'", param) from None
    if not (math.isfinite(value) and 0 < value <= L.MAX_SECONDS):
        raise bad_request(f"seconds must be more than 0 and at most {L.MAX_SECONDS:g}, got '{seconds}'", param)
    return value


def format_seconds(seconds: float) -> str:
    """4.0 → '4', 1.25 → '1.25' (the API's seconds are strings)."""
    return f"{round(seconds, 3):g}"


def new_seed() -> int:
    return secrets.randbelow(2**31)


def sampling_params(info: ModelInfo, prompt: str, seconds: float, width: int, height: int, *, fps: float | None,
                    steps: int | None, guidance: float | None, seed: int | None, negative_prompt: str | None,
                    allow_empty_prompt: bool = False) -> dict:
    """Every sampling field filled from the model's defaults and checked; a bad one is a 400 naming it."""
    d = info.sampling
    vals = {
        "fps": d.fps if fps is None else fps,
        "steps": d.steps if steps is None else steps,
        "guidance": d.guidance if guidance is None else guidance,
        "seed": new_seed() if seed is None else seed,
        "negative_prompt": negative_prompt or "",
    }
    if prompt is None:
        raise bad_request("prompt is required", "prompt", "missing_required_parameter")
    try:
        L.check_request(prompt, seconds, vals["fps"], width, height, vals["steps"], vals["guidance"], vals["seed"],
                        vals["negative_prompt"], allow_empty_prompt=allow_empty_prompt)
    except InputError as e:
        msg = str(e)
        raise bad_request(msg, FIELD_OF_MESSAGE.get(msg.split(" ", 1)[0], None)) from None
    return {"width": width, "height": height, "seconds": seconds, **vals}


def parse_storyboard_field(text: str):
    """A YAML/JSON storyboard or the inline form '4s: shot one | 3s close-up: shot two'."""
    from cinegen.pipeline.storyboard import parse_inline, parse_storyboard

    try:
        if re.match(r"^\s*[\d.]+\s*s\b", text):
            return parse_inline(text)
        return parse_storyboard(text, source="storyboard")
    except InputError as e:
        raise bad_request(str(e), "storyboard", "invalid_storyboard") from None
