"""Package a trained checkpoint as the shipped default: fp16 safetensors, config, MODEL_CARD.md, pictures."""
from __future__ import annotations

import shutil
from pathlib import Path

import torch

from cinegen.common.atomic import atomic_dir
from cinegen.common.checkpoint import load_config, load_state, save_config, save_state
from cinegen.train.model_card import write_model_card


def package_model(model: Path, out: Path, vae_run: Path, dit_runs: list[Path], eval_dir: Path | None = None,
                  failures: str = "", compute: str = "", extra_eval_md: str = "", decoder_run: Path | None = None) -> Path:
    """Copy `model` into `out` with half-precision weights (loaded back as fp32) and a model card.

    `dit_runs` are the DiT's stages in order; stages trained earlier, whose runs are not here, keep the
    rows of the card in `out` that this one replaces."""
    eval_md = extra_eval_md
    previous = (out / "MODEL_CARD.md").read_text() if (out / "MODEL_CARD.md").exists() else ""
    with atomic_dir(out) as tmp:
        save_config(tmp, load_config(model))
        for name in ("vae", "dit"):
            save_state(tmp, name, load_state(model, name), dtype=torch.float16)
        if eval_dir is not None and (eval_dir / "summary.md").exists():
            eval_md = (eval_dir / "summary.md").read_text().replace("# ", "### ", 1) + "\n" + eval_md
            if (eval_dir / "dimensions.png").exists():
                shutil.copy(eval_dir / "dimensions.png", tmp / "eval_dimensions.png")
                eval_md += "\n![eval dimensions](eval_dimensions.png)\n"
            eval_md += _good_and_bad(eval_dir, tmp)
        write_model_card(tmp, vae_run, dit_runs, eval_md=eval_md, failures=failures, compute=compute,
                         previous=previous, decoder_run=decoder_run)
    return out


def _good_and_bad(eval_dir: Path, out: Path, n: int = 2) -> str:
    """Copy the contact sheets of the best- and worst-scored videos; return their markdown."""
    import json

    scored = []
    for f in sorted((eval_dir / "videos").glob("*.json")):
        d = json.loads(f.read_text())
        vals = [v["value"] for v in d["scores"].values() if v.get("value") is not None]
        if vals and (eval_dir / "sheets" / f"{f.stem}.png").exists():
            scored.append((sum(vals) / len(vals), f.stem, d["prompt"]))
    scored.sort()
    md = ""
    for label, picks in (("good", scored[::-1][:n]), ("bad", scored[:n])):
        for mean, stem, prompt in picks:
            name = f"{label}_{stem}.png"
            shutil.copy(eval_dir / "sheets" / f"{stem}.png", out / name)
            md += f"\n**{label}** (mean score {mean:.2f}): \"{prompt}\"\n\n![{label} {stem}]({name})\n"
    return md
