"""Sora's prompting modes beyond text-to-video, each a `Condition` for the one sampling loop.

| mode              | clean latent frames                       |
|-------------------|-------------------------------------------|
| extend forward    | the given video's last frames, as prefix  |
| extend backward   | the given video's first frames, as suffix |
| connect A → B     | A's last frames (prefix), B's first (suffix) |
| loop              | a video's end → its own start (a connect) |
| edit (SDEdit)     | none: start from the source noised to t   |

Given videos are resized/cropped to the generated size and cut to 1 + 4k frames (the VAE's unit).
"""
from __future__ import annotations

import math
import time

import numpy as np

from cinegen.common.errors import InputError
from cinegen.pipeline.inputs import fit_video
from cinegen.pipeline.pipeline import Condition, GenerationResult, Pipeline

CONTEXT_FRAMES = 5  # pixel frames of a given video the model sees as condition: 2 latent frames
SEAM_FADE = 8  # new frames over which a given video's VAE error at a seam fades out (_carry)


def _check_video(frames: np.ndarray, what: str, min_frames: int = 1) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise InputError(f"{what} must be uint8 frames of shape (T, H, W, 3)")
    if len(frames) < min_frames:
        raise InputError(f"{what} has {len(frames)} frames; at least {min_frames} are needed")
    return frames


def _unit(n: int) -> int:
    """The largest 1 + 4k not above n."""
    return 1 + 4 * ((n - 1) // 4)


def _new_latents(seconds: float, fps: float) -> int:
    return max(1, math.ceil(seconds * fps / 4))


def _suffix_latents(pipe: Pipeline, frames: np.ndarray):
    """Latents of a video's first frames for use *after* generated ones (backward extend, connect's B).

    The causal VAE encodes frame 0 alone, as an image: that latent is only right at the start of a
    video. Later positions hold 4-frame latents, so the suffix keeps latents 1.. (frames 1–4, ...);
    frame 0's time is then the last frame of the generated latent before them.
    """
    return pipe.encode_frames(frames)[:, 1:]


def _run(pipe: Pipeline, req, text: str, cond: Condition, n_latent: int, progress) -> np.ndarray:
    """Every decoded frame of `n_latent` latent frames, unmarked (the modes mark their assembled output)."""
    return np.concatenate(list(pipe.frames_stream(req, text, cond, n_latent=n_latent, progress=progress, mark=False)))


def _carry(new: np.ndarray, given: np.ndarray, decoded: np.ndarray, at_end: bool = False) -> np.ndarray:
    """Add the VAE's error on a given frame next to a seam to the new frames beside it, fading out.

    Given frames are output as themselves, new ones are VAE decodes, so the VAE's error on the given
    video (a few grey levels of blur and tint, mostly static) would show as a jump at the seam. The
    error of the given frame's decoded stand-in (`given` − `decoded`) is added to the new frames, in
    full next to the seam (`new[0]`, or `new[-1]` when `at_end`) and fading to 0 over SEAM_FADE frames.
    """
    w = np.clip(1.0 - np.arange(len(new)) / SEAM_FADE, 0.0, 1.0)[:, None, None, None]
    if at_end:
        w = w[::-1]
    out = new.astype(np.float32) + w * (given.astype(np.float32) - decoded.astype(np.float32))[None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def extend(
    pipe: Pipeline,
    prompt: str,
    video: np.ndarray,
    direction: str = "forward",
    seconds: float = 2.0,
    expand: bool = True,
    progress=None,
    mark: bool = True,
    **kw,
) -> GenerationResult:
    """Continue `video` after its end (forward) or invent what came before its start (backward).

    Returns the original frames plus the new ones, at the generated size.
    """
    if direction not in ("forward", "backward"):
        raise InputError(f"direction must be forward or backward, got {direction!r}")
    _check_video(video, "the video to extend", min_frames=CONTEXT_FRAMES)
    t0 = time.perf_counter()
    req = pipe.request(prompt, seconds=seconds, **kw)
    text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
    h, w = req.gen_size
    src = fit_video(video, h, w)
    n_new = _new_latents(req.seconds, req.fps)
    if direction == "forward":
        ctx = src[len(src) - CONTEXT_FRAMES :]
        z = pipe.encode_frames(ctx)
        n_ctx = z.shape[1]
        out = _run(pipe, req, text, Condition(latents=z, index=list(range(n_ctx))), n_ctx + n_new, progress)
        new = out[CONTEXT_FRAMES:]  # the decoded context stands for frames we already have
        new = _carry(new, _crop(src[-1:], req)[0], out[CONTEXT_FRAMES - 1])
        frames = np.concatenate([_crop(src, req), new])
    else:
        z = _suffix_latents(pipe, src[:CONTEXT_FRAMES])
        n_new += 1  # the last new latent ends on src[0]'s frame, which the source itself supplies
        n = n_new + z.shape[1]
        out = _run(pipe, req, text, Condition(latents=z, index=list(range(n_new, n))), n, progress)
        k = 4 * (n_new - 1)  # the frames before src[0]: as many as forward makes; out[k] stands for src[0]
        new = _carry(out[:k], _crop(src[1:2], req)[0], out[k + 1], at_end=True)  # src[1]: a decode of given latents
        frames = np.concatenate([new, _crop(src, req)])
    frames = _mark(pipe, frames) if mark else frames
    return GenerationResult(frames, req.fps, req.prompt, text, req.seed, req.steps,
                            {"total": time.perf_counter() - t0})


def connect(
    pipe: Pipeline,
    prompt: str,
    video_a: np.ndarray,
    video_b: np.ndarray,
    seconds: float = 2.0,
    expand: bool = True,
    progress=None,
    mark: bool = True,
    **kw,
) -> GenerationResult:
    """A transition that starts where A ends and ends where B starts.

    The output's first frame is A's last frame and its last frame is B's first (the given frames
    themselves); what lies between is generated with A's end held clean as prefix and B's start as suffix.
    """
    _check_video(video_a, "video A", min_frames=CONTEXT_FRAMES)
    _check_video(video_b, "video B", min_frames=CONTEXT_FRAMES)
    t0 = time.perf_counter()
    req = pipe.request(prompt, seconds=seconds, **kw)
    text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
    h, w = req.gen_size
    a, b = fit_video(video_a, h, w), fit_video(video_b, h, w)
    za, zb = pipe.encode_frames(a[len(a) - CONTEXT_FRAMES :]), _suffix_latents(pipe, b[:CONTEXT_FRAMES])
    n_new = _new_latents(req.seconds, req.fps)
    na, nb = za.shape[1], zb.shape[1]
    n = na + n_new + nb
    import torch

    cond = Condition(latents=torch.cat([za, zb], dim=1), index=list(range(na)) + list(range(n - nb, n)))
    out = _run(pipe, req, text, cond, n, progress)
    # the new latents' last frame stands where B's first frame is: B's own frame replaces it
    end = CONTEXT_FRAMES + 4 * n_new - 1
    middle = _carry(out[CONTEXT_FRAMES:end], _crop(a[-1:], req)[0], out[CONTEXT_FRAMES - 1])
    middle = _carry(middle, _crop(b[1:2], req)[0], out[end + 1], at_end=True)  # b[1]: a decode of given latents
    frames = np.concatenate([_crop(a[-1:], req), middle, _crop(b[:1], req)])
    frames = _mark(pipe, frames) if mark else frames
    return GenerationResult(frames, req.fps, req.prompt, text, req.seed, req.steps,
                            {"total": time.perf_counter() - t0})


def loop(pipe: Pipeline, prompt: str, seconds: float = 2.0, expand: bool = True, progress=None, mark: bool = True,
         **kw) -> GenerationResult:
    """A video whose last frame flows into its first: a clip, then a transition from its end back to its start.

    About half the frames are the transition (time to bring objects back where they started); the total is exactly round(seconds · fps) frames.
    """
    req = pipe.request(prompt, seconds=seconds, **kw)
    n_bridge = max(1, round(req.n_frames / 8))  # latent frames of the transition: about half the video
    middle = 4 * n_bridge - 1  # frames strictly between the clip's last frame and its first
    n_base = req.n_frames - middle
    if n_base < CONTEXT_FRAMES:
        raise InputError(f"a loop needs at least {(CONTEXT_FRAMES + 3) / req.fps:.2f} s at {req.fps:g} fps")
    base = pipe(prompt, seconds=n_base / req.fps, expand=expand, mark=False, **kw)
    bridge = connect(pipe, prompt, base.frames, base.frames, seconds=4 * n_bridge / req.fps, expand=expand,
                     progress=progress, mark=False, **kw)
    frames = np.concatenate([base.frames, bridge.frames[1:-1]])  # drop the duplicated endpoints
    frames = _mark(pipe, frames) if mark else frames
    return GenerationResult(frames, req.fps, req.prompt, base.encoded_prompt, req.seed, req.steps, {})


def edit(pipe: Pipeline, prompt: str, video: np.ndarray, strength: float = 0.6, expand: bool = True, progress=None,
         mark: bool = True, **kw) -> GenerationResult:
    """SDEdit: noise the source video's latents to t = strength and denoise them toward the new prompt.

    Low strength keeps more of the source (its motion and layout); high strength follows the prompt more.
    """
    if not 0 < strength <= 1:
        raise InputError(f"strength must be in (0, 1], got {strength}")
    _check_video(video, "the video to edit")
    t0 = time.perf_counter()
    kw.setdefault("fps", pipe.defaults["fps"])
    n = _unit(len(video))
    req = pipe.request(prompt, seconds=n / kw["fps"], **kw)
    text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
    h, w = req.gen_size
    z = pipe.encode_frames(fit_video(video[:n], h, w))
    out = _run(pipe, req, text, Condition(start=z, t_start=strength), z.shape[1], progress)[:n]
    out = _mark(pipe, out) if mark else out
    return GenerationResult(out, req.fps, req.prompt, text, req.seed, req.steps, {"total": time.perf_counter() - t0})


def _crop(frames: np.ndarray, req) -> np.ndarray:
    from cinegen.pipeline.pipeline import centre_crop

    return np.ascontiguousarray(centre_crop(frames, req.height, req.width))


def _mark(pipe: Pipeline, frames: np.ndarray) -> np.ndarray:
    marker = pipe.marker()
    return marker(frames, 0) if marker else frames
