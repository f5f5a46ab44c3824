"""The diffusion transformer over spacetime latent patches (Wan2.1-compatible blocks)."""
from cinegen.dit.config import DIT_PRESETS, DiTConfig, dit_base, dit_small, dit_tiny
from cinegen.dit.model import DiT

__all__ = ["DiTConfig", "DiT", "dit_tiny", "dit_small", "dit_base", "DIT_PRESETS"]
