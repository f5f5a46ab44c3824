"""What one training step computes, for the VAE and for the DiT; and how each exports its model.

A batch for step s is a pure function of (seed, s): sample j of the global batch draws from
`sample_gen(seed, s, j)`, so resume is exact and a DDP rank computes exactly its slice.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from cinegen.common.atomic import atomic_dir
from cinegen.common.checkpoint import load_config, load_into, load_state, save_config, save_state
from cinegen.common.errors import CheckpointError
from cinegen.common.seed import generator
from cinegen.dit import DIT_PRESETS, DiT, DiTConfig
from cinegen.flow import flow_loss, foreground_weights, sample_clean_mask, sample_train_t
from cinegen.flow.objective import noisy_counts
from cinegen.pipeline.pipeline import frames_to_tensor
from cinegen.train import parallel
from cinegen.train.config import TrainConfig, check_clip_size
from cinegen.vae import VAEConfig, VideoVAE
from cinegen.vae.loss import vae_loss


def sample_seed(seed: int, step: int, j: int) -> int:
    return (seed * 1_000_003 + step) * 4099 + j


def sample_gen(seed: int, step: int, j: int) -> torch.Generator:
    return generator(sample_seed(seed, step, j))


def t2v_phase(cfg: TrainConfig, step: int) -> bool:
    """In the run's first `t2v_first` share every sample is plain text-to-video (config.py)."""
    return step < cfg.t2v_first * cfg.steps


def is_image_step(cfg: TrainConfig, step: int) -> bool:
    """Whole batches are images or clips (one bucket per batch), decided by (seed, step)."""
    image = torch.rand((), generator=sample_gen(cfg.seed, step, -1)).item() < cfg.image_fraction
    return image and not t2v_phase(cfg, step)


# Condition modes (flow/objective.py CLEAN_MODES: none, first, prefix, suffix, first+last); a prefix is
# what every window after the first sees in a long video, so it gets more than the default weight.
CLEAN_P = (0.4, 0.2, 0.2, 0.1, 0.1)
T2V_P = (1.0, 0.0, 0.0, 0.0, 0.0)
MAX_MEMORY_GAP = 9  # memory frames are trained 1..9 latent positions before the frames that follow them


def memory_gap(cfg: TrainConfig, step: int, n_frames: int) -> int:
    """0 for an ordinary batch; else the time gap between a memory frame (latent 0) and the rest.

    Long videos are sampled in windows (pipeline/windows.py); each later window also sees the video's
    first latent frame, held clean in front of it at a distance (FramePack-style far context), so
    subjects keep their identity over a minute. Training shows it: in a memory batch, latent 0 of a
    clip is always clean and the other frames are moved `gap` positions after it (RoPE positions).
    """
    if n_frames < 3 or t2v_phase(cfg, step):
        return 0
    g = sample_gen(cfg.seed, step, -2)
    if torch.rand((), generator=g).item() >= cfg.memory_fraction:
        return 0
    return int(torch.randint(1, MAX_MEMORY_GAP + 1, (1,), generator=g))


def frame_positions(n_frames: int, gap: int) -> torch.Tensor | None:
    """RoPE time positions of a clip's latent frames: memory frame at 0, the rest from `gap` on."""
    if gap == 0:
        return None
    return torch.cat([torch.zeros(1), torch.arange(n_frames - 1, dtype=torch.float32) + gap])


def world_clip(seed: int, cfg: TrainConfig, n_frames: int) -> tuple[np.ndarray, object]:
    from cinegen.world import render
    from cinegen.world.levels import sample_level_scene

    spec = sample_level_scene(seed, cfg.world, duration=max(n_frames - 1, 1) / cfg.fps + 0.5)
    return render(spec, cfg.width, cfg.height, cfg.fps, n_frames=n_frames).frames, spec


def vae_preset(name: str, overrides: dict) -> VAEConfig:
    import cinegen.vae as vae_mod

    fn = getattr(vae_mod, f"vae_{name}", None)
    if fn is None:
        raise CheckpointError(f"unknown VAE preset {name!r}")
    cfg = fn()
    return dataclasses.replace(cfg, **overrides) if overrides else cfg


def dit_preset(name: str, overrides: dict) -> DiTConfig:
    if name not in DIT_PRESETS:
        raise CheckpointError(f"unknown DiT preset {name!r}; choose from {sorted(DIT_PRESETS)}")
    cfg = DIT_PRESETS[name]()
    return dataclasses.replace(cfg, **overrides) if overrides else cfg


class VAEStep(torch.nn.Module):
    """encode → reparameterise with given noise → decode, as one forward, so DDP sees (and syncs) it."""

    def __init__(self, vae: VideoVAE, frozen_encoder: bool = False):
        super().__init__()
        self.vae = vae
        self.frozen_encoder = frozen_encoder

    def forward(self, x: torch.Tensor, eps: torch.Tensor, redraw=None):
        """redraw: raw latents → raw latents without gradient (a DiT's redraw, train/redraw.py), or None."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen_encoder):
            post = self.vae.encode_dist(x)
        z = post.mean + torch.exp(0.5 * post.logvar) * eps if redraw is None else redraw(post.mode())
        return self.vae.decode_raw(z), post


class VAETask:
    def __init__(self, cfg: TrainConfig, device: torch.device):
        self.cfg, self.device = cfg, device
        self.model = VideoVAE(vae_preset(cfg.model, cfg.model_overrides))
        check_clip_size(cfg, self.model.cfg.temporal_down, self.model.cfg.spatial_down)
        if cfg.decoder_only:
            self.model.encoder.requires_grad_(False)  # AdamW skips parameters without gradients
        self.step_module = VAEStep(self.model, cfg.decoder_only)  # what DDP wraps; shares the model's parameters
        self.folder = None
        if cfg.data != "world":
            from cinegen.train.folder import FolderBatches

            self.folder = FolderBatches(cfg, lambda step, j: sample_seed(cfg.seed, step, j))
        self.redrawer = None
        if cfg.redraw_from:
            from cinegen.train.redraw import Redrawer

            init = load_config(model_folder(cfg.init_from))["vae"]
            self.redrawer = Redrawer(model_folder(cfg.redraw_from), device, cfg.redraw_steps, cfg.redraw_guidance,
                                     float(init["latent_mean"]), float(init["latent_std"]))

    def batch(self, step: int, idx: range) -> torch.Tensor:
        return self.batch_with_captions(step, idx)[0]

    def batch_with_captions(self, step: int, idx: range) -> tuple[torch.Tensor, list[str]]:
        """Clips (b, 3, T, H, W) and one caption each (a long world caption; a folder's own caption)."""
        if self.folder is not None:
            clips, captions = self.folder.batch(step, idx)
            return torch.cat([frames_to_tensor(c) for c in clips]).to(self.device), list(captions)
        n = 1 if is_image_step(self.cfg, step) else self.cfg.n_frames
        rendered = [world_clip(sample_seed(self.cfg.seed, step, j), self.cfg, n) for j in idx]
        clips = [frames for frames, _ in rendered]
        captions = [_long_caption(spec, sample_seed(self.cfg.seed, step, j)) for (_, spec), j in zip(rendered, idx)]
        if self.cfg.crop and self.redrawer is None:  # a redraw needs whole frames: its crop comes after (loss)
            c = self.cfg.crop
            crops = []
            for j, clip in zip(idx, clips):
                g = sample_gen(self.cfg.seed, step, 20_000 + j)
                top = int(torch.randint(clip.shape[1] - c + 1, (1,), generator=g))
                left = int(torch.randint(clip.shape[2] - c + 1, (1,), generator=g))
                crops.append(clip[:, top : top + c, left : left + c])
            clips = crops
        return torch.cat([frames_to_tensor(c) for c in clips]).to(self.device), captions  # (b, 3, T, H, W)

    def loss(self, net: torch.nn.Module, step: int, idx: range) -> torch.Tensor:
        x, captions = self.batch_with_captions(step, idx)
        c, t = self.model.cfg.latent_channels, self.model.cfg.n_latent_frames(x.shape[2])
        h, w = x.shape[3] // self.model.cfg.spatial_down, x.shape[4] // self.model.cfg.spatial_down
        # one noise draw per sample, from that sample's own generator (exact resume; DDP = one process)
        eps = torch.stack([torch.randn((c, t, h, w), generator=sample_gen(self.cfg.seed, step, 10_000 + j))
                           for j in idx]).to(x.device)
        redraw, target = None, x
        if self.redrawer is not None:
            g = sample_gen(self.cfg.seed, step, -3)
            t0 = float(self.cfg.redraw_t * torch.rand((), generator=g))
            # the DiT redraws whole frames (the size it samples at); the decoder then sees one crop of them
            s, lc = self.model.cfg.spatial_down, (self.cfg.crop or x.shape[3]) // self.model.cfg.spatial_down
            top = int(torch.randint(h - lc + 1, (1,), generator=g)) if self.cfg.crop else 0
            left = int(torch.randint(w - lc + 1, (1,), generator=g)) if self.cfg.crop else 0
            target = x[..., top * s : (top + lc) * s, left * s : (left + lc) * s]

            def redraw_crop(z: torch.Tensor) -> torch.Tensor:
                z = self.redrawer(z, captions, t0, eps) if t0 > 0.01 else z  # below 0.01: the latent itself
                return z[..., top : top + lc, left : left + lc]
            redraw = redraw_crop
        recon, post = net(x, eps, redraw)
        loss, _ = vae_loss(recon, target, post, kl_weight=self.cfg.kl_weight, fg_weight=self.cfg.fg_weight)
        return loss

    @torch.no_grad()
    def export(self, ema: VideoVAE, out: Path) -> None:
        """Store the latent scale in the config and write the folder. The scale is measured on fresh clips,
        except for a decoder-only run: its latent space is the frozen encoder's, as the DiT learnt it."""
        if self.cfg.decoder_only:
            init = load_config(model_folder(self.cfg.init_from))["vae"]
            mean, std = float(init["latent_mean"]), float(init["latent_std"])
        else:
            zs = []
            for j in range(32):
                if self.folder is not None:
                    frames = self.folder.batch(10_000_000 + j, range(1))[0][0]
                else:
                    frames, _ = world_clip(10_000_000 + j, self.cfg, self.cfg.n_frames)
                zs.append(ema.encode_dist(frames_to_tensor(frames).to(self.device)).mode().flatten())
            z = torch.cat(zs)
            mean, std = float(z.mean()), float(z.std())
        vcfg = dataclasses.replace(ema.cfg, latent_mean=mean, latent_std=std)
        with atomic_dir(out) as tmp:
            save_config(tmp, {"name": "cinegen-vae", "vae": vcfg.to_dict(), "train_vae": self.cfg.to_dict()})
            save_state(tmp, "vae", ema.state_dict())


class AlignStep(torch.nn.Module):
    """The DiT's forward, plus a head reading block `block`'s tokens: (v, state logits (B, N, HEAD_DIM)).

    The block's output is caught by a forward hook, so the model stays as it is (applied from outside)."""

    def __init__(self, dit: DiT, block: int):
        from cinegen.train.world_state import HEAD_DIM

        super().__init__()
        if not 0 <= block < dit.cfg.depth:
            raise CheckpointError(f"align_block {block} is not a block of a {dit.cfg.depth}-block DiT")
        self.dit, self.block = dit, block
        d = dit.cfg.dim
        self.head = torch.nn.Sequential(torch.nn.Linear(d, d), torch.nn.SiLU(), torch.nn.Linear(d, HEAD_DIM))

    def forward(self, x, t, text, text_mask=None, frame_pos=None):
        caught = {}
        hook = self.dit.blocks[self.block].register_forward_hook(lambda _m, _i, z: caught.__setitem__("z", z))
        try:
            v = self.dit(x, t, text, text_mask, frame_pos)
        finally:
            hook.remove()
        return v, self.head(caught["z"])  # (B, C, T, H, W), (B, N, HEAD_DIM)


def _long_caption(spec, seed: int) -> str:
    from cinegen.world import make_captions

    caps = make_captions(spec, np.random.default_rng(seed))
    return caps.long[np.random.default_rng(seed + 1).integers(len(caps.long))]


def model_folder(name: str | Path) -> Path:
    """A model folder by path; "default" is the model shipped inside the package (to fine-tune it)."""
    from cinegen.pipeline.pipeline import DEFAULT_MODEL_DIR

    return DEFAULT_MODEL_DIR if str(name) == "default" else Path(name)


def load_vae(folder: str | Path) -> VideoVAE:
    config = load_config(folder)
    if "vae" not in config:
        raise CheckpointError(f"{folder}/config.json has no 'vae' section")
    vae = VideoVAE(VAEConfig.from_dict(config["vae"]))
    load_into(vae, load_state(folder, "vae"), f"{folder}/vae")
    return vae.eval().requires_grad_(False)


class DiTTask:
    """Trains on a latent cache: world clips encoded once by the VAE, captions once by the text encoder."""

    def __init__(self, cfg: TrainConfig, device: torch.device, run: Path, d: parallel.Dist):
        from cinegen.train.latent_cache import build_cache

        self.cfg, self.device, self.d = cfg, device, d
        if not cfg.vae_dir:
            raise CheckpointError("DiT training needs vae_dir: the trained VAE's folder")
        self.vae_dir = model_folder(cfg.vae_dir)
        self.vae = load_vae(self.vae_dir).to(device)
        check_clip_size(cfg, self.vae.cfg.temporal_down, self.vae.cfg.spatial_down,
                        dit_preset(cfg.model, dict(cfg.model_overrides)).patch_size)  # before any cache is built
        self.folder = None
        if cfg.data != "world":  # real videos: encoded on the fly (captions through the encoder's cache)
            from cinegen.text import TextEncoder
            from cinegen.train.folder import FolderBatches

            self.folder = FolderBatches(cfg, lambda step, j: sample_seed(cfg.seed, step, j))
            self.encoder = TextEncoder(cfg.text_encoder)
            text_dim = self.encoder.dim
        else:
            self.cache = build_cache(cfg, self.vae, run / "cache", main=d.main, barrier=lambda: parallel.barrier(d))
            self.latents = self.cache["latents"].float()  # (N, C, n, h, w)
            self.text = self.cache["text"]  # (N·K, L, D) fp16
            self.text_mask = self.cache["text_mask"].bool()  # (N·K, L)
            self.empty, self.empty_mask = self.cache["empty"].float(), self.cache["empty_mask"].bool()  # (L, D), (L,)
            text_dim = int(self.text.shape[-1])
        dit_cfg = dit_preset(cfg.model, {"in_channels": self.vae.cfg.latent_channels, "text_dim": text_dim,
                                         **cfg.model_overrides})
        self.model = DiT(dit_cfg)
        self.step_module = self.model
        self.aux: torch.nn.Module | None = None  # trained beside the model, saved in checkpoints, never exported
        if cfg.align_weight > 0:
            self.state = self._world_state(run, d)  # (N, n, gh, gw, STATE_DIM)
            self.step_module = AlignStep(self.model, cfg.align_block)
            self.aux = self.step_module.head

    def _world_state(self, run: Path, d: parallel.Dist) -> torch.Tensor:
        from safetensors.torch import load_file

        from cinegen.train.latent_cache import build_state

        _, ph, pw = self.model.cfg.patch_size
        grid = (self.latents.shape[3] // ph, self.latents.shape[4] // pw)
        path = run / "cache" / "state.safetensors"
        if d.main and not path.exists():
            build_state(self.cfg, grid, self.vae.cfg.temporal_down, path)
        parallel.barrier(d)
        return load_file(str(path))["state"]

    @torch.no_grad()
    def folder_batch(self, step: int, idx: range):
        clips, captions = self.folder.batch(step, idx)
        x0 = torch.cat([self.vae.encode(frames_to_tensor(c).to(self.device)) for c in clips])  # (b, C, n, h, w)
        drops = [torch.rand((), generator=sample_gen(self.cfg.seed, step, 30_000 + j)).item() < self.cfg.caption_dropout
                 for j in idx]
        emb, mask = self.encoder.encode(["" if d else c for d, c in zip(drops, captions)])
        ts, cms, noises = [], [], []
        n, (h, w) = x0.shape[2], x0.shape[3:]
        _, ph, pw = self.model.cfg.patch_size
        for j in idx:
            g = sample_gen(self.cfg.seed, step, j)
            ts.append(sample_train_t(1, n, n * (h // ph) * (w // pw), g, shift=self.cfg.t_shift or None))
            cms.append(sample_clean_mask(1, n, g, p=T2V_P if t2v_phase(self.cfg, step) else CLEAN_P))
            noises.append(torch.randn(x0.shape[1:], generator=g))
        dev = self.device
        return (x0, emb.to(dev), mask.to(dev), torch.cat(ts).to(dev), torch.cat(cms).to(dev),
                torch.stack(noises).to(dev))

    def batch(self, step: int, idx: range):
        cfg = self.cfg
        image = is_image_step(cfg, step)
        n_clips, k = self.latents.shape[0], cfg.captions_per_clip
        _, ph, pw = self.model.cfg.patch_size
        xs, embs, masks, ts, cms, noises = [], [], [], [], [], []
        for j in idx:
            g = sample_gen(cfg.seed, step, j)
            i = int(torch.randint(n_clips, (1,), generator=g))
            c = int(torch.randint(k, (1,), generator=g))
            x0 = self.latents[i, :, :1] if image else self.latents[i]  # image = the first latent frame
            n = x0.shape[1]
            drop = torch.rand((), generator=g).item() < cfg.caption_dropout
            emb = self.empty if drop else self.text[i * k + c].float()
            mask = self.empty_mask if drop else self.text_mask[i * k + c]
            n_tokens = n * (x0.shape[2] // ph) * (x0.shape[3] // pw)
            ts.append(sample_train_t(1, n, n_tokens, g, shift=cfg.t_shift or None))
            cms.append(sample_clean_mask(1, n, g, p=T2V_P if t2v_phase(self.cfg, step) else CLEAN_P))
            noises.append(torch.randn(x0.shape, generator=g))
            xs.append(x0)
            embs.append(emb)
            masks.append(mask)
        to = lambda a: torch.stack(a).to(self.device)  # noqa: E731
        return (to(xs), to(embs), to(masks), torch.cat(ts).to(self.device), torch.cat(cms).to(self.device),
                to(noises))

    def loss(self, net: torch.nn.Module, step: int, idx: range) -> torch.Tensor:
        x0, emb, mask, t, clean, noise = (self.folder_batch if self.folder is not None else self.batch)(step, idx)
        gap = memory_gap(self.cfg, step, x0.shape[2])
        pos = frame_positions(x0.shape[2], gap)
        if pos is not None:
            clean = clean.clone()
            clean[:, 0] = True  # the memory frame is always given
            pos = pos.to(self.device)
        weight = foreground_weights(x0, self.cfg.fg_weight) if self.cfg.fg_weight > 0 else None
        from cinegen.train.world_state import cover_total, state_loss

        target = None
        if self.aux is not None:
            target = self._batch_state(step, idx, x0.shape[2]).to(self.device).flatten(1, 3)  # (B, N, STATE_DIM)
        frames = pairs = cover = None
        if self.d.dp_size > 1:
            # DDP and FSDP average the ranks' gradients, and the ranks' slices hold different numbers of clean
            # frames (condition modes): each rank divides its summed errors by the whole batch's count / dp_size,
            # so the average over ranks is one process's loss over the whole batch
            local = noisy_counts(clean)  # (2,): from `clean` after the memory frame is forced, as the loss sees it
            if target is not None:
                local = torch.cat([local, cover_total(target)[None]])
            mean = parallel.dp_mean(local, self.d)
            # as the loss's clamp(min=1) of the whole batch's counts: with none, every rank's sum is 0
            frames, pairs = mean[:2].clamp(min=1.0 / self.d.dp_size)
            cover = mean[2] if target is not None else None
        if self.aux is None:
            return flow_loss(lambda x, tt: net(x, tt, emb, mask, pos), x0, noise, t, clean, weight,
                             self.cfg.motion_weight, frames, pairs)
        out = {}

        def model_fn(x: torch.Tensor, tt: torch.Tensor) -> torch.Tensor:
            out["v"], out["state"] = net(x, tt, emb, mask, pos)
            return out["v"]

        loss = flow_loss(model_fn, x0, noise, t, clean, weight, self.cfg.motion_weight, frames, pairs)
        on = step < self.cfg.align_until * self.cfg.steps  # off for the end of training (HASTE)
        return loss + (self.cfg.align_weight if on else 0.0) * state_loss(out["state"], target, cover)

    def _batch_state(self, step: int, idx: range, n: int) -> torch.Tensor:
        """The world state of the clips batch() drew for this step (the same draws), first n latent frames."""
        n_clips = self.latents.shape[0]
        first = [int(torch.randint(n_clips, (1,), generator=sample_gen(self.cfg.seed, step, j))) for j in idx]
        return torch.stack([self.state[i, :n] for i in first])

    @torch.no_grad()
    def export(self, ema: DiT, out: Path) -> None:
        vae_config = load_config(self.vae_dir)
        config = {
            "name": "cinegen",
            "vae": vae_config["vae"],
            "dit": ema.cfg.to_dict(),
            "text": {"name": self.cfg.text_encoder, "max_length": 77},
            "sampling": {"width": self.cfg.width, "height": self.cfg.height, "fps": self.cfg.fps,
                         "seconds": 4.0, "steps": 20, "guidance": 4.0, "memory": self.cfg.memory_fraction > 0},
            "train_dit": self.cfg.to_dict(),
            "train_vae": vae_config.get("train_vae", {}),
        }
        with atomic_dir(out) as tmp:
            save_config(tmp, config)
            save_state(tmp, "vae", load_state(self.vae_dir, "vae"))
            save_state(tmp, "dit", ema.state_dict())
