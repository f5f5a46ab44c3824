"""The causal video VAE: 4× time, 8× space, first frame alone, streaming with an explicit cache."""
from cinegen.vae.config import VAE_PRESETS, VAEConfig, vae_fine, vae_small, vae_tiny
from cinegen.vae.layers import StreamState
from cinegen.vae.model import DiagonalGaussian, VideoVAE

__all__ = ["VAE_PRESETS", "DiagonalGaussian", "StreamState", "VAEConfig", "VideoVAE", "vae_fine", "vae_small", "vae_tiny"]
