"""Wan's text encoder (transformers' UMT5EncoderModel + the folder's tokenizer) behind cinegen's TextEncoder interface.

`encode(prompts) -> (emb, mask)` as text/encoder.py's TextEncoder, computed as WanPipeline's
`_get_t5_prompt_embeds` does: diffusers' own `prompt_clean` (ftfy if installed, HTML unescape twice,
whitespace collapsed), tokens padded and truncated to 512, the encoder run with the attention mask,
each prompt's states cut to its true length and zero-padded back to 512.

Differences from cinegen's TextEncoder: L is always `max_length` (512), not the longest prompt, and
the mask is all True. Wan's transformer attends to the zero rows too (it was trained so: they pass
through the text MLP to a constant, not to nothing), so they must not be masked out.
"""
from __future__ import annotations

from pathlib import Path

import torch

from cinegen.common.errors import CheckpointError, InputError
from cinegen.common.lru import StatesCache


def _dtype_kw(dtype: torch.dtype) -> dict[str, torch.dtype]:
    """transformers >= 4.56 calls it `dtype`, older ones `torch_dtype`."""
    import transformers

    major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


class WanTextEncoder:
    """Prompts -> (emb float32 (B, 512, D), mask bool (B, 512) all True); frozen, with an LRU cache per prompt."""

    def __init__(self, tokenizer, model: torch.nn.Module, device: str | torch.device = "cpu",
                 max_length: int = 512, cache_size: int = 64, name: str = "umt5", offload: bool = False):
        """offload: the encoder waits on the CPU and visits `device` only to encode (UMT5-XXL is about 11 GB in
        bf16, more than the 1.3B DiT: sampling then has the GPU to itself)."""
        if max_length < 2:
            raise InputError(f"max_length must be >= 2, got {max_length}")
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.offload = offload
        self.model = model.eval().requires_grad_(False).to("cpu" if offload else self.device)
        self.max_length = max_length
        self.name = name
        self.dim: int = int(model.config.d_model)
        self.model_calls = 0
        self._cache = StatesCache(cache_size)  # cleaned prompt -> (L_i, D) float32, CPU

    @classmethod
    def from_folder(cls, path: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                    max_length: int = 512, offload: bool = False) -> "WanTextEncoder":
        """tokenizer/ and text_encoder/ of a Wan folder, through transformers' from_pretrained (local files only)."""
        from transformers import AutoTokenizer, UMT5EncoderModel
        from transformers.utils import logging as hf_logging

        path = Path(path)
        bar = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()  # a shard bar would cut through the caller's own progress display
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path / "tokenizer"), local_files_only=True)
            model = UMT5EncoderModel.from_pretrained(str(path / "text_encoder"), local_files_only=True,
                                                     **_dtype_kw(dtype))
        except (OSError, ValueError, KeyError) as e:
            raise CheckpointError(f"cannot load the Wan text encoder from {path}: {str(e).splitlines()[0]}") from None
        finally:
            if bar:
                hf_logging.enable_progress_bar()
        return cls(tokenizer, model, device, max_length, name=str(path / "text_encoder"), offload=offload)

    @staticmethod
    def clean(prompt: str) -> str:
        """WanPipeline's prompt cleaning (its own function: ftfy only if installed, as there)."""
        from diffusers.pipelines.wan.pipeline_wan import prompt_clean

        return prompt_clean(prompt)

    @torch.inference_mode()
    def _run(self, prompts: list[str]) -> list[torch.Tensor]:
        """Cleaned prompts -> each one's states (L_i, D), L_i its token count with </s>."""
        self.model_calls += 1
        tokens = self.tokenizer(prompts, padding="max_length", max_length=self.max_length, truncation=True,
                                add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
        ids, mask = tokens.input_ids.to(self.device), tokens.attention_mask.to(self.device)
        if self.offload:
            self.model.to(self.device)
        try:
            hidden = self.model(ids, mask).last_hidden_state  # (B, max_length, D)
        finally:
            if self.offload:
                self.model.to("cpu")
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
        lengths = mask.gt(0).sum(dim=1).tolist()
        return [hidden[i, :n].float().cpu() for i, n in enumerate(lengths)]

    def encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-token states (B, max_length, D) float32, zero past each prompt's length, and an all-True mask."""
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise InputError("encode takes a list of prompt strings")
        if not prompts:
            raise InputError("encode got an empty list of prompts")
        cleaned = [self.clean(p) for p in prompts]
        found = self._cache.fetch(cleaned, self._run)
        emb = torch.zeros(len(prompts), self.max_length, self.dim)  # (B, L, D)
        for i, p in enumerate(cleaned):
            emb[i, : found[p].shape[0]] = found[p]
        mask = torch.ones(len(prompts), self.max_length, dtype=torch.bool)
        return emb.to(self.device), mask.to(self.device)

    def __call__(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encode(prompts)
