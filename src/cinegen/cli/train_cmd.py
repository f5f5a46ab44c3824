"""`cinegen train`: one stage, or a whole recipe (VAE, then DiT, then the model folder)."""
from __future__ import annotations

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
    vae_fn, dit_fn = _recipe(recipe)
    if kind == "vae":
        cfg = vae_fn()
    else:
        if not (model_folder(vae_dir) / "config.json").exists():
            raise InputError(f"--vae {vae_dir} is not a trained VAE folder (no config.json)")
        cfg = dit_fn(str(vae_dir))
    cfg = override(cfg, sets)
    if fit_minutes is not None and fit_minutes <= 0:
        raise InputError(f"--fit-minutes must be positive, got {fit_minutes:g}")
    res = train(cfg, out, max_minutes=max_minutes, fit_minutes=fit_minutes)
    _report(res)


def run_recipe(recipe: str, out: Path, max_minutes: float | None) -> None:
    """VAE in OUT/vae, DiT in OUT/dit, the final model folder in OUT/model. Rerun to resume."""
    import time

    vae_fn, dit_fn = _recipe(recipe)
    start = time.perf_counter()
    left = lambda: None if max_minutes is None else max_minutes - (time.perf_counter() - start) / 60  # noqa: E731
    res = train(vae_fn(), out / "vae", max_minutes=left())
    if not res["done"]:
        _report(res)
        return
    res = train(dit_fn(str(out / "vae" / "model")), out / "dit", max_minutes=left())
    if res["done"]:
        import shutil

        from cinegen.common.atomic import atomic_dir

        with atomic_dir(out / "model") as tmp:
            shutil.copytree(out / "dit" / "model", tmp, dirs_exist_ok=True)
        res["model"] = str(out / "model")
    _report(res)


def _report(res: dict) -> None:
    if res["done"]:
        typer.echo(f"done at step {res['step']} (loss {res['loss']:.4f}); model in {res['model']}")
    else:
        typer.echo(f"stopped at step {res['step']} (loss {res['loss']:.4f}); run the same command again to resume")
