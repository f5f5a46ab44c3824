"""Training configs: one frozen dataclass per run, saved in every checkpoint; recipes return full configs."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from cinegen.common.errors import InputError
from cinegen.world.levels import check_level


@dataclass(frozen=True)
class TrainConfig:
    kind: str  # "vae" or "dit"
    model: str = "small"  # preset name: vae_<model>() / dit_<model>()
    model_overrides: dict[str, Any] = field(default_factory=dict)
    data: str = "world"  # "world" or a folder of videos
    world: str = "L4"  # the world slice to train on (world/levels.py): L1 one mover … L4 the full world
    width: int = 64
    height: int = 64
    fps: float = 8.0
    n_frames: int = 17  # pixel frames per clip, 1 + k·(the VAE's time factor)
    image_fraction: float = 0.2  # share of batches that are 1-frame images
    batch_size: int = 16
    steps: int = 2000
    lr: float = 1e-3
    warmup: int = 200
    cooldown: int = 0  # final steps over which the lr falls linearly to 0 (warm-up, stable, decay)
    weight_decay: float = 0.01
    # "adamw", or "muon": Muon for the DiT blocks' weight matrices, AdamW for the rest (train/optim.py)
    optimizer: str = "adamw"
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    seed: int = 0
    # a model folder (config.json + <kind>.safetensors; "default": the shipped model) whose weights start a
    # new run: fine-tuning on your own videos, or continuing the committed model on a machine without runs/
    init_from: str = ""
    ckpt_every: int = 200
    log_every: int = 10
    # DiT only
    vae_dir: str = ""  # the trained VAE's checkpoint folder
    text_encoder: str = "minilm"
    caption_dropout: float = 0.1
    cache_clips: int = 4000  # world clips encoded once into the latent cache
    captions_per_clip: int = 3
    render_workers: int = 1  # processes rendering the latent cache's clips (the result is the same)
    memory_fraction: float = 0.0  # share of clip batches whose first latent frame is a far-past memory frame
    # Share of the run (from its start) in which every sample is plain text-to-video: no clean condition
    # frames, no image batches, no memory frames. Those tasks take samples away from learning motion from
    # text (docs/EXPERIMENTS.md), so the modes' conditioning is learned after it.
    t2v_first: float = 0.0
    # World-state alignment (train/world_state.py): weight of a head on block `align_block` predicting each
    # token's exact world state, switched off after the first `align_until` share of the run (0: off)
    align_weight: float = 0.0
    align_block: int = 2
    align_until: float = 0.75
    # VAE: weight of pixels unlike the frame's median colour (vae/loss.py pixel_weights); DiT: of latent
    # pixels unlike their frame's median latent (flow/objective.py foreground_weights)
    fg_weight: float = 0.0
    # DiT: weight of flow/objective.py motion_loss (error of the clean estimate's frame-to-frame change)
    motion_weight: float = 0.0
    # DiT: shift of the training times' logit-normal (flow/schedule.py sample_train_t); 0 takes the sampler's
    # shift for the clip's token count. Larger puts more samples at high noise, where layout and motion form.
    t_shift: float = 0.0
    # VAE only
    kl_weight: float = 1e-6
    crop: int = 0  # train on random crop×crop windows of the rendered frames (0: whole frames); convs don't care
    # Train the decoder only, from init_from's VAE: the encoder, and so the latent space a DiT was trained
    # on, stay as they are (a better decoder for a shipped DiT, as Stable Diffusion's ft-MSE decoder was).
    decoder_only: bool = False
    # With decoder_only: a model folder whose DiT redraws each clip's latents (SDEdit from t0 ~ U(0, redraw_t),
    # redraw_steps Euler steps at redraw_guidance) before the decoder sees them: a decoder for that DiT's
    # latents, which lie off the encoder's (train/redraw.py)
    redraw_from: str = ""
    redraw_t: float = 0.6
    redraw_steps: int = 6
    redraw_guidance: float = 4.0
    # hardware
    device: str = "auto"
    compile: bool = False
    # Under torchrun (docs/PARALLEL.md): "ddp" (every process holds the whole model) or "fsdp" (FSDP2: each
    # holds 1/N of weights, gradients and optimizer state; sharded checkpoints)
    parallel: str = "ddp"
    sequence_parallel: int = 1  # DiT: processes that split each clip's tokens (Ulysses); must divide the heads
    checkpoint_blocks: bool = False  # recompute each block's activations in the backward instead of storing them

    def __post_init__(self) -> None:
        if self.kind not in ("vae", "dit"):
            raise InputError(f"kind must be 'vae' or 'dit', got {self.kind!r}")
        if self.n_frames < 1 or self.width < 1 or self.height < 1:
            raise InputError("n_frames, width and height must be positive")
        if self.crop < 0 or self.crop > min(self.width, self.height):
            raise InputError("crop must be 0 (whole frames) or a side no larger than the frame")
        if self.cooldown < 0 or self.cooldown > self.steps:
            raise InputError("cooldown must be between 0 and steps")
        if self.decoder_only and (self.kind != "vae" or not self.init_from):
            raise InputError("decoder_only trains a VAE's decoder from init_from's weights: set kind=vae and init_from")
        if self.redraw_from and not self.decoder_only:
            raise InputError("redraw_from fine-tunes a decoder for a DiT's latents: set decoder_only=true")
        if not 0.0 < self.redraw_t <= 1.0 or self.redraw_steps < 1:
            raise InputError("redraw_t must be in (0, 1] and redraw_steps >= 1")
        check_level(self.world)
        if self.optimizer not in ("adamw", "muon"):
            raise InputError(f"optimizer must be 'adamw' or 'muon', got {self.optimizer!r}")
        if self.optimizer == "muon" and (self.kind != "dit" or self.parallel == "fsdp"):
            raise InputError("optimizer=muon is for the DiT (its blocks' matrices) and needs whole matrices: "
                             "kind=dit, not parallel=fsdp")
        if self.motion_weight < 0:
            raise InputError("motion_weight must be >= 0")
        if self.t_shift < 0:
            raise InputError("t_shift must be > 0, or 0 for the sampler's shift")
        if self.align_weight < 0 or self.align_block < 0 or not 0.0 <= self.align_until <= 1.0:
            raise InputError("align_weight and align_block must be >= 0 and align_until a share of the run")
        if self.align_weight > 0 and (self.kind != "dit" or self.data != "world"):
            raise InputError("world-state alignment needs the world's truth: kind=dit and data=world")
        if not 0.0 <= self.t2v_first <= 1.0:
            raise InputError("t2v_first is a share of the run, between 0 and 1")
        if self.parallel not in ("ddp", "fsdp"):
            raise InputError(f"parallel must be 'ddp' or 'fsdp', got {self.parallel!r}")
        if self.sequence_parallel < 1:
            raise InputError("sequence_parallel must be >= 1 (1: off)")
        if self.sequence_parallel > 1 and (self.kind != "dit" or self.align_weight > 0):
            raise InputError("sequence_parallel splits the DiT's tokens: kind=dit, without align_weight")
        if self.batch_size < 1 or self.steps < 1:
            raise InputError("batch_size and steps must be positive")
        if not 0 <= self.image_fraction <= 1 or not 0 <= self.caption_dropout < 1 or not 0 <= self.memory_fraction <= 1:
            raise InputError("image_fraction, memory_fraction and caption_dropout are probabilities")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = set(d) - names
        if unknown:
            raise InputError(f"unknown training settings: {sorted(unknown)}")
        return TrainConfig(**d)


def override(cfg: TrainConfig, pairs: list[str]) -> TrainConfig:
    """Apply `name=value` overrides (unknown names are errors); values parse as their field's type."""
    types = {f.name: f.type for f in dataclasses.fields(TrainConfig)}
    changes: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise InputError(f"override {pair!r} must look like name=value")
        name, value = pair.split("=", 1)
        if name.startswith("model."):
            changes.setdefault("model_overrides", dict(cfg.model_overrides))[name[6:]] = _parse(value)
            continue
        if name not in types:
            raise InputError(f"unknown training setting {name!r}")
        current = getattr(cfg, name)
        if isinstance(current, dict):
            raise InputError(f"set {name!r} one entry at a time: model.NAME=VALUE (e.g. model.patch_size=[1,2,2])")
        try:
            changes[name] = type(current)(value) if not isinstance(current, bool) else value.lower() in ("1", "true", "yes")
        except ValueError:
            raise InputError(f"setting {name!r} needs a {type(current).__name__}, got {value!r}") from None
    return dataclasses.replace(cfg, **changes)


def _parse(value: str) -> Any:
    """A model override's value: a number, a JSON list/object (`model.patch_size=[1,2,2]`), else the string."""
    for cast in (int, float, json.loads):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def check_clip_size(cfg: TrainConfig, time_factor: int, space_factor: int, patch: tuple[int, ...] = (1, 1, 1)) -> None:
    """The clip size against the factors of the models being trained (read from them, never assumed):
    1 + k·time_factor frames, sides that the VAE's space factor times the DiT's patch divide."""
    if (cfg.n_frames - 1) % time_factor:
        raise InputError(f"n_frames must be 1 + {time_factor}k for this VAE, got {cfg.n_frames}")
    side_h, side_w = space_factor * patch[1], space_factor * patch[2]
    if cfg.height % side_h or cfg.width % side_w:
        raise InputError(f"width must be a multiple of {side_w} and height of {side_h} (the VAE's {space_factor}× "
                         f"space factor times the DiT's patch), got {cfg.width}x{cfg.height}")
    if cfg.crop % space_factor:
        raise InputError(f"crop must be a multiple of the VAE's space factor {space_factor}, got {cfg.crop}")
