"""Run a user's diffusers Wan2.1 text-to-video folder with cinegen's DiT, flow/unipc.py and adapters.

    from cinegen.wan import is_wan_folder, load_wan, generate_wan
    parts = load_wan("Wan2.1-T2V-1.3B-Diffusers", device="cuda", dtype=torch.bfloat16)
    frames = generate_wan(parts, "a cat walks on the grass", seed=0)  # (81, 480, 832, 3) uint8

Needs the optional dependencies: pip install "cinegen[wan]" (diffusers, accelerate).
Sits above common, dit, flow (it imports them) and below pipeline.
"""
from cinegen.wan.folder import (INSTALL_HINT, MissingDependencyError, WanParts, WanSampling, check_wan_folder,
                                is_wan_folder, load_wan, parts_from_modules, require_wan_deps)
from cinegen.wan.reference import generate_wan, generate_wan_latents, initial_noise, latent_shape, wan_guided

__all__ = [
    "INSTALL_HINT",
    "MissingDependencyError",
    "WanParts",
    "WanSampling",
    "check_wan_folder",
    "is_wan_folder",
    "load_wan",
    "parts_from_modules",
    "require_wan_deps",
    "generate_wan",
    "generate_wan_latents",
    "initial_noise",
    "latent_shape",
    "wan_guided",
]
