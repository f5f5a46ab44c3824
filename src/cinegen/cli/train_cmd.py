"""`cinegen train`: one stage, or a whole recipe (VAE, then DiT, then the model folder)."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import typer

from cinegen.common.errors import InputError
from cinegen.train.config import override
from cinegen.train.recipes import RECIPES
from cinegen.train.tasks import model_folder
from cinegen.train.trainer import train


def _recipe(name: str):
    if name not in RECIPES:
        raise InputError(f"unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]


def run_train_stage(kind: str, out: Path, recipe: str, sets: list[str], max_minutes: float | None,
                    vae_dir: Path | None = None, fit_minutes: float | None = None) -> None:
    vae_fn, dit_fn, _ = _recipe(recipe)
    if kind == "vae":
        cfg = vae_fn()
    else:
        if not (model_folder(vae_dir) / "config.json").exists():
            raise InputError(f"--vae {vae_dir} is not a trained VAE folder (no config.json)")
        cfg = dit_fn(str(vae_dir))
        if isinstance(cfg, list):
            raise InputError(f"recipe {recipe!r} trains the DiT in {len(cfg)} stages: run it whole with "
                             f"`cinegen train --recipe {recipe} --out DIR`")
    cfg = override(cfg, sets)
    if fit_minutes is not None and fit_minutes <= 0:
        raise InputError(f"--fit-minutes must be positive, got {fit_minutes:g}")
    res = train(cfg, out, max_minutes=max_minutes, fit_minutes=fit_minutes)
    _report(res)


def run_recipe(recipe: str, out: Path, max_minutes: float | None) -> None:
    """VAE in OUT/vae, DiT in OUT/dit (a ladder: OUT/dit_<world>), a redraw decoder in OUT/decoder where the
    recipe has one, the final model folder in OUT/model. Rerun to resume: finished stages are skipped."""
    import time

    vae_fn, dit_fn, decoder_fn = _recipe(recipe)
    start = time.perf_counter()
    left = lambda: None if max_minutes is None else max_minutes - (time.perf_counter() - start) / 60  # noqa: E731
    res = train(vae_fn(), out / "vae", max_minutes=left())
    if not res["done"]:
        _report(res)
        return
    vae_model = out / "vae" / "model"
    stages = dit_fn(str(vae_model))
    if isinstance(stages, list):  # a ladder: each stage in its own folder, started from the stage before
        prev = None
        for cfg, folder in zip(stages, stage_folders(stages)):
            run = out / folder
            cfg = dataclasses.replace(cfg, init_from=str(prev)) if prev is not None else cfg
            prev = run / "model"
            if stage_done(run, cfg):
                continue
            res = train(cfg, run, max_minutes=left())
            if not res["done"]:
                break
        dit_model, world = prev, stages[-1].world
    else:
        res = train(stages, out / "dit", max_minutes=left())
        dit_model, world = out / "dit" / "model", stages.world
    decoder = None
    if res["done"] and decoder_fn is not None:  # the decoder learns to draw the final DiT's own latents
        cfg = decoder_fn(str(vae_model), str(dit_model), world)
        decoder = out / "decoder" / "model"
        if not stage_done(out / "decoder", cfg):
            res = train(cfg, out / "decoder", max_minutes=left())
    if res["done"]:
        import shutil

        from cinegen.common.atomic import atomic_dir
        from cinegen.common.checkpoint import load_state, save_state

        if os.environ.get("RANK", "0") == "0":  # under torchrun: one process copies
            with atomic_dir(out / "model") as tmp:
                shutil.copytree(dit_model, tmp, dirs_exist_ok=True)
                if decoder is not None:  # same encoder and latent space: only the VAE's weights change
                    save_state(tmp, "vae", load_state(decoder, "vae"))
        res = {**res, "model": str(out / "model")}
    _report(res)


def stage_folders(stages: list) -> list[str]:
    """dit_<world> per stage; a world's later stages (a warm restart on the same level) get _2, _3, ...
    On a ladder that climbs (a world's stages together, the worlds in level order) the names sort in stage
    order, which `train package` relies on."""
    seen: dict[str, int] = {}
    names = []
    for cfg in stages:
        seen[cfg.world] = seen.get(cfg.world, 0) + 1
        names.append(f"dit_{cfg.world}" + (f"_{seen[cfg.world]}" if seen[cfg.world] > 1 else ""))
    return names


def stage_done(run: Path, cfg) -> bool:
    """A recipe stage whose run already finished and exported its model (a rerun goes on to the next)."""
    state = run / "ckpt" / "state.json"
    return (run / "model" / "config.json").exists() and state.exists() and \
        json.loads(state.read_text())["step"] >= cfg.steps


def _report(res: dict) -> None:
    if os.environ.get("RANK", "0") != "0":  # under torchrun every process returns the same result: one report
        return
    if res["done"]:
        typer.echo(f"done at step {res['step']} (loss {res['loss']:.4f}); model in {res['model']}")
    else:
        typer.echo(f"stopped at step {res['step']} (loss {res['loss']:.4f}); run the same command again to resume")
