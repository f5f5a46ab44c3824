"""Packaging a run as the default model: fp16 weights that load back, and a card written from the run logs."""
import dataclasses

import pytest
import torch

from cinegen.common.checkpoint import load_state
from cinegen.common.errors import CheckpointError
from cinegen.train.package import package_model
from cinegen.train.recipes import tiny_dit, tiny_vae
from cinegen.train.trainer import train


def test_package_two_stages_with_an_earlier_stage_from_the_previous_card(tmp_path):
    train(dataclasses.replace(tiny_vae(), steps=2), tmp_path / "vae", progress=False)
    vae = str(tmp_path / "vae/model")
    train(dataclasses.replace(tiny_dit(vae), steps=2, cache_clips=4), tmp_path / "dit", progress=False)
    tune = dataclasses.replace(tiny_dit(vae), init_from=str(tmp_path / "dit/model"), steps=3, cache_clips=4)
    train(tune, tmp_path / "dit2", progress=False)

    out = tmp_path / "shipped"
    package_model(tmp_path / "dit2/model", out, tmp_path / "vae", [tmp_path / "dit", tmp_path / "dit2"])
    card = (out / "MODEL_CARD.md").read_text()
    assert "| DiT | 2 |" in card and "| DiT stage 2 | 3 |" in card and '"init_from"' in card
    fp32, fp16 = load_state(tmp_path / "dit2/model", "dit"), load_state(out, "dit", dtype=torch.float16)
    assert all(fp16[k].dtype == torch.float16 and torch.allclose(fp16[k].float(), fp32[k], atol=1e-2) for k in fp32)

    # a later session without stage 1's run folder: its row is carried from the card being replaced
    stage1_row = next(line for line in card.splitlines() if line.startswith("| DiT |"))
    package_model(tmp_path / "dit2/model", out, tmp_path / "vae", [tmp_path / "gone", tmp_path / "dit2"])
    assert stage1_row in (out / "MODEL_CARD.md").read_text()
    with pytest.raises(CheckpointError, match="no training log for the DiT stage"):
        package_model(tmp_path / "dit2/model", tmp_path / "new", tmp_path / "vae", [tmp_path / "gone", tmp_path / "dit2"])
    assert not (tmp_path / "new").exists()  # nothing half-written
