"""Sora's prompting modes beyond text-to-video, each a `Condition` for the one sampling loop.

| mode              | clean latent frames                       |
|-------------------|-------------------------------------------|
| extend forward    | the given video's last frames, as prefix  |
| extend backward   | the given video's first frames, as suffix |
| connect A → B     | A's last frames (prefix), B's first (suffix) |
| loop              | none: one circular sequence (windows around it) |
| edit (FlowEdit)   | none: from the source itself, moved by the velocity difference of two prompts (or SDEdit: from the source noised to t) |

Given videos are resized/cropped to the generated size and cut to 1 + 4k frames (the VAE's unit).
"""
from __future__ import annotations

import hashlib
import math
import time

import numpy as np
import torch

from cinegen.common.errors import InputError
from cinegen.common.seed import generator
from cinegen.pipeline.inputs import fit_video
from cinegen.pipeline.limits import EDIT_METHODS, context_frames, edit_strength
from cinegen.pipeline.pipeline import Condition, GenerationResult, Pipeline

# Context sizes in latent groups of the model's time factor f (Pipeline.geometry): with f = 4, a given video's
# fewest frames are 5 (limits.context_frames: an image latent and one group; storyboard cuts use as many),
# extend forward puts at most its last 9 frames (3 latent frames) before new ones, and at most its first 8
# (2 groups) go after new ones. Connect keeps (A, B) to (1 + f, 2f) so A's 2 latents + 2 s of new + B's 2
# stay one window of 8.
PREFIX_GROUPS = 2  # + the image latent: three latent frames (measured: forward seam ratio 1.45 → 1.3 against two)
SUFFIX_GROUPS = 2
SEAM_FADE = 8  # new frames over which a given video's VAE error at a seam fades out (_carry)
LOOP_PHASE = 2  # a loop starts this many frames into a latent group: its first and last frames are mid-group


def _check_video(frames: np.ndarray, what: str, min_frames: int = 1) -> np.ndarray:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise InputError(f"{what} must be uint8 frames of shape (T, H, W, 3)")
    if len(frames) < min_frames:
        raise InputError(f"{what} has {len(frames)} frames; at least {min_frames} are needed")
    return frames


def _new_latents(seconds: float, fps: float, f: int) -> int:
    return max(1, math.ceil(seconds * fps / f))


def _prefix_latents(pipe: Pipeline, frames: np.ndarray, groups: int = PREFIX_GROUPS):
    """Latents of a video's last frames (the most 1 + f·k frames, k ≤ `groups`) for use before new ones.

    Returns (latents, frames used). Three latent frames rather than two: measured on the shipped model,
    the extra context lowers the forward seam ratio (median 1.45 → 1.3).
    """
    geo = pipe.geometry
    n = geo.unit(min(len(frames), 1 + groups * geo.time_factor))
    return pipe.encode_frames(frames[len(frames) - n :]), n


def _suffix_latents(pipe: Pipeline, frames: np.ndarray, groups: int = SUFFIX_GROUPS):
    """Latents of a video's first frames for use *after* generated ones (backward extend, connect's B).

    The causal VAE encodes frame 0 alone, as an image: that latent is only right at the start of a
    video, and later positions hold f-frame groups. So the first f·k frames (k ≤ `groups`) are
    encoded as groups, with frames[0] once more in front as the image frame the encoder takes first
    (its latent is dropped): the given video then starts on a group boundary, as it ends on one on the
    prefix side, and no generated frame stands in for a given one.
    """
    f = pipe.geometry.time_factor
    k = f * min(len(frames) // f, groups)
    return pipe.encode_frames(np.concatenate([frames[:1], frames[:k]]))[:, 1:]


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

    Returns the original frames plus f·ceil(seconds · fps / f) new ones (f: the model's time factor), at the
    generated size. Both ways the given frames meet the new ones at a latent group boundary, held clean
    (_prefix_latents, _suffix_latents).
    """
    if direction not in ("forward", "backward"):
        raise InputError(f"direction must be forward or backward, got {direction!r}")
    f = pipe.geometry.time_factor
    _check_video(video, "the video to extend", min_frames=context_frames(f))
    t0 = time.perf_counter()
    req = pipe.request(prompt, seconds=seconds, **kw)
    text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
    h, w = req.gen_size
    src = fit_video(video, h, w)
    n_new = _new_latents(req.seconds, req.fps, f)
    if direction == "forward":
        z, k = _prefix_latents(pipe, src)
        n_ctx = z.shape[1]
        out = _run(pipe, req, text, Condition(latents=z, index=list(range(n_ctx))), n_ctx + n_new, progress)
        new = out[k:]  # the decoded context stands for frames we already have
        new = _carry(new, _crop(src[-1:], req)[0], out[k - 1])
        frames = np.concatenate([_crop(src, req), new])
    else:
        z = _suffix_latents(pipe, src)
        n = 1 + n_new + z.shape[1]  # an image latent first (every trained clip starts with one), new groups, given
        out = _run(pipe, req, text, Condition(latents=z, index=list(range(1 + n_new, n))), n, progress)
        k = 1 + f * n_new  # out[k] is the decode of src[0]; out[0], the image latent's frame, is dropped
        new = _carry(out[1:k], _crop(src[:1], req)[0], out[k], at_end=True)
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
    themselves); between them lie f·ceil(seconds · fps / f) new frames, generated with A's end held
    clean as prefix and B's start, as f-frame groups, as suffix (f: the model's time factor).
    """
    f = pipe.geometry.time_factor
    _check_video(video_a, "video A", min_frames=context_frames(f))
    _check_video(video_b, "video B", min_frames=context_frames(f))
    t0 = time.perf_counter()
    req = pipe.request(prompt, seconds=seconds, **kw)
    text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
    h, w = req.gen_size
    a, b = fit_video(video_a, h, w), fit_video(video_b, h, w)
    (za, ka), zb = _prefix_latents(pipe, a, groups=1), _suffix_latents(pipe, b, groups=2)
    n_new = _new_latents(req.seconds, req.fps, f)
    na, nb = za.shape[1], zb.shape[1]
    n = na + n_new + nb
    cond = Condition(latents=torch.cat([za, zb], dim=1), index=list(range(na)) + list(range(n - nb, n)))
    out = _run(pipe, req, text, cond, n, progress)
    end = ka + f * n_new  # out[end] is the decode of B's first frame
    middle = _carry(out[ka:end], _crop(a[-1:], req)[0], out[ka - 1])
    middle = _carry(middle, _crop(b[:1], req)[0], out[end], at_end=True)
    frames = np.concatenate([_crop(a[-1:], req), middle, _crop(b[:1], req)])
    frames = _mark(pipe, frames) if mark else frames
    return GenerationResult(frames, req.fps, req.prompt, text, req.seed, req.steps,
                            {"total": time.perf_counter() - t0})


def loop(pipe: Pipeline, prompt: str, seconds: float = 2.0, expand: bool = True, progress=None, mark: bool = True,
         **kw) -> GenerationResult:
    """A video whose last frame flows into its first: one periodic latent sequence, sampled circularly.

    The loop is P f-frame latent groups G_0 … G_{P−1} (f: the model's time factor), G_0 following G_{P−1}.
    The model knows only windows that start with an image latent (a clip's frame 0), so each Euler step runs the windows
    [I_s, G_s, G_{s+1}, …] at every offset s around the circle, each with an image latent I_s of its
    own that is never shown, and gives each group the mean of its velocities (`_circular_velocity`):
    no boundary, the wrap included, is an edge. Decoded after one warm-up period, the frames repeat
    exactly (the causal decoder's state is the same at the start of each period), so on repeat the
    wrap is a step of one continuous decode. The file starts LOOP_PHASE frames into a group, because
    the VAE decodes a group's first frame a little apart from the frame before (1.4× the median step
    on real video); played on repeat it is the same loop. f·round(seconds · fps / f) frames.
    """
    t0 = time.perf_counter()
    req = pipe.request(prompt, seconds=seconds, **kw)
    text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
    f = pipe.geometry.time_factor
    n_groups = max(1, round(req.n_frames / f))
    size, _ = pipe.window
    width = max(1, size - 1)  # groups per window, after its image latent: the trained window
    # a window at every offset: each boundary sits inside all windows but one, the same for every boundary
    # (measured: the largest step of the loop 1.71× the median, as in a plain clip; every other offset: 2.0×)
    offsets = list(range(n_groups))
    c, _, h, w = pipe.latent_shape(req, 1)
    emb, mask, neg, neg_mask = pipe.text_states(text, req.negative_prompt)
    j = len(offsets)
    guided = pipe.guided(pipe.model, emb.expand(j, -1, -1), mask.expand(j, -1), neg, neg_mask, req.guidance)
    noise = torch.randn((1, c, j + n_groups, h, w), generator=generator(req.seed)).to(pipe.device)
    n_tokens = (1 + width) * (h // pipe.dit.cfg.patch_size[1]) * (w // pipe.dit.cfg.patch_size[2])
    grid, times = pipe.time_grid(req, n_tokens)
    cb = (lambda i, n, _x: progress(i + 1, n)) if progress else None
    z = pipe.solve(req, _circular_velocity(guided, n_groups, width, offsets), noise, grid, times, callback=cb)[0]
    groups = list(z[:, j:].unbind(1))
    # I_0, a warm-up period, the kept period, and one group more for the phase
    frames = np.concatenate(list(pipe.decode_stream(iter([z[:, 0]] + groups * 2 + groups[:1]))))
    start = 1 + f * n_groups + LOOP_PHASE
    frames = _crop(frames[start : start + f * n_groups], req)
    frames = _mark(pipe, frames) if mark else frames
    return GenerationResult(frames, req.fps, req.prompt, text, req.seed, req.steps,
                            {"total": time.perf_counter() - t0})


def _circular_velocity(model_fn, n_groups: int, width: int, offsets: list[int]):
    """The velocity of a circular latent sequence from windows around it (MultiDiffusion-style averaging).

    State x (1, C, J + P, h, w): J image latents, one per window, then the P groups of the loop. Window
    k is [x_k, G_{s_k}, G_{s_k+1}, …, G_{s_k+width−1}] (indices mod P, so a short loop repeats inside a
    window); all J windows go through `model_fn` as one batch. Each image latent takes its window's
    velocity; each group the mean over every place it holds in every window (Bar-Tal et al. 2023,
    "MultiDiffusion"). Needs offsets that reach every group (a stride ≤ width).
    """
    j = len(offsets)
    # (J, 1 + W): the state frames window k reads
    idx = torch.tensor([[k] + [j + (s + i) % n_groups for i in range(width)] for k, s in enumerate(offsets)])
    count = torch.bincount(idx.flatten(), minlength=j + n_groups)
    if bool((count == 0).any()):
        raise InputError(f"offsets {offsets} with width {width} leave some of {n_groups} groups out")

    def fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        c, h, w = x.shape[1], x.shape[3], x.shape[4]
        xw = x[0][:, idx].transpose(0, 1)  # (C, J, 1+W, h, w) -> (J, C, 1+W, h, w)
        v = model_fn(xw, t[0][idx])  # (J, C, 1+W, h, w)
        total = torch.zeros_like(x[0]).index_add_(1, idx.flatten().to(x.device),
                                                 v.transpose(0, 1).reshape(c, -1, h, w))
        return (total / count.to(x)[None, :, None, None])[None]  # (1, C, J+P, h, w)

    return fn


def edit(pipe: Pipeline, prompt: str, video: np.ndarray, strength: float | None = None,
         source_prompt: str | None = None, method: str = EDIT_METHODS[0], expand: bool = True,
         progress=None, mark: bool = True, source_guidance: float | None = None, **kw) -> GenerationResult:
    """Change a video per the prompt while keeping its layout and motion, from t = strength.

    flowedit (the default): FlowEdit moves the source latents by the difference between the model's
    velocities for `prompt` and for `source_prompt` (what the source shows; the empty prompt when not
    given, which edits less faithfully), so what both prompts share stays put. sdedit: the source
    latents noised to t = strength and denoised toward the prompt; low strength keeps more of the source
    and everything it leaves stays, a background's colour included. Strength None is the method's default.
    """
    if method not in EDIT_METHODS:
        raise InputError(f"edit method must be one of {', '.join(EDIT_METHODS)}, got {method!r}")
    strength = edit_strength(method, strength)
    if not 0 < strength <= 1:
        raise InputError(f"strength must be in (0, 1], got {strength}")
    _check_video(video, "the video to edit")
    t0 = time.perf_counter()
    kw["fps"] = kw.get("fps") or pipe.sampling.fps
    # the VAE works in units of 1 + f·k frames: pad with the last frame, edit, cut back (the source's length)
    n = len(video)
    padded = pipe.geometry.unit(n + pipe.geometry.time_factor - 1)
    video = np.concatenate([video, np.repeat(video[-1:], padded - n, axis=0)])
    req = pipe.request(prompt, seconds=padded / kw["fps"], **kw)
    text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
    source = None
    if method == "flowedit":
        source = (pipe.expand(source_prompt, req.seed) if expand else source_prompt) if source_prompt else ""
    h, w = req.gen_size
    z = pipe.encode_frames(fit_video(video, h, w))
    cond = Condition(start=z, t_start=strength, source_text=source, source_guidance=source_guidance)
    out = _run(pipe, req, text, cond, z.shape[1], progress)[:n]
    out = _mark(pipe, out) if mark else out
    return GenerationResult(out, req.fps, req.prompt, text, req.seed, req.steps, {"total": time.perf_counter() - t0})


def _crop(frames: np.ndarray, req) -> np.ndarray:
    from cinegen.pipeline.pipeline import centre_crop

    return np.ascontiguousarray(centre_crop(frames, req.height, req.width))


def _mark(pipe: Pipeline, frames: np.ndarray) -> np.ndarray:
    marker = pipe.marker(hashlib.sha256(frames.tobytes()).hexdigest())  # the finished frames decide the id
    return marker(frames, 0) if marker else frames
