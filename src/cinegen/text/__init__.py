"""Frozen text encoder: prompts → per-token embeddings + mask (MiniLM by default, any T5-class encoder)."""
from cinegen.text.encoder import DEFAULT_ENCODER, TextEncoder, mean_pool, resolve_encoder_path

__all__ = ["DEFAULT_ENCODER", "TextEncoder", "mean_pool", "resolve_encoder_path"]
