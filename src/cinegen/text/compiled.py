"""A start-up cache for the frozen text encoder: TorchScript weights + the `tokenizers` tokenizer.

Importing transformers 5 and building a model costs about 3.5 s of CPU on a 2-core machine
(it pulls in torch._dynamo, sympy and torch.distributed), more than a whole 10-second video
takes to sample. The encoder is frozen, so after its first load through transformers we trace it
once with `torch.jit.trace`, check the trace against the eager model, and save it in the user's
cache folder. Later runs load the trace (about 0.1 s) and tokenize with the Rust `tokenizers`
library from the same tokenizer.json: transformers is never imported.

The cache key covers the encoder folder, its weight files, and the torch and transformers
versions; a stale or unreadable entry is ignored and rebuilt. CINEGEN_TEXT_CACHE=0 turns it off,
CINEGEN_CACHE_DIR moves it.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from importlib import metadata
from pathlib import Path

import torch

from cinegen.common.atomic import atomic_path

TRACE_CHECK = ["a red ball bounces on a checkered floor.", "", "A small green star orbits clockwise; the camera pans left."]


def cache_dir() -> Path:
    env = os.environ.get("CINEGEN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("cinegen"))


def enabled() -> bool:
    return os.environ.get("CINEGEN_TEXT_CACHE", "1").lower() not in ("0", "false", "no", "off")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def trace_path(encoder_dir: Path) -> Path:
    """Where the trace of the encoder in `encoder_dir` lives: a key of everything it depends on."""
    h = hashlib.sha256()
    h.update(str(encoder_dir.resolve()).encode())
    for f in sorted(encoder_dir.glob("*")):
        if f.is_file() and f.suffix in (".safetensors", ".bin", ".json"):
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(f"torch={torch.__version__} transformers={_version('transformers')}".encode())
    return cache_dir() / "text-encoders" / f"{h.hexdigest()[:20]}.pt"


class FastTokenizer:
    """tokenizer.json through the `tokenizers` library: ids and mask like the transformers tokenizer."""

    def __init__(self, encoder_dir: Path, max_length: int):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
        self.tok.no_padding()  # padded here, to the batch's longest prompt
        self.tok.enable_truncation(max_length)

    def __call__(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        encs = self.tok.encode_batch(prompts)
        length = max(len(e.ids) for e in encs)
        ids = torch.zeros(len(prompts), length, dtype=torch.long)  # pad id never seen: masked out
        mask = torch.zeros(len(prompts), length, dtype=torch.long)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = torch.tensor(e.ids)
            mask[i, : len(e.ids)] = 1
        return ids, mask


class _Hidden(torch.nn.Module):
    """(ids, mask) → last hidden state: the signature the trace records."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=ids, attention_mask=mask).last_hidden_state


def load_trace(encoder_dir: Path) -> torch.jit.ScriptModule | None:
    path = trace_path(encoder_dir)
    if not (enabled() and path.is_file() and (encoder_dir / "tokenizer.json").is_file()):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript still loads in torch 2.x
            return torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, OSError, ValueError):
        return None  # unreadable (e.g. a torch upgrade): the caller loads through transformers again


@torch.inference_mode()
def save_trace(encoder_dir: Path, model: torch.nn.Module, max_length: int) -> Path | None:
    """Trace `model`, keep it only if it matches the eager model on a few prompts; best effort."""
    if not (enabled() and (encoder_dir / "tokenizer.json").is_file()):
        return None
    try:
        tokenize = FastTokenizer(encoder_dir, max_length)
        eager = _Hidden(model).eval()
        ids, mask = tokenize(TRACE_CHECK)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer and deprecation warnings; the trace is checked below
            traced = torch.jit.trace(eager, (ids, mask), strict=False, check_trace=False)
        for batch in (TRACE_CHECK[:1], ["one two"], TRACE_CHECK):  # other lengths than traced
            ids, mask = tokenize(batch)
            keep = mask.bool()
            if not torch.allclose(traced(ids, mask)[keep], eager(ids, mask)[keep], atol=1e-5):
                return None  # the trace baked in something shape-dependent: never use it
        path = trace_path(encoder_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            traced.save(str(tmp))
        return path
    except Exception:  # noqa: BLE001 -- a cache that cannot be built only costs start-up time
        return None
