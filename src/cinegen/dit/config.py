"""DiT configuration and named size presets.

The presets are plain functions returning a full `DiTConfig`; `DIT_PRESETS` is the one
name -> function dict the CLI offers as choices.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

from cinegen.common.errors import InputError


@dataclass(frozen=True)
class DiTConfig:
    in_channels: int = 16                       # latent channels of the VAE
    out_channels: int | None = None             # None: same as in_channels
    patch_size: tuple[int, int, int] = (1, 2, 2)  # (t, h, w) latent voxels per token
    dim: int = 256                              # token width
    depth: int = 6                              # transformer blocks
    heads: int = 4                              # attention heads (head_dim = dim / heads)
    text_dim: int = 384                         # width of the text encoder's token states (MiniLM: 384)
    ffn_mult: float = 4.0                       # FFN hidden width = round(dim * ffn_mult)
    freq_dim: int = 256                         # sinusoidal timestep features
    time_scale: float = 1000.0                  # t in [0, 1] is embedded as time_scale * t (Wan: 0..1000)
    rope_theta: float = 10000.0
    eps: float = 1e-6                           # LayerNorm / RMSNorm epsilon
    qk_norm: bool = True                        # RMS norm on q and k across heads (Wan)
    cross_attn_norm: bool = True                # affine LayerNorm before cross-attention (Wan)
    pooled_text: bool = True                    # ours: masked-mean text -> MLP added to the time embedding
    # What the output head predicts: "v" (the velocity, Wan) or "x0" (the clean latents, turned into a
    # velocity inside forward, so every sampler and loss still sees v). x0 suits a token that carries more
    # numbers than the width can hold noise for (JiT, "Back to Basics", Li & He 2025).
    prediction: str = "v"

    def __post_init__(self) -> None:
        # JSON gives lists; keep the dataclass hashable and comparable.
        object.__setattr__(self, "patch_size", tuple(int(p) for p in self.patch_size))
        if len(self.patch_size) != 3 or min(self.patch_size) < 1:
            raise InputError(f"patch_size must be three positive ints (t, h, w), got {self.patch_size}")
        for name in ("in_channels", "dim", "depth", "heads", "text_dim", "freq_dim"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"DiTConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.out_channels is not None and self.out_channels < 1:
            raise InputError(f"DiTConfig.out_channels must be >= 1 or None, got {self.out_channels}")
        if self.dim % self.heads:
            raise InputError(f"dim {self.dim} is not divisible by heads {self.heads}")
        if self.head_dim % 2 or self.head_dim < 6:
            # RoPE rotates pairs and splits the head over t/h/w: needs an even head of >= 6.
            raise InputError(f"head_dim = dim / heads must be even and >= 6, got {self.head_dim}")
        if self.freq_dim % 2:
            raise InputError(f"freq_dim must be even, got {self.freq_dim}")
        if self.prediction not in ("v", "x0"):
            raise InputError(f"prediction must be 'v' or 'x0', got {self.prediction!r}")
        if self.ffn_mult <= 0:
            raise InputError(f"ffn_mult must be > 0, got {self.ffn_mult}")
        if self.time_scale <= 0 or self.rope_theta <= 0 or self.eps <= 0:
            raise InputError("time_scale, rope_theta and eps must be > 0")

    @property
    def head_dim(self) -> int:
        return self.dim // self.heads

    @property
    def ffn_dim(self) -> int:
        return int(round(self.dim * self.ffn_mult))

    @property
    def out_dim(self) -> int:
        return self.out_channels or self.in_channels

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["patch_size"] = list(self.patch_size)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DiTConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown DiT config field(s): {', '.join(unknown)}")
        return cls(**d)


def dit_tiny(**overrides: Any) -> DiTConfig:
    """Tests: two blocks of width 64, runs in milliseconds."""
    return dataclasses.replace(DiTConfig(dim=64, depth=2, heads=4, ffn_mult=2.0, freq_dim=64), **overrides)


def dit_small(**overrides: Any) -> DiTConfig:
    """Default CPU model (~7M parameters): 10 s of 64×64 video (336 tokens) at ~0.1 s per CFG step."""
    return dataclasses.replace(DiTConfig(dim=256, depth=6, heads=4, ffn_mult=4.0), **overrides)


def dit_base(**overrides: Any) -> DiTConfig:
    """GPU-sized (~150M parameters)."""
    return dataclasses.replace(DiTConfig(dim=768, depth=16, heads=12, ffn_mult=4.0), **overrides)


DIT_PRESETS: dict[str, Callable[..., DiTConfig]] = {
    "tiny": dit_tiny,
    "small": dit_small,
    "base": dit_base,
}
