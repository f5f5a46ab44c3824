"""Find and load a diffusers Wan2.1 text-to-video folder (`Wan2.1-T2V-1.3B-Diffusers` and the like).

The folder's model_index.json names `WanPipeline` and its parts, one subfolder each:

    transformer/   WanTransformer3DModel: config.json + diffusion_pytorch_model*.safetensors (+ index if sharded)
    vae/           AutoencoderKLWan            -> cinegen.wan.vae.WanVAE
    text_encoder/  UMT5EncoderModel            -> cinegen.wan.text.WanTextEncoder (with tokenizer/)
    tokenizer/     T5 tokenizer (tokenizer.json)
    scheduler/     UniPCMultistepScheduler with flow sigmas -> WanSampling (cinegen.flow.unipc runs it)

The transformer becomes cinegen's own DiT through dit/wan_convert.py (a rename; tested equal to
diffusers'); the VAE, text encoder and tokenizer are loaded by diffusers' and transformers' own
`from_pretrained` and wrapped, so their numerics are theirs. Every problem is one typed line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from cinegen.common.errors import CheckpointError, CinegenError
from cinegen.dit import DiT
from cinegen.dit.wan_convert import config_from_wan, convert_wan_state_dict

if TYPE_CHECKING:
    from cinegen.wan.text import WanTextEncoder
    from cinegen.wan.vae import WanVAE

INSTALL_HINT = 'pip install "cinegen[wan]"'
COMPONENTS = ("transformer", "vae", "text_encoder", "tokenizer", "scheduler")
WEIGHTS = "diffusion_pytorch_model"
MIN_DIFFUSERS = (0, 37)  # the UniPC flow grid flow/unipc.py reproduces (it changed in 0.37)


class MissingDependencyError(CinegenError, ImportError):
    """An optional dependency (diffusers, accelerate) that this feature needs is not installed."""


def require_wan_deps() -> None:
    """Raise MissingDependencyError, one line, unless diffusers (>= 0.37), accelerate and transformers import."""
    missing = []
    for module in ("diffusers", "accelerate", "transformers"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise MissingDependencyError(f"Wan folders need {' and '.join(missing)}: {INSTALL_HINT}")
    import diffusers

    if tuple(int(p) for p in diffusers.__version__.split(".")[:2]) < MIN_DIFFUSERS:
        raise MissingDependencyError(f"Wan folders need diffusers >= {'.'.join(map(str, MIN_DIFFUSERS))}, "
                                     f"found {diffusers.__version__}: {INSTALL_HINT}")


# Scheduler settings flow/unipc.py implements: key -> (diffusers' default, the value needed).
_UNIPC_NEEDS: dict[str, tuple[Any, Any]] = {
    "prediction_type": ("epsilon", "flow_prediction"),
    "use_flow_sigmas": (False, True),
    "predict_x0": (True, True),
    "solver_type": ("bh2", "bh2"),
    "final_sigmas_type": ("zero", "zero"),
    "use_dynamic_shifting": (False, False),
    "use_karras_sigmas": (False, False),
    "use_exponential_sigmas": (False, False),
    "use_beta_sigmas": (False, False),
    "thresholding": (False, False),
    "shift_terminal": (None, None),
}


@dataclass(frozen=True)
class WanSampling:
    """How WanPipeline samples by default, with this folder's scheduler settings.

    UniPC (bh2, predictor-corrector, lower order on the final steps) over flow sigmas shifted by
    `flow_shift`; the model sees the integer timestep floor(σ·1000) (flow/unipc.py). Classifier-free
    guidance in two passes, conditional then unconditional, v = v_u + g·(v_c − v_u).
    """

    flow_shift: float = 3.0
    solver_order: int = 2
    lower_order_final: bool = True
    num_train_timesteps: int = 1000
    steps: int = 50
    guidance: float = 5.0
    negative_prompt: str = ""
    num_frames: int = 81
    fps: float = 16.0
    height: int = 480
    width: int = 832
    max_sequence_length: int = 512

    @classmethod
    def from_scheduler_config(cls, cfg: dict[str, Any], where: str) -> "WanSampling":
        """Read a UniPCMultistepScheduler config; refuse settings flow/unipc.py does not implement."""
        name = cfg.get("_class_name")
        if name != "UniPCMultistepScheduler":
            raise CheckpointError(f"{where}: scheduler {name!r} is not supported (UniPCMultistepScheduler only)")
        for key, (default, want) in _UNIPC_NEEDS.items():
            got = cfg.get(key, default)
            if got != want:
                raise CheckpointError(f"{where}: scheduler {key}={got!r} is not supported (needs {want!r})")
        if cfg.get("disable_corrector"):
            raise CheckpointError(f"{where}: scheduler disable_corrector is not supported")
        return cls(flow_shift=float(cfg.get("flow_shift", 1.0)), solver_order=int(cfg.get("solver_order", 2)),
                   lower_order_final=bool(cfg.get("lower_order_final", True)),
                   num_train_timesteps=int(cfg.get("num_train_timesteps", 1000)))


@dataclass(frozen=True, eq=False)
class WanParts:
    """A loaded Wan folder: cinegen's DiT, the wrapped VAE and text encoder, the sampling defaults."""

    path: Path
    dit: DiT
    vae: WanVAE
    text: WanTextEncoder
    sampling: WanSampling
    scheduler_config: dict[str, Any]
    device: torch.device
    dtype: torch.dtype


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{path.parent}: the Wan folder lacks {what} ({path.name})") from None
    except (OSError, ValueError) as e:
        raise CheckpointError(f"{path}: unreadable {what} ({str(e).splitlines()[0]})") from None


def is_wan_folder(path: str | Path) -> bool:
    """True when `path` has a model_index.json naming WanPipeline (its parts are checked by load_wan)."""
    index = Path(path) / "model_index.json"
    try:
        return json.loads(index.read_text()).get("_class_name") == "WanPipeline"
    except (OSError, ValueError, AttributeError):
        return False


def check_wan_folder(path: str | Path) -> dict[str, Any]:
    """The folder's model_index.json, after checking it is a Wan2.1 T2V folder with every part; else CheckpointError."""
    path = Path(path)
    if not is_wan_folder(path):
        raise CheckpointError(f"{path} is not a diffusers Wan folder (no model_index.json naming WanPipeline)")
    index = _read_json(path / "model_index.json", "model_index.json")
    if index.get("transformer_2") not in (None, [None, None]) or index.get("boundary_ratio") is not None:
        raise CheckpointError(f"{path}: two-expert Wan2.2 folders (transformer_2, boundary_ratio) are not supported")
    if index.get("expand_timesteps"):
        raise CheckpointError(f"{path}: Wan2.2 TI2V folders (expand_timesteps) are not supported")
    for name in COMPONENTS:
        sub = path / name
        if not sub.is_dir():
            raise CheckpointError(f"{path}: the Wan folder lacks its {name}/ folder")
    for name, files in {"transformer": ["config.json"], "vae": ["config.json"], "text_encoder": ["config.json"],
                        "scheduler": ["scheduler_config.json"],
                        "tokenizer": ["tokenizer.json", "spiece.model", "tokenizer_config.json"]}.items():
        if not any((path / name / f).is_file() for f in files):
            raise CheckpointError(f"{path}: the Wan folder's {name}/ has no {' or '.join(files)}")
    for name in ("transformer", "vae"):
        if not any((path / name).glob(f"{WEIGHTS}*.safetensors")):
            raise CheckpointError(f"{path}: the Wan folder's {name}/ has no {WEIGHTS}*.safetensors")
    return index


def pipeline_config(path: str | Path) -> dict[str, Any]:
    """How cinegen samples a Wan folder, read from its JSON files alone (the server's API process loads no
    weights): a config.json-like dict with the name, the VAE's time factor and the sampling section.

    WanPipeline's defaults (UniPC on the folder's flow shift, guidance 5, 50 steps, 81 frames at 16 fps,
    832×480); the trained clip is one window. Wan2.1 trained with one time for the whole video, so given
    frames are held by latent replacement (condition "replace"), not clean."""
    path = Path(path)
    check_wan_folder(path)
    s = WanSampling.from_scheduler_config(_read_json(path / "scheduler" / "scheduler_config.json", "scheduler config"),
                                          str(path / "scheduler"))
    if (s.solver_order, s.lower_order_final, s.num_train_timesteps) != (2, True, 1000):
        # the Pipeline runs sample_unipc's defaults; reference.generate_wan takes any of these
        raise CheckpointError(f"{path / 'scheduler'}: solver_order {s.solver_order}, lower_order_final "
                              f"{s.lower_order_final}, num_train_timesteps {s.num_train_timesteps} are not supported "
                              "by cinegen's pipeline (it runs 2, true, 1000, as Wan2.1 folders ship)")
    vae = _read_json(path / "vae" / "config.json", "VAE config")
    time_factor = int(vae.get("scale_factor_temporal") or 4)  # diffusers' default, as WanPipeline reads it
    window = 1 + (s.num_frames - 1) // time_factor
    return {
        "name": path.resolve().name, "expand_prompts": False, "source": "diffusers-wan", "time_factor": time_factor,
        "sampling": {"width": s.width, "height": s.height, "fps": s.fps, "seconds": s.num_frames / s.fps,
                     "steps": s.steps, "guidance": s.guidance, "sampler": "unipc", "flow_shift": s.flow_shift,
                     "window": window, "context": max(1, window // 4), "memory": False, "condition": "replace"},
    }


def load_transformer_state(folder: Path) -> dict[str, torch.Tensor]:
    """diffusers' transformer weights from one safetensors file or from shards listed by their index."""
    index = folder / f"{WEIGHTS}.safetensors.index.json"
    if index.is_file():
        weight_map = _read_json(index, "safetensors index").get("weight_map", {})
        shards = sorted(set(weight_map.values()))
    else:
        shards = [f"{WEIGHTS}.safetensors"]
    state: dict[str, torch.Tensor] = {}
    for shard in shards:
        try:
            state.update(load_file(str(folder / shard)))
        except FileNotFoundError:
            raise CheckpointError(f"{folder}: the shard {shard} named by the index is missing") from None
        except (SafetensorError, OSError) as e:
            raise CheckpointError(f"{folder / shard}: unreadable safetensors ({str(e).splitlines()[0]})") from None
    if index.is_file():
        lacking = sorted(set(weight_map) - set(state))
        if lacking:
            raise CheckpointError(f"{folder}: {len(lacking)} tensors of the index are in no shard, e.g. {lacking[:2]}")
    return state


def dit_from_wan(wan_config: dict[str, Any], wan_state: dict[str, torch.Tensor], device: torch.device,
                 dtype: torch.dtype) -> DiT:
    """cinegen's DiT holding a WanTransformer3DModel's weights, built on the meta device (no random init first).

    The DiT's tensors are the state's own where device and dtype already agree (no copy)."""
    cfg = config_from_wan(wan_config)
    state = convert_wan_state_dict(wan_state, cfg)
    with torch.device("meta"):
        dit = DiT(cfg)
    dit.load_state_dict(state, strict=True, assign=True)
    return dit.to(device=device, dtype=dtype).eval().requires_grad_(False)


def load_dit(folder: Path, device: torch.device, dtype: torch.dtype) -> DiT:
    """The DiT of a Wan folder's transformer/ (one safetensors file, or shards and their index)."""
    return dit_from_wan(_read_json(folder / "config.json", "transformer config"), load_transformer_state(folder),
                        device, dtype)


def _check_parts(parts: WanParts) -> WanParts:
    dit, text, vae = parts.dit, parts.text, parts.vae
    if text.dim != dit.cfg.text_dim:
        raise CheckpointError(f"{parts.path}: text encoder width {text.dim} != the transformer's text_dim "
                              f"{dit.cfg.text_dim}")
    if vae.cfg.latent_channels != dit.cfg.in_channels:
        raise CheckpointError(f"{parts.path}: VAE latent channels {vae.cfg.latent_channels} != the transformer's "
                              f"in_channels {dit.cfg.in_channels}")
    return parts


def parts_from_modules(transformer: torch.nn.Module, vae: torch.nn.Module, text_encoder: torch.nn.Module, tokenizer,
                       scheduler: Any, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                       path: str | Path = "<in memory>") -> WanParts:
    """WanParts from diffusers/transformers modules already in memory (a WanPipeline's components);
    `scheduler` is the scheduler object or its config dict.

    The VAE and text encoder are wrapped, not copied; the DiT shares the transformer's tensors where it can.
    Moves nothing but the DiT: put the modules on `device` first."""
    require_wan_deps()
    from cinegen.wan.text import WanTextEncoder
    from cinegen.wan.vae import WanVAE

    device = torch.device(device)
    if isinstance(scheduler, dict):
        sched = dict(scheduler)
    else:
        sched = {"_class_name": type(scheduler).__name__, **dict(scheduler.config)}
    sampling = WanSampling.from_scheduler_config(sched, f"{path} scheduler")
    dit = dit_from_wan(dict(transformer.config), transformer.state_dict(), device, dtype)
    text = WanTextEncoder(tokenizer, text_encoder, device, sampling.max_sequence_length)
    return _check_parts(WanParts(Path(path), dit, WanVAE(vae), text, sampling, sched, device, dtype))


def load_wan(path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
             vae_dtype: torch.dtype = torch.float32, text_dtype: torch.dtype | None = None,
             offload_text: bool = False) -> WanParts:
    """Load a diffusers Wan2.1 T2V folder: transformer as cinegen's DiT (in `dtype`), VAE (in `vae_dtype`:
    float32, as diffusers' Wan docs advise), UMT5 text encoder (in `text_dtype`, default `dtype`)."""
    require_wan_deps()
    from cinegen.wan.text import WanTextEncoder
    from cinegen.wan.vae import WanVAE

    path, device = Path(path), torch.device(device)
    check_wan_folder(path)
    sched = _read_json(path / "scheduler" / "scheduler_config.json", "scheduler config")
    sampling = WanSampling.from_scheduler_config(sched, str(path / "scheduler"))
    dit = load_dit(path / "transformer", device, dtype)
    vae = WanVAE.from_folder(path / "vae", device, vae_dtype)
    text = WanTextEncoder.from_folder(path, device, text_dtype or dtype, max_length=sampling.max_sequence_length,
                                      offload=offload_text)
    return _check_parts(WanParts(path, dit, vae, text, sampling, sched, device, dtype))
