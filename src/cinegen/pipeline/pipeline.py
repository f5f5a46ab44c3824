"""Text-to-video and every conditioned mode through one sampling loop.

Steps of a call (diffusers-style): 1. check inputs, 2. expand and encode the prompt,
3. encode condition frames with the VAE (held clean), 4. sample latents with the flow ODE and
classifier-free guidance, window by window, 5. decode with the VAE as latents become final, crop to
the asked size, 6. mark provenance (invisible watermark here; the C2PA manifest when a file is saved).
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from cinegen.common.checkpoint import load_config, load_into, load_state
from cinegen.common.device import pick_device
from cinegen.common.errors import CheckpointError, CinegenError, InputError, OutputError
from cinegen.common.seed import generator
from cinegen.dit import DiT, DiTConfig
from cinegen.flow import (cfg_velocity, flow_sigmas, sample_euler, sample_flowedit, sample_unipc, shift_for_tokens,
                          time_grid)
from cinegen.pipeline.limits import Geometry, Request, check_request
from cinegen.pipeline.sampling_config import SamplingConfig
from cinegen.pipeline.windows import plan_conditioned
from cinegen.text import TextEncoder
from cinegen.vae import VAEConfig, VideoVAE

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "assets" / "model"
MEMORY_GAP = 5  # latent positions between the memory frame and a window (trained 1..9: tasks.MAX_MEMORY_GAP)

ProgressFn = Callable[[int, int], None]


@dataclass
class GenerationResult:
    frames: np.ndarray  # (T, H, W, 3) uint8
    fps: float
    prompt: str  # what the user asked
    encoded_prompt: str  # what the text encoder saw (after expansion)
    seed: int
    steps: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return len(self.frames) / self.fps


@dataclass
class Condition:
    """Latent frames held clean while the rest are denoised (DESIGN.md: one mechanism for every mode).

    `latents`: (C, n, h, w) clean latents placed at latent indices `index` (n of them). `start` and
    `t_start` give an edit of the source latents `start` from t = `t_start`: FlowEdit (flow/sampler.py)
    toward the prompt and away from `source_text` when that is set ("" is the empty prompt), else SDEdit
    (sampling starts from `start` noised to `t_start` instead of pure noise). `source_guidance`: FlowEdit's
    guidance on the source branch (None: the request's; the paper guides the source less than the target).
    `first_frame` (H, W, 3) uint8 at the generated size is output as frame 0 itself (image-to-video:
    the image is the first frame, not its VAE round trip). `memory` (C, h, w): a clean latent frame
    from elsewhere (a storyboard's first shot) put before every window as its memory frame, in place
    of the video's own first frame, so separate shots show the same subjects.
    """

    latents: torch.Tensor | None = None
    index: list[int] = field(default_factory=list)
    start: torch.Tensor | None = None
    t_start: float = 1.0
    first_frame: np.ndarray | None = None
    memory: torch.Tensor | None = None
    source_text: str | None = None
    source_guidance: float | None = None


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) → float (1, 3, T, H, W) in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).float().div(127.5).sub(1.0)
    return x.permute(3, 0, 1, 2).unsqueeze(0)


def tensor_to_frames(x: torch.Tensor) -> np.ndarray:
    """float (1, 3, T, H, W) in [-1, 1] → uint8 (T, H, W, 3)."""
    x = x[0].permute(1, 2, 3, 0).clamp(-1, 1).add(1).mul(127.5).round()
    return x.to(torch.uint8).cpu().numpy()


def centre_crop(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    h, w = frames.shape[1:3]
    top, left = (h - height) // 2, (w - width) // 2
    return frames[:, top : top + height, left : left + width]


def check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise InputError("image must be uint8 of shape (H, W, 3)")
    return image


class Pipeline:
    def __init__(self, vae: VideoVAE, dit: DiT, text: TextEncoder, config: dict, device: torch.device | None = None,
                 offload: bool = False):
        """offload: the DiT and the VAE wait on the CPU and visit `device` one at a time, only while they run
        (and so does a text encoder that can wait there): peak GPU memory is about the largest part's instead
        of their sum, at the cost of moving a part's weights at each switch."""
        self.device = device or torch.device("cpu")
        self.offload = offload
        self._resident: str | None = None  # with offload: the part now on `device`
        self.vae = vae.to("cpu" if offload else self.device).eval()
        self.dit = dit.to("cpu" if offload else self.device).eval()
        self.text = text
        if offload and hasattr(text, "offload"):
            text.offload = True
            text.model.to("cpu")
        self.config = config
        self.name = config.get("name", "cinegen")
        self.sampling = SamplingConfig.from_dict(config.get("sampling", {}), f"{self.name}'s config.json")
        self.stats: dict[str, float] = {}  # seconds per stage, summed over calls (benchmarks read it)

    def _timed(self, stage: str, t0: float) -> None:
        self.stats[stage] = self.stats.get(stage, 0.0) + time.perf_counter() - t0

    def _use(self, name: str) -> None:
        """With offload, bring part `name` ("dit" or "vae") to the device and send the other back to the CPU.

        Placed by the pipeline, not by hooks: a long video alternates DiT windows and VAE chunks, where
        accelerate's one-way hook chain (diffusers' enable_model_cpu_offload) would leave both resident."""
        if not self.offload or self._resident == name:
            return
        part, other = (self.dit, self.vae) if name == "dit" else (self.vae, self.dit)
        other.to("cpu")
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        part.to(self.device)
        self._resident = name

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(
        cls, path: str | Path | None = None, device: str | None = None, text_encoder: TextEncoder | None = None,
        offload: bool = False,
    ) -> "Pipeline":
        """Load a checkpoint folder (config.json + vae/dit safetensors) or a diffusers Wan folder; None loads the
        shipped default. offload: keep the parts on the CPU between uses (a GPU too small for all of them)."""
        if path is None:
            path = DEFAULT_MODEL_DIR
            if not (path / "config.json").exists():
                raise CheckpointError(
                    "no trained default model ships with this install yet: pass --model DIR "
                    "(a folder made by `cinegen train`)"
                )
        path = Path(path).expanduser()
        from cinegen.wan.folder import is_wan_folder

        if is_wan_folder(path):
            return cls.from_wan(path, device, offload=offload)
        config = load_config(path)
        for key in ("vae", "dit"):
            if key not in config:
                raise CheckpointError(f"{path / 'config.json'} has no '{key}' section")
        try:
            vae_cfg = VAEConfig.from_dict(config["vae"])
            dit_cfg = DiTConfig.from_dict(config["dit"])
        except (TypeError, ValueError, KeyError) as e:
            raise CheckpointError(f"{path / 'config.json'}: bad model config ({e})") from None
        vae, dit = VideoVAE(vae_cfg), DiT(dit_cfg)
        load_into(vae, load_state(path, "vae"), f"{path}/vae")
        load_into(dit, load_state(path, "dit"), f"{path}/dit")
        text_cfg = config.get("text", {})
        if text_encoder is None:
            text_encoder = TextEncoder(text_cfg.get("name", "minilm"), max_length=text_cfg.get("max_length", 77))
        if text_encoder.dim != dit_cfg.text_dim:
            raise CheckpointError(f"text encoder width {text_encoder.dim} != the DiT's text_dim {dit_cfg.text_dim}")
        return cls(vae, dit, text_encoder, config, pick_device(device), offload)

    @classmethod
    def from_wan(cls, path: str | Path, device: str | None = None, dtype: torch.dtype | None = None,
                 offload: bool = False) -> "Pipeline":
        """A diffusers Wan2.1 text-to-video folder: cinegen's DiT with its weights (dit/wan_convert.py), its VAE and
        UMT5 text encoder through diffusers and transformers (cinegen/wan), sampled as WanPipeline samples it by
        default (wan/folder.py pipeline_config). bf16 on CUDA, fp32 elsewhere; on CUDA the text encoder waits on the
        CPU between prompts, and with offload the DiT and the VAE do too, between their calls."""
        from cinegen.wan.folder import load_wan, pipeline_config

        dev = pick_device(device)
        dtype = dtype or (torch.bfloat16 if dev.type == "cuda" else torch.float32)
        config = pipeline_config(path)
        parts = load_wan(path, dev, dtype, offload_text=dev.type == "cuda")  # the GPU is the DiT's while it samples
        return cls(parts.vae, parts.dit, parts.text, config, dev, offload)

    # ---------------------------------------------------------------- pieces
    def request(self, prompt: str, **kw) -> Request:
        """Fill unset fields from the checkpoint's sampling defaults, then validate."""
        s = self.sampling

        def get(key: str, default):
            return kw[key] if kw.get(key) is not None else default

        return check_request(
            prompt,
            get("seconds", s.seconds),
            get("fps", s.fps),
            get("width", s.width),
            get("height", s.height),
            get("steps", s.steps),
            get("guidance", s.guidance),
            get("seed", 0),
            kw.get("negative_prompt") or "",
            geometry=self.geometry,
            sampler=get("sampler", s.sampler),
        )

    @property
    def geometry(self) -> Geometry:
        """Sizes as this checkpoint fixes them (its VAE's factors, its DiT's patch), never assumed."""
        v = self.vae.cfg
        return Geometry(v.temporal_down, v.spatial_down, v.latent_channels, tuple(self.dit.cfg.patch_size))

    def expand(self, prompt: str, seed: int = 0) -> str:
        """Sora's trick: rewrite a short prompt in the long caption style the model trained on."""
        if not self.config.get("expand_prompts", True):
            return prompt
        from cinegen.world.expand import expand_prompt

        return expand_prompt(prompt, seed=seed)

    @torch.no_grad()
    def encode_frames(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 (T, H, W, 3), T = 1 + 4k → normalised latents (C, 1 + k, H/s, W/s), s = the VAE space factor."""
        self._use("vae")
        return self.vae.encode(frames_to_tensor(frames).to(self.device))[0]

    @torch.no_grad()
    def decode_stream(self, latents: Iterator[torch.Tensor]) -> Iterator[np.ndarray]:
        """Decode latent frames (C, h, w) one by one with the VAE's causal cache: memory flat in length."""
        cache = None
        for zf in latents:
            t0 = time.perf_counter()
            self._use("vae")  # the DiT may have run since the last chunk (the next window)
            x, cache = self.vae.decode_chunk(zf[None, :, None], cache)
            frames = tensor_to_frames(x)
            self._timed("decode", t0)
            yield frames

    def latent_shape(self, req: Request, n_latent: int | None = None) -> tuple[int, int, int, int]:
        h, w = req.gen_size
        down = self.vae.cfg.spatial_down
        return (self.vae.cfg.latent_channels, n_latent or req.n_latent_frames, h // down, w // down)

    def text_states(self, text: str, negative: str) -> tuple[torch.Tensor, ...]:
        t0 = time.perf_counter()
        emb, mask = self.text.encode([text])
        neg, neg_mask = self.text.encode([negative])
        self._timed("text", t0)
        return tuple(t.to(self.device) for t in (emb, mask, neg, neg_mask))

    def guided(self, model: Callable, text: torch.Tensor, mask: torch.Tensor, neg: torch.Tensor,
               neg_mask: torch.Tensor, scale: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """model_fn(x, t) under classifier-free guidance as the checkpoint wants it: its guidance interval
        (outside it, half-cost steps) and its weight on the guidance's part along the clean estimate (APG)."""
        return cfg_velocity(model, text, mask, neg, neg_mask, scale, self.sampling.guidance_interval,
                            self.sampling.guidance_parallel)

    def sampling_shift(self, n_tokens: int) -> float:
        """The time shift of the sampling grid: the training one for this many tokens, times the checkpoint's
        `shift_scale` (> 1 spends more of the steps at high noise, where the layout is decided)."""
        return shift_for_tokens(n_tokens) * self.sampling.shift_scale

    def model(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor, mask: torch.Tensor | None = None,
              **kw) -> torch.Tensor:
        """The DiT's velocity in float32, whatever its weights' dtype (bf16 on a GPU runs under autocast)."""
        self._use("dit")
        dtype = next(self.dit.parameters()).dtype
        if dtype == torch.float32:
            return self.dit(x, t, text, mask, **kw)
        with torch.autocast(x.device.type, dtype=dtype):
            return self.dit(x.to(dtype), t, text.to(dtype), mask, **kw).float()

    def time_grid(self, req: Request, n_tokens: int, t_start: float = 1.0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(grid, model times or None): the checkpoint's schedule for this many tokens a window.

        Without a flow_shift, the training shift for the token count; with one (a Wan folder), that shift, on
        diffusers' flow-sigma grid with whole model timesteps under UniPC, as WanPipeline samples."""
        shift = self.sampling.flow_shift
        if shift is None:
            return time_grid(req.steps, self.sampling_shift(n_tokens), t_start=t_start).to(self.device), None
        if req.sampler == "unipc" and t_start >= 1.0:
            grid, times = flow_sigmas(req.steps, shift)
            return grid.to(self.device), times.to(self.device)
        return time_grid(req.steps, shift, t_start=t_start).to(self.device), None

    def solve(self, req: Request, fn, x: torch.Tensor, grid: torch.Tensor, times: torch.Tensor | None = None,
              given: torch.Tensor | None = None, mask: torch.Tensor | None = None, noise: torch.Tensor | None = None,
              callback=None) -> torch.Tensor:
        """Integrate `x` over `grid` with the request's solver; frames where `mask` (1, T) is set equal `given`.

        condition "clean": they are held at t = 0 (the model saw clean frames in training). "replace": they
        are put at the current noise level, (1 − t)·given + t·noise, before every model call and move on
        that straight path (velocity noise − given), so the model sees one t over the whole window."""
        kw = {"model_times": times} if times is not None else {}
        solver = self.sampler(req)
        if mask is None or not bool(mask.any()):
            return solver(fn, x, grid, callback=callback, **kw)
        if self.sampling.condition == "clean":
            return solver(fn, x, grid, cond_latents=given, cond_mask=mask, callback=callback, **kw)
        keep = mask[:, None, :, None, None]
        t0 = float(grid[0])
        x = torch.where(keep, (1 - t0) * given + t0 * noise, x)

        def replaced(xx: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            tt = t[:, None, :, None, None].to(xx.dtype)
            return torch.where(keep, noise - given, fn(torch.where(keep, (1 - tt) * given + tt * noise, xx), t))

        return torch.where(keep, given, solver(replaced, x, grid, callback=callback, **kw))

    @staticmethod
    def sampler(req: Request):
        """The ODE solver the request asks for (FlowEdit is its own: sample_flowedit)."""
        return sample_unipc if req.sampler == "unipc" else sample_euler

    @property
    def window(self) -> tuple[int, int]:
        """(latent frames per window, clean context frames carried between windows)."""
        return self.sampling.window, self.sampling.context

    @torch.no_grad()
    def sample_latents(
        self,
        req: Request,
        text: str,
        cond: Condition | None = None,
        n_latent: int | None = None,
        progress: ProgressFn | None = None,
    ) -> Iterator[torch.Tensor]:
        """The one sampling loop. Yields latent frames (C, h, w) in order as they become final.

        Latent frames are made in sliding windows of the trained size (windows.py); in each window every
        frame already known (given by `cond`, or made by an earlier window) is held clean, so text-to-video,
        image-to-video, extend, connect, loop and minute-long videos are this same loop.
        """
        cond = cond or Condition()
        c, n, h, w = self.latent_shape(req, n_latent)
        states = self.text_states(text, req.negative_prompt)
        model_fn = self.guided(self.model, *states, req.guidance)
        noise = torch.randn((c, n, h, w), generator=generator(req.seed)).to(self.device)
        known = torch.zeros(n, dtype=torch.bool)
        z = torch.zeros((c, n, h, w), device=self.device)
        if cond.latents is not None:
            z[:, cond.index] = cond.latents.to(self.device)
            known[cond.index] = True
        flowedit = cond.start is not None and cond.source_text is not None
        if flowedit:
            src_states = self.text_states(cond.source_text, req.negative_prompt)
            src_guidance = req.guidance if cond.source_guidance is None else cond.source_guidance
            src_fn = self.guided(self.model, *src_states, src_guidance)
            start = cond.start.to(self.device)
        size, context = self.window
        windows = plan_conditioned(known.tolist(), size, context)
        total, done_steps, emitted = req.steps * len(windows), 0, 0
        for k, win in enumerate(windows):
            sl = slice(win.start, win.end)
            x = noise[None, :, sl]
            if cond.start is not None and not flowedit:  # SDEdit: start from the source latents noised to t_start
                x = (1 - cond.t_start) * cond.start[None, :, sl].to(self.device) + cond.t_start * x
            mask = known[sl][None].to(self.device)
            if not bool(mask.all()):
                win_mask = mask
                x, given, mask, fn = self._with_memory(win, x, z[None, :, sl], mask, known, z, states, req.guidance,
                                                         cond.memory)
                fn = fn or model_fn
                n_tokens = x.shape[2] * (h // self.dit.cfg.patch_size[1]) * (w // self.dit.cfg.patch_size[2])
                grid, times = self.time_grid(req, n_tokens, cond.t_start)

                def step_cb(i: int, _n: int, _x: torch.Tensor, base: int = done_steps) -> None:
                    if progress:
                        progress(base + i, total)

                t0 = time.perf_counter()
                if flowedit:  # the source branch sees the source's own frames where the edit's are held
                    src = start[None, :, sl]
                    x_src, _, _, fn_s = self._with_memory(win, src, src, win_mask, known, start, src_states,
                                                          src_guidance)
                    out = sample_flowedit(fn_s or src_fn, fn, x_src, grid, generator(req.seed + 1 + k),
                                          tar_given=given, cond_mask=mask, callback=step_cb)
                else:
                    out = self.solve(req, fn, x, grid, times, given, mask, noise[None, :, sl], step_cb)
                self._timed("sample", t0)
                z[:, sl] = out[0, :, out.shape[2] - (win.end - win.start):]
                known[sl] = True
            done_steps += req.steps
            if progress:
                progress(done_steps, total)
            while emitted < n and known[emitted]:  # frames before the first unknown one are final
                yield z[:, emitted]
                emitted += 1
        while emitted < n:
            yield z[:, emitted]
            emitted += 1

    def _with_memory(self, win, x, given, mask, known, z, states, guidance, memory=None):
        """Put the video's first latent frame (or `memory`), held clean, in front of a window (long-range memory).

        Models trained with memory batches (train/tasks.py memory_gap) see it MEMORY_GAP positions
        before the window; it carries the subjects' look from the start of the video to every window,
        at the cost of one extra latent frame per window. Other models get the window unchanged.
        """
        if not self.sampling.memory:
            return x, given, mask, None
        if memory is not None:
            first = memory.to(self.device)[None, :, None]
        elif win.start == 0 or not bool(known[0]):
            return x, given, mask, None
        else:
            first = z[None, :, :1]
        pos = torch.cat([torch.tensor([win.start - MEMORY_GAP], dtype=torch.float32),
                         torch.arange(win.start, win.end, dtype=torch.float32)]).to(self.device)
        model = lambda xx, tt, txt, m: self.model(xx, tt, txt, m, frame_pos=pos)  # noqa: E731
        ones = torch.ones((1, 1), dtype=torch.bool, device=mask.device)
        return (torch.cat([first, x], dim=2), torch.cat([first, given], dim=2), torch.cat([ones, mask], dim=1),
                self.guided(model, *states, guidance))

    def frames_stream(
        self,
        req: Request,
        text: str,
        cond: Condition | None = None,
        n_latent: int | None = None,
        progress: ProgressFn | None = None,
        mark: bool = True,
    ) -> Iterator[np.ndarray]:
        """Decoded, cropped, watermarked frame chunks as they are made: req.n_frames in all (or every
        frame of `n_latent` latent frames when that is given)."""
        limit = req.n_frames if n_latent is None else None
        sent = 0
        marker = self.marker((req, _digest(cond))) if mark else None
        for chunk in self.decode_stream(self.sample_latents(req, text, cond, n_latent, progress)):
            if sent == 0 and cond is not None and cond.first_frame is not None:
                chunk = np.concatenate([cond.first_frame[None], chunk[1:]])
            chunk = centre_crop(chunk, req.height, req.width)
            if limit is not None:
                chunk = chunk[: max(0, limit - sent)]
            if len(chunk) == 0:
                break
            if marker is not None:
                t0 = time.perf_counter()
                chunk = marker(chunk, sent)
                self._timed("watermark", t0)
            sent += len(chunk)
            yield np.ascontiguousarray(chunk)

    def marker(self, key: object = None) -> Callable[[np.ndarray, int], np.ndarray] | None:
        """The invisible watermark put on every output frame (CINEGEN_WATERMARK=0 turns it off).

        Its generation id is a digest of `key` (what decides the output: the request and its
        conditions), so the same request gives the same marked video, and a rerun of an eval the same
        scores; with no key it is random.
        """
        import cinegen.provenance as prov

        if not prov.ProvenanceSettings.from_env().watermark:
            return None
        payload = prov.make_payload(self.name, generation_id(self.name, key) if key is not None
                                    else int.from_bytes(os.urandom(4), "big"))
        cfg = prov.WatermarkConfig()

        def mark(chunk: np.ndarray, offset: int) -> np.ndarray:
            try:
                return prov.embed_watermark(chunk, payload, cfg, frame_offset=offset)
            except CinegenError:
                raise
            except Exception as e:  # marking is on: never hand out an unmarked video
                raise OutputError(f"the invisible watermark could not be applied ({type(e).__name__}: {e}); "
                                  "nothing was written (CINEGEN_WATERMARK=0 turns the watermark off)") from e
        return mark

    # ---------------------------------------------------------------- text-to-video
    def __call__(
        self,
        prompt: str,
        seconds: float | None = None,
        fps: float | None = None,
        width: int | None = None,
        height: int | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        seed: int | None = None,
        negative_prompt: str = "",
        expand: bool = True,
        image: np.ndarray | None = None,
        progress: ProgressFn | None = None,
        mark: bool = True,
        num_frames: int | None = None,
        sampler: str | None = None,
    ) -> GenerationResult:
        """Generate a video; `image` (H, W, 3) uint8 makes it image-to-video (the image is frame 0).
        `num_frames` asks for an exact frame count instead of `seconds`."""
        t0 = time.perf_counter()
        if num_frames is not None:
            seconds = frames_to_seconds(num_frames, fps or self.sampling.fps, seconds)
        req, text, cond = self.prepare(prompt, seconds=seconds, fps=fps, width=width, height=height, steps=steps,
                                       guidance=guidance, seed=seed, negative_prompt=negative_prompt, expand=expand,
                                       image=image, sampler=sampler)
        t1 = time.perf_counter()
        frames = np.concatenate(list(self.frames_stream(req, text, cond, progress=progress, mark=mark)))
        timings = {"prepare": t1 - t0, "sample_decode": time.perf_counter() - t1}
        return GenerationResult(frames, req.fps, req.prompt, text, req.seed, req.steps, timings)

    def generate(self, request, progress: ProgressFn | None = None, mark: bool = True) -> GenerationResult:
        """Any mode from a `VideoRequest` (pipeline/run.py), as the CLI and the server run it."""
        from cinegen.pipeline.run import run

        return run(self, request, progress, mark).result(request.prompt or "")

    def prepare(self, prompt: str, expand: bool = True, image: np.ndarray | None = None,
                **kw) -> tuple[Request, str, Condition | None]:
        """Check the request, expand the prompt, encode the start image: what frames_stream needs."""
        req = self.request(prompt, **kw)
        text = self.expand(req.prompt, req.seed) if expand else req.prompt
        cond = None
        if image is not None:
            from cinegen.pipeline.inputs import fit_image

            h, w = req.gen_size
            still = fit_image(check_image(image), h, w)
            cond = Condition(latents=self.encode_frames(still[None]), index=[0], first_frame=still)
        return req, text, cond


def frames_to_seconds(frames: int, fps: float, seconds: float | None = None) -> float:
    """An exact frame count as the seconds a request takes (round(seconds · fps) gives it back)."""
    if seconds is not None:
        raise InputError("give seconds or a frame count, not both")
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
        raise InputError(f"frames must be a whole number of at least 1, got {frames}")
    return frames / fps


def generation_id(model: str, key: object) -> int:
    """A 32-bit id from the model's name and `key`'s repr (requests are dataclasses: a stable repr)."""
    return int.from_bytes(hashlib.sha256(repr((model, key)).encode()).digest()[:4], "big")


def _digest(cond: Condition | None) -> str:
    """sha256 over a condition's tensors and arrays (their repr would elide most values)."""
    h = hashlib.sha256()
    if cond is not None:
        for v in vars(cond).values():
            if isinstance(v, torch.Tensor):
                h.update(v.detach().float().cpu().numpy().tobytes())
            elif isinstance(v, np.ndarray):
                h.update(np.ascontiguousarray(v).tobytes())
            else:
                h.update(repr(v).encode())
    return h.hexdigest()
