"""A tiny randomly initialised checkpoint, for tests and for trying the machinery in seconds."""
from __future__ import annotations

from pathlib import Path

import torch

from cinegen.common.checkpoint import save_config, save_state
from cinegen.dit import DiT, dit_tiny
from cinegen.vae import VideoVAE, vae_tiny


def make_tiny_checkpoint(folder: str | Path, seed: int = 0, text_dim: int = 384, vae: dict | None = None,
                         dit: dict | None = None) -> Path:
    """Random tiny VAE + DiT with the MiniLM text width; samples 32×32 at 8 fps in 4 steps. `vae` and `dit`
    override config fields (another geometry: e.g. vae={"spatial_down": 4, "latent_channels": 8},
    dit={"patch_size": [1, 4, 4]})."""
    folder = Path(folder)
    torch.manual_seed(seed)
    vae_cfg = vae_tiny()
    vae = VideoVAE(type(vae_cfg).from_dict({**vae_cfg.to_dict(), **(vae or {})}))
    dit_cfg = dit_tiny()
    dit_cfg = type(dit_cfg).from_dict({**dit_cfg.to_dict(), "in_channels": vae.cfg.latent_channels,
                                       "text_dim": text_dim, **(dit or {})})
    dit_model = DiT(dit_cfg)
    save_config(folder, {
        "name": "cinegen-tiny",
        "vae": vae.cfg.to_dict(),
        "dit": dit_cfg.to_dict(),
        "text": {"name": "minilm", "max_length": 77},
        "sampling": {"width": 32, "height": 32, "fps": 8.0, "seconds": 1.0, "steps": 4, "guidance": 3.0},
        "expand_prompts": False,
    })
    save_state(folder, "vae", vae.state_dict())
    save_state(folder, "dit", dit_model.state_dict())
    return folder
