"""A checkpoint's sampling settings: config.json's "sampling" section, typed and checked once at load."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cinegen.common.errors import CheckpointError
from cinegen.pipeline.limits import SAMPLERS

CONDITIONS = ("clean", "replace")


@dataclass(frozen=True)
class SamplingConfig:
    """What a request left unset gets, and how the checkpoint wants to be sampled.

    A missing key takes the default below; an unknown key or a bad value is a CheckpointError naming it.
    """

    width: int = 64
    height: int = 64
    fps: float = 8.0
    seconds: float = 2.0
    steps: int = 20
    guidance: float = 4.0
    # noise levels t where guidance applies; outside it, steps cost one forward pass instead of two
    guidance_interval: tuple[float, float] = (0.0, 1.0)
    # weight of the guidance's part along the clean estimate: 1 plain CFG; 0 adaptive projected guidance
    # (APG, flow/guidance.py), meant for models that oversaturate at high guidance
    guidance_parallel: float = 1.0
    # × the training time shift: > 1 spends more of the steps at high noise, where the layout is decided
    shift_scale: float = 1.0
    window: int = 5  # latent frames per window (the trained clip length)
    context: int = 2  # clean latent frames carried from one window to the next
    memory: bool = False  # the model trained with memory batches: each window sees the video's first frame
    sampler: str = "euler"  # euler | unipc (flow/unipc.py: second order, one model call a step)
    # None: the training shift for the token count (× shift_scale). A number: that fixed shift on diffusers'
    # flow-sigma grid, the model called at whole timesteps under UniPC (a Wan folder's scheduler)
    flow_shift: float | None = None
    # how given frames are held: "clean" (t = 0 for them: models trained with clean frames, cinegen's), or
    # "replace" (re-noised to the current t at every step: models trained with one t a video, Wan2.1)
    condition: str = "clean"

    def __post_init__(self) -> None:
        checks = (
            ("width", self.width > 0), ("height", self.height > 0), ("fps", self.fps > 0),
            ("seconds", self.seconds > 0), ("steps", self.steps > 0), ("guidance", self.guidance >= 0),
            ("guidance_interval", 0 <= self.guidance_interval[0] <= self.guidance_interval[1] <= 1),
            ("guidance_parallel", 0 <= self.guidance_parallel <= 1),
            ("shift_scale", self.shift_scale > 0), ("window", self.window >= 1),
            ("context", 0 <= self.context < self.window), ("sampler", self.sampler in SAMPLERS),
            ("flow_shift", self.flow_shift is None or self.flow_shift > 0),
            ("condition", self.condition in CONDITIONS),
        )
        for name, ok in checks:
            if not ok:
                raise CheckpointError(f"sampling {name} = {getattr(self, name)!r} is out of range")
        if self.memory and self.condition != "clean":
            raise CheckpointError("sampling memory needs condition 'clean' (a memory frame is held at t = 0)")

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "config.json") -> "SamplingConfig":
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise CheckpointError(f"{where}: unknown sampling setting(s) {', '.join(unknown)}")
        kw: dict[str, Any] = {}
        try:
            for k, v in d.items():
                default = fields[k].default
                if default is None:  # optional numbers
                    kw[k] = None if v is None else float(v)
                elif k == "guidance_interval":
                    lo, hi = v
                    kw[k] = (float(lo), float(hi))
                elif isinstance(default, bool):
                    if not isinstance(v, bool):
                        raise TypeError(f"{k} must be true or false")
                    kw[k] = v
                elif isinstance(default, int) and float(v) != int(v):
                    raise ValueError(f"{k} must be a whole number, not {v!r}")
                else:
                    kw[k] = type(default)(v)
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"{where}: bad sampling setting ({e})") from None
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["guidance_interval"] = list(self.guidance_interval)
        return d

    def replace(self, **kw: Any) -> "SamplingConfig":
        return dataclasses.replace(self, **kw)
