"""Text-to-video with a loaded Wan folder, composed from cinegen's DiT, the Wan adapters and flow/unipc.py.

The parity target for the Pipeline: equal frames to diffusers'

    WanPipeline.from_pretrained(folder)(prompt, negative_prompt, height, width, num_frames,
        num_inference_steps, guidance_scale, generator=torch.Generator("cpu").manual_seed(seed))

(tests/wan/test_wan_parity.py). Numbered steps as WanPipeline.__call__ runs them:
1. check sizes, 2. encode prompt and negative prompt (512 tokens, zero-padded), 3. draw the noise
from a CPU generator in float32, 4. UniPC over diffusers' flow sigmas, the DiT called at floor(1000·σ)
with classifier-free guidance in two passes (conditional, then unconditional), 5. de-normalise and
decode the whole latent video with the VAE, 6. pixels -> uint8.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
import torch

from cinegen.common.errors import InputError
from cinegen.dit import DiT
from cinegen.flow.objective import ModelFn
from cinegen.flow.unipc import flow_sigmas, sample_unipc
from cinegen.wan.folder import WanParts

StepFn = Callable[[int, int, torch.Tensor], None]


def initial_noise(shape: tuple[int, int, int, int], seed: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """WanPipeline.prepare_latents with generator=torch.Generator("cpu").manual_seed(seed): (1, C, T', h, w) float32.

    Drawn on the CPU whatever the device, then moved (diffusers' randn_tensor does the same with a
    CPU generator); the same numbers as torch.randn(shape, generator) without the batch dimension.
    """
    g = torch.Generator("cpu").manual_seed(seed)
    return torch.randn((1, *shape), generator=g, dtype=torch.float32).to(device)


def latent_shape(parts: WanParts, num_frames: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(C, T', h, w) for a video, after checking its size is one Wan can make without rounding."""
    v, patch = parts.vae.cfg, parts.dit.cfg.patch_size
    mh, mw = v.spatial_down * patch[1], v.spatial_down * patch[2]
    if height < mh or width < mw or height % mh or width % mw:
        raise InputError(f"height and width must be positive multiples of {mh}x{mw}, got {height}x{width}")
    n_latent = v.n_latent_frames(num_frames)
    if n_latent % patch[0]:
        raise InputError(f"{n_latent} latent frames are not a multiple of the temporal patch {patch[0]}")
    return v.latent_channels, n_latent, height // v.spatial_down, width // v.spatial_down


def wan_guided(dit: DiT, text: torch.Tensor, neg_text: torch.Tensor | None, scale: float) -> ModelFn:
    """model_fn(x, t) with WanPipeline's guidance: two passes (conditional, then unconditional), combined in the
    DiT's output dtype as v_u + g·(v_c − v_u); one pass when g <= 1 (diffusers guides only above 1).

    A DiT in bf16/fp16 runs under autocast: cinegen's DiT embeds the time in float32 and needs the cast."""
    dtype = next(dit.parameters()).dtype
    text = text.to(dtype)
    neg_text = None if neg_text is None else neg_text.to(dtype)

    def model_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        xd = x.to(dtype)
        # One time per video gives Wan2.1's (B,) timestep (host sync: one bool per call).
        tt = t[:, 0] if bool((t == t[:, :1]).all()) else t
        low = dtype in (torch.bfloat16, torch.float16)
        with torch.autocast(x.device.type, dtype=dtype) if low else contextlib.nullcontext():
            v = dit(xd, tt, text)
            if scale <= 1.0 or neg_text is None:
                return v
            v_neg = dit(xd, tt, neg_text)
        return v_neg + scale * (v - v_neg)

    return model_fn


@torch.no_grad()
def generate_wan_latents(
    parts: WanParts,
    prompt: str,
    negative_prompt: str | None = None,
    seed: int = 0,
    steps: int | None = None,
    guidance: float | None = None,
    height: int | None = None,
    width: int | None = None,
    num_frames: int | None = None,
    callback: StepFn | None = None,
) -> torch.Tensor:
    """Steps 1-4: normalised latents (1, C, T', h, w) float32. None takes the folder's default (parts.sampling)."""
    s = parts.sampling
    steps = s.steps if steps is None else steps
    guidance = s.guidance if guidance is None else guidance
    shape = latent_shape(parts, s.num_frames if num_frames is None else num_frames,
                         s.height if height is None else height, s.width if width is None else width)
    text, _ = parts.text.encode([prompt])  # the masks are all True: Wan attends to the zero padding too
    neg = parts.text.encode([s.negative_prompt if negative_prompt is None else negative_prompt])[0] \
        if guidance > 1.0 else None
    noise = initial_noise(shape, seed, parts.device)
    grid, model_times = flow_sigmas(steps, s.flow_shift, s.num_train_timesteps)
    model_fn = wan_guided(parts.dit, text.to(parts.device), None if neg is None else neg.to(parts.device), guidance)
    return sample_unipc(model_fn, noise, grid.to(parts.device), order=s.solver_order,
                        lower_order_final=s.lower_order_final, model_times=model_times.to(parts.device),
                        callback=callback)


def to_uint8(pixels: torch.Tensor) -> np.ndarray:
    """(1, 3, T, H, W) in [-1, 1] -> (T, H, W, 3) uint8, as diffusers' postprocess then numpy_to_pil round."""
    x = (pixels[0].float() / 2 + 0.5).clamp(0, 1)
    return (x.permute(1, 2, 3, 0) * 255).round().to(torch.uint8).cpu().numpy()


@torch.no_grad()
def generate_wan(
    parts: WanParts,
    prompt: str,
    negative_prompt: str | None = None,
    seed: int = 0,
    steps: int | None = None,
    guidance: float | None = None,
    height: int | None = None,
    width: int | None = None,
    num_frames: int | None = None,
    callback: StepFn | None = None,
) -> np.ndarray:
    """Frames (T, H, W, 3) uint8 of a text-to-video sample, equal to diffusers' WanPipeline at the same settings."""
    z = generate_wan_latents(parts, prompt, negative_prompt, seed, steps, guidance, height, width, num_frames,
                             callback)
    return to_uint8(parts.vae.decode(z))
