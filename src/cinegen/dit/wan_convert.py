"""Map diffusers' `WanTransformer3DModel` (Wan2.1 text-to-video) weights onto cinegen's DiT.

The two models are the same network under different parameter names, so conversion is a
rename plus a config translation. Wan embeds the timestep as 0..1000 (our `time_scale`),
pads text to 512 tokens without a mask, and has no pooled-text path (`pooled_text=False`).
Wan2.1 image-to-video checkpoints (an extra image-embedding branch) are not supported.
"""
from __future__ import annotations

from typing import Any

import torch

from cinegen.common.errors import CheckpointError
from cinegen.dit.config import DiTConfig

# Whole-model names: ours <- diffusers'.
_TOP = {
    "patch_embed": "patch_embedding",
    "text_embed.fc1": "condition_embedder.text_embedder.linear_1",
    "text_embed.fc2": "condition_embedder.text_embedder.linear_2",
    "time_embed.fc1": "condition_embedder.time_embedder.linear_1",
    "time_embed.fc2": "condition_embedder.time_embedder.linear_2",
    "time_mod": "condition_embedder.time_proj",
    "out_proj": "proj_out",
}

# Per-block names: ours <- diffusers', under blocks.{i}.
_BLOCK = {
    "self_attn.q": "attn1.to_q",
    "self_attn.k": "attn1.to_k",
    "self_attn.v": "attn1.to_v",
    "self_attn.out": "attn1.to_out.0",
    "self_attn.q_norm": "attn1.norm_q",
    "self_attn.k_norm": "attn1.norm_k",
    "cross_attn.q": "attn2.to_q",
    "cross_attn.k": "attn2.to_k",
    "cross_attn.v": "attn2.to_v",
    "cross_attn.out": "attn2.to_out.0",
    "cross_attn.q_norm": "attn2.norm_q",
    "cross_attn.k_norm": "attn2.norm_k",
    "norm2": "norm2",
    "ffn.fc1": "ffn.net.0.proj",
    "ffn.fc2": "ffn.net.2",
}


def config_from_wan(wan: dict[str, Any]) -> DiTConfig:
    """A DiTConfig equal to a diffusers WanTransformer3DModel config (its `config` dict)."""
    if wan.get("image_dim") is not None or wan.get("added_kv_proj_dim") is not None:
        raise CheckpointError("Wan image-to-video transformers (image_dim / added_kv_proj_dim) are not supported")
    heads, head_dim = int(wan["num_attention_heads"]), int(wan["attention_head_dim"])
    dim = heads * head_dim
    return DiTConfig(
        in_channels=int(wan["in_channels"]),
        out_channels=int(wan["out_channels"]),
        patch_size=tuple(wan["patch_size"]),
        dim=dim,
        depth=int(wan["num_layers"]),
        heads=heads,
        text_dim=int(wan["text_dim"]),
        ffn_mult=int(wan["ffn_dim"]) / dim,
        freq_dim=int(wan["freq_dim"]),
        time_scale=1000.0,
        eps=float(wan["eps"]),
        qk_norm=True,  # diffusers builds norm_q / norm_k whatever its qk_norm says
        cross_attn_norm=bool(wan["cross_attn_norm"]),
        pooled_text=False,
    )


def convert_wan_state_dict(wan_state: dict[str, torch.Tensor], cfg: DiTConfig) -> dict[str, torch.Tensor]:
    """Rename a WanTransformer3DModel state dict to cinegen DiT names; every Wan tensor must be used."""
    if cfg.pooled_text or not cfg.qk_norm:
        raise CheckpointError("a Wan checkpoint needs pooled_text=False and qk_norm=True (use config_from_wan)")
    names: dict[str, str] = {}
    for ours, theirs in _TOP.items():
        names[f"{ours}.weight"] = f"{theirs}.weight"
        names[f"{ours}.bias"] = f"{theirs}.bias"
    names["out_modulation"] = "scale_shift_table"
    for i in range(cfg.depth):
        for ours, theirs in _BLOCK.items():
            if ours == "norm2" and not cfg.cross_attn_norm:
                continue
            names[f"blocks.{i}.{ours}.weight"] = f"blocks.{i}.{theirs}.weight"
            if not ours.endswith("_norm"):  # RMSNorm has no bias
                names[f"blocks.{i}.{ours}.bias"] = f"blocks.{i}.{theirs}.bias"
        names[f"blocks.{i}.modulation"] = f"blocks.{i}.scale_shift_table"

    missing = [theirs for theirs in names.values() if theirs not in wan_state]
    if missing:
        raise CheckpointError(f"Wan state dict lacks {len(missing)} tensors, e.g. {missing[:3]}")
    unused = sorted(set(wan_state) - set(names.values()))
    if unused:
        raise CheckpointError(f"Wan state dict has {len(unused)} tensors with no cinegen counterpart, e.g. {unused[:3]}")
    return {ours: wan_state[theirs] for ours, theirs in names.items()}
