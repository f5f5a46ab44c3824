"""One readable training loop for the VAE and the DiT: AdamW (or Muon, train/optim.py), warm-up, EMA, grad clipping,
bf16 autocast on GPU, checkpoints with exact resume, progress bar, loss CSV + PNG.

Exact resume: every random draw of step s comes from generators seeded by (seed, s, sample index),
so a run killed at any point and resumed from its last checkpoint retraces the same steps.
Under torchrun the model is parallelised from outside (train/parallel.py: DDP, FSDP2, sequence
parallelism); FSDP runs write sharded checkpoints (train/sharded_ckpt.py), and either kind resumes on
any number of processes.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
from pathlib import Path

import torch

from cinegen.common.atomic import atomic_dir
from cinegen.common.checkpoint import load_config, load_into, load_state, save_state
from cinegen.common.device import autocast_dtype, pick_device
from cinegen.common.errors import CheckpointError
from cinegen.dit.repatch import repatch_state
from cinegen.train import parallel, sharded_ckpt
from cinegen.train.config import TrainConfig
from cinegen.train.log import LossLog
from cinegen.train.optim import make_optimizer
from cinegen.train.tasks import DiTTask, VAETask, dit_preset, model_folder


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up, constant (DESIGN.md: short warm-up, high learning rate), then an optional linear
    cool-down to 0 over the last `cooldown` steps: a constant lr leaves the weights bouncing around the
    minimum; decaying at the end settles them, and the stable phase can be extended before it."""
    lr = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup))
    if cfg.cooldown and step >= cfg.steps - cfg.cooldown:
        lr *= (cfg.steps - step) / cfg.cooldown
    return lr


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float, step: int) -> None:
    d = min(decay, (1 + step) / (10 + step))  # short runs: let the EMA follow early on
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm.detach(), 1 - d)


def save_checkpoint(run: Path, cfg: TrainConfig, model, ema, opt, step: int, aux=None) -> None:
    """A full checkpoint (plain and DDP runs, rank 0): safetensors weights + optim.pt."""
    with atomic_dir(run / "ckpt") as tmp:
        save_state(tmp, "model", model.state_dict())
        save_state(tmp, "ema", ema.state_dict())
        if aux is not None:
            save_state(tmp, "aux", aux.state_dict())
        torch.save(opt.state_dict(), tmp / "optim.pt")
        (tmp / "state.json").write_text(json.dumps(_meta(cfg, step), indent=2))


def _meta(cfg: TrainConfig, step: int) -> dict:
    return {"step": step, "config": cfg.to_dict()}


def checkpoint_step(run: Path, cfg: TrainConfig) -> int:
    """The step of the run's last checkpoint (full or sharded); 0 without one."""
    ckpt = run / "ckpt"
    if not (ckpt / "state.json").exists():
        return 0
    state = json.loads((ckpt / "state.json").read_text())
    if state["config"]["kind"] != cfg.kind or state["config"]["model"] != cfg.model:
        raise CheckpointError(f"{run} holds a {state['config']['kind']}/{state['config']['model']} run, not {cfg.kind}/{cfg.model}")
    return int(state["step"])


def load_weights(run: Path, model, ema, aux=None) -> dict:
    """Model, EMA and aux weights of a full checkpoint, in place; returns the optimizer's saved state."""
    ckpt = run / "ckpt"
    model.load_state_dict(load_state(ckpt, "model"))
    ema.load_state_dict(load_state(ckpt, "ema"))
    if aux is not None:
        aux.load_state_dict(load_state(ckpt, "aux"))
    return torch.load(ckpt / "optim.pt", weights_only=True)


def init_weights(cfg: TrainConfig, model: torch.nn.Module, ema: torch.nn.Module) -> None:
    """Start model and EMA from the `cfg.kind` weights of the model folder `cfg.init_from` ("default": the
    shipped model). A DiT with finer patches than the one it starts from is started by dit/repatch.py."""
    folder = model_folder(cfg.init_from)
    state = load_state(folder, cfg.kind)
    if cfg.kind == "dit":
        old = tuple(load_config(folder).get("dit", {}).get("patch_size", model.cfg.patch_size))
        if old != model.cfg.patch_size:
            state = repatch_state(state, old, model.cfg.patch_size, model.cfg.out_dim)
    load_into(model, state, f"{cfg.init_from}/{cfg.kind}")
    ema.load_state_dict(model.state_dict())


def fit_steps(cfg: TrainConfig, step: int, rate: float, seconds_left: float) -> TrainConfig:
    """The run's length set to what `rate` steps/s reach in `seconds_left` from `step`, the cool-down
    kept at its share of the run (so a time-boxed run still ends with its learning rate at 0)."""
    steps = step + max(1, int(rate * seconds_left))
    share = cfg.cooldown / cfg.steps if cfg.steps else 0.0
    return dataclasses.replace(cfg, steps=steps, cooldown=min(steps - step, round(share * steps)))


FIT_AFTER_STEPS = 20  # steps timed before a fit_minutes run sets its length


def train(cfg: TrainConfig, run: str | Path, max_minutes: float | None = None, progress: bool = True,
          stop_at: int | None = None, fit_minutes: float | None = None) -> dict:
    """Train (or resume) the run in folder `run`; export `run/model` from the EMA weights at the end.

    `max_minutes` stops early (checkpointed) so a session can end and a later one resume.
    `fit_minutes` instead sizes the run to end, cool-down included, after about that long of
    training (data preparation before it not counted): the rate of the first FIT_AFTER_STEPS steps
    sets `steps` (a lent GPU for one ~10-minute call). `stop_at` stops after that step (tests use
    it to simulate a kill).
    """
    run = Path(run)
    device = pick_device(cfg.device)
    if cfg.kind == "dit":  # before any process group or data: a bad setting is one line
        parallel.check_sequence_parallel(dit_preset(cfg.model, cfg.model_overrides).heads, cfg.sequence_parallel)
    d = parallel.setup(device, cfg.parallel, cfg.sequence_parallel)
    fsdp = cfg.parallel == "fsdp"
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    task = VAETask(cfg, device) if cfg.kind == "vae" else DiTTask(cfg, device, run, d)
    model = task.model if fsdp else task.model.to(device)  # FSDP moves only each rank's shards to the device
    model_cls = type(model)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    aux = getattr(task, "aux", None)  # a task's auxiliary head: trained and checkpointed, not exported
    if aux is not None and not fsdp:
        aux.to(device)
    mods = (task.step_module, model, ema, aux)
    trainable = lambda: list(model.parameters()) + (list(aux.parameters()) if aux is not None else [])  # noqa: E731
    if d.main:
        run.mkdir(parents=True, exist_ok=True)
        _save_config(run, cfg)
    step = checkpoint_step(run, cfg)
    sharded = step > 0 and sharded_ckpt.is_sharded(run / "ckpt")
    saved_opt = None
    if step == 0 and cfg.init_from:
        init_weights(cfg, model, ema)
    elif step > 0 and not sharded:  # a full checkpoint: its weights go in before any sharding
        saved_opt = load_weights(run, model, ema, aux)
        if fsdp:
            saved_opt = sharded_ckpt.optimizer_by_name(task.step_module, trainable(), saved_opt)
    net = parallel.parallelize(task.step_module, model, ema, cfg, d, device)
    params = trainable()  # after parallelize: FSDP replaced them by their shards
    opt = make_optimizer(cfg, model, params)
    if saved_opt is not None:
        if fsdp:
            sharded_ckpt.load_optimizer_by_name(task.step_module, opt, saved_opt)
        else:
            opt.load_state_dict(saved_opt)
    if sharded:
        sharded_ckpt.load(run / "ckpt", mods, opt)
    log = LossLog(run, step)
    amp = autocast_dtype(device)
    start, start_step = time.perf_counter(), step
    end = cfg.steps if stop_at is None else min(cfg.steps, stop_at)
    bar = _Progress(cfg, step) if progress and d.main else None
    last_loss = float("nan")
    while step < end:
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            loss = task.loss(net, step, parallel.my_slice(cfg.batch_size, d))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        ema_update(ema, model, cfg.ema_decay, step)
        step += 1
        last_loss = _mean_over_ranks(loss.detach().float(), d)
        elapsed = time.perf_counter() - start
        if not math.isfinite(last_loss):
            raise RuntimeError(f"loss became {last_loss} at step {step}: lower the learning rate")
        if step % cfg.log_every == 0 or step == end:
            log.add(step=step, loss=last_loss, lr=lr_at(cfg, step - 1), steps_per_s=(step - start_step) / elapsed,
                    elapsed_s=elapsed)
        if fit_minutes is not None and step - start_step == FIT_AFTER_STEPS:
            # rank 0's clock decides for all: every rank must stop at the same step
            rate, left = parallel.from_main([(step - start_step) / elapsed, fit_minutes * 60 - elapsed], d, device)
            cfg = fit_steps(cfg, step, rate, left)
            end = cfg.steps if stop_at is None else min(cfg.steps, stop_at)
            if d.main:
                _save_config(run, cfg)
                print(f"train {cfg.kind}: {cfg.steps} steps fit {fit_minutes:g} min "
                      f"(cool-down over the last {cfg.cooldown})", flush=True)
            if bar is not None:
                bar.resize(cfg)
        if bar is not None:
            bar.update(step, last_loss, (step - start_step) / elapsed)
        out_of_time = False
        if max_minutes is not None:
            out_of_time = bool(parallel.from_main([float(elapsed > max_minutes * 60)], d, device)[0])
        if step % cfg.ckpt_every == 0 or step == end or out_of_time:
            if fsdp:
                sharded_ckpt.save(run, _meta(cfg, step), mods, opt, d)
            elif d.main:
                save_checkpoint(run, cfg, model, ema, opt, step, aux)
            if d.main:
                log.save()
        if out_of_time:
            break
    if bar is not None:
        bar.close()
    if step >= cfg.steps:
        _export(task, ema, model_cls, run / "model", d, fsdp, device)
    parallel.barrier(d)
    parallel.teardown(d)
    return {"step": step, "done": step >= cfg.steps, "loss": last_loss, "model": str(run / "model")}


def _export(task, ema: torch.nn.Module, model_cls: type, out: Path, d: parallel.Dist, fsdp: bool,
            device: torch.device) -> None:
    """The model folder from the EMA weights; a sharded EMA is gathered into a plain copy on rank 0 first,
    so the folder is the same (config.json + safetensors) however the run was parallelised."""
    if fsdp:
        state = parallel.full_state(ema)  # collective: every rank takes part
        if not d.main:
            return
        ema = model_cls(ema.cfg)
        ema.load_state_dict(state)
        ema = ema.to(device).eval()
    if d.main:
        task.export(ema, out)


def _save_config(run: Path, cfg: TrainConfig) -> None:
    (run / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))


def _mean_over_ranks(x: torch.Tensor, d: parallel.Dist) -> float:
    if d.world_size > 1:
        torch.distributed.all_reduce(x)
        x = x / d.world_size
    return float(x)


class _Progress:
    """A rich progress bar with loss and it/s; in a log file, one plain line per log interval instead."""

    def __init__(self, cfg: TrainConfig, step: int):
        import sys

        self.cfg = cfg
        self.plain = not sys.stdout.isatty()
        if self.plain:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.p = Progress(TextColumn(f"train {cfg.kind}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("loss {task.fields[loss]:.4f}  {task.fields[rate]:.2f} it/s"),
                          TimeRemainingColumn(), transient=False)
        self.p.start()
        self.task = self.p.add_task("train", total=cfg.steps, completed=step, loss=float("nan"), rate=0.0)

    def resize(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        if not self.plain:
            self.p.update(self.task, total=cfg.steps)

    def update(self, step: int, loss: float, rate: float) -> None:
        if self.plain:
            if step % self.cfg.log_every == 0:
                print(f"train {self.cfg.kind} step {step}/{self.cfg.steps} loss {loss:.4f} {rate:.2f} it/s", flush=True)
            return
        self.p.update(self.task, completed=step, loss=loss, rate=rate)

    def close(self) -> None:
        if not self.plain:
            self.p.stop()
