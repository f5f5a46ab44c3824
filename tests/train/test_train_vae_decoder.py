"""Decoder-only VAE training: the encoder, and so the latent space a DiT learnt, stay exactly as they were."""
import dataclasses
import json

import pytest
import torch

from cinegen.common.checkpoint import load_state
from cinegen.common.errors import InputError
from cinegen.train.recipes import tiny_vae
from cinegen.train.trainer import train


def test_decoder_only_keeps_the_encoder_and_its_latent_scale(tmp_path):
    train(dataclasses.replace(tiny_vae(), steps=3), tmp_path / "base", progress=False)
    base = tmp_path / "base/model"
    cfg = dataclasses.replace(tiny_vae(), steps=3, lr=1e-2, warmup=1, n_frames=9, init_from=str(base),
                              decoder_only=True)
    train(cfg, tmp_path / "dec", progress=False)
    before, after = load_state(base, "vae"), load_state(tmp_path / "dec/model", "vae")
    enc = [k for k in before if k.startswith("encoder.")]
    dec = [k for k in before if k.startswith("decoder.")]
    assert enc and dec
    assert all(torch.equal(before[k], after[k]) for k in enc)
    assert any(not torch.equal(before[k], after[k]) for k in dec)
    scale = lambda p: {k: json.loads((p / "config.json").read_text())["vae"][k]  # noqa: E731
                       for k in ("latent_mean", "latent_std")}
    assert scale(tmp_path / "dec/model") == scale(base)


def test_decoder_only_needs_weights_to_start_from():
    with pytest.raises(InputError, match="init_from"):
        dataclasses.replace(tiny_vae(), decoder_only=True)
