"""Packaging a run as the default model: fp16 weights that load back, and a card written from the run logs."""
import dataclasses
import shutil
from pathlib import Path

import pytest
import torch

import cinegen
from cinegen.common.checkpoint import load_state
from cinegen.common.errors import CheckpointError
from cinegen.train.model_card import SECTIONS, write_model_card
from cinegen.train.package import package_model
from cinegen.train.recipes import tiny_dit, tiny_vae
from cinegen.train.trainer import train

SHIPPED = Path(cinegen.__file__).resolve().parent / "assets" / "model"


def _headings(card: str) -> list[str]:
    return [line[3:] for line in card.splitlines() if line.startswith("## ")]


def test_package_two_stages_with_an_earlier_stage_from_the_previous_card(tmp_path):
    train(dataclasses.replace(tiny_vae(), steps=2), tmp_path / "vae", progress=False)
    vae = str(tmp_path / "vae/model")
    train(dataclasses.replace(tiny_dit(vae), steps=2, cache_clips=4), tmp_path / "dit", progress=False)
    tune = dataclasses.replace(tiny_dit(vae), init_from=str(tmp_path / "dit/model"), steps=3, cache_clips=4)
    train(tune, tmp_path / "dit2", progress=False)

    out = tmp_path / "shipped"
    package_model(tmp_path / "dit2/model", out, tmp_path / "vae", [tmp_path / "dit", tmp_path / "dit2"])
    card = (out / "MODEL_CARD.md").read_text()
    assert _headings(card) == list(SECTIONS)
    assert "| DiT | 2 |" in card and "| DiT stage 2 | 3 |" in card and '"init_from"' in card
    assert "## Speed\nNot measured for these weights yet." in card  # nothing measured on these weights yet
    fp32, fp16 = load_state(tmp_path / "dit2/model", "dit"), load_state(out, "dit", dtype=torch.float16)
    assert all(fp16[k].dtype == torch.float16 and torch.allclose(fp16[k].float(), fp32[k], atol=1e-2) for k in fp32)

    # a later session without stage 1's run folder: its row is carried from the card being replaced, and so
    # are the sections measured by hand on the same weights
    stage1_row = next(line for line in card.splitlines() if line.startswith("| DiT |"))
    speed = "| video | wall s |\n|---|---|\n| 10 s | 7.5 |"
    placeholder = "## Speed\nNot measured for these weights yet."
    (out / "MODEL_CARD.md").write_text(card.replace(placeholder, f"## Speed\n{speed}"))
    package_model(tmp_path / "dit2/model", out, tmp_path / "vae", [tmp_path / "gone", tmp_path / "dit2"])
    card = (out / "MODEL_CARD.md").read_text()
    assert stage1_row in card and f"## Speed\n{speed}\n" in card and _headings(card) == list(SECTIONS)
    with pytest.raises(CheckpointError, match="no training log for the DiT stage"):
        package_model(tmp_path / "dit2/model", tmp_path / "new", tmp_path / "vae", [tmp_path / "gone", tmp_path / "dit2"])
    assert not (tmp_path / "new").exists()  # nothing half-written

    # other weights in the same folder: numbers measured on the old ones are not carried over
    package_model(tmp_path / "dit/model", out, tmp_path / "vae", [tmp_path / "dit"])
    assert speed not in (out / "MODEL_CARD.md").read_text()


def test_shipped_card_is_what_the_generator_writes(tmp_path):
    """The shipped card has the generator's sections in order, and regenerating it from its own folder (run
    logs gone, so every row and measured section is carried over) gives it back unchanged."""
    card = (SHIPPED / "MODEL_CARD.md").read_text()
    assert _headings(card) == list(SECTIONS)
    model = tmp_path / "model"
    model.mkdir()
    for f in SHIPPED.iterdir():
        if f.suffix in (".json", ".safetensors", ".png"):
            shutil.copy(f, model / f.name)
    # as many stage runs as the card has stage rows (a ladder has several, and a decoder fine-tune)
    stages = [tmp_path / f"no-dit-run-{i}" for i, line in enumerate(card.splitlines())
              if line.startswith(("| DiT |", "| DiT stage "))]
    decoder = tmp_path / "no-decoder-run" if "| VAE decoder for the DiT's latents |" in card else None
    write_model_card(model, tmp_path / "no-vae-run", stages, previous=card, decoder_run=decoder)
    assert (model / "MODEL_CARD.md").read_text() == card
