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


def test_redraw_is_the_dits_sdedit_of_the_latents_and_trains_the_decoder_only(tmp_path):
    from cinegen.pipeline.tiny import make_tiny_checkpoint
    from cinegen.train.tasks import VAETask

    tiny = make_tiny_checkpoint(tmp_path / "tiny")
    cfg = dataclasses.replace(tiny_vae(), steps=2, lr=1e-2, warmup=1, n_frames=5, init_from=str(tiny),
                              decoder_only=True, redraw_from=str(tiny), redraw_t=1.0, redraw_steps=2,
                              image_fraction=0.0)
    task = VAETask(cfg, torch.device("cpu"))
    x, captions = task.batch_with_captions(0, range(2))
    assert len(captions) == 2 and all(isinstance(c, str) and c for c in captions)
    z = task.model.encode_dist(x).mode()
    eps = torch.randn(z.shape, generator=torch.Generator().manual_seed(0))
    near = task.redrawer(z, captions, 1e-4, eps)  # from t0 ≈ 0 the redraw is the latent itself
    far = task.redrawer(z, captions, 0.9, eps)
    assert near.shape == far.shape == z.shape
    assert (near - z).abs().max() < 0.05 * z.abs().max()
    assert (far - z).abs().mean() > 10 * (near - z).abs().mean()
    train(dataclasses.replace(cfg, crop=16), tmp_path / "dec", progress=False)  # redraw whole frames, decode a crop
    before, after = load_state(tiny, "vae"), load_state(tmp_path / "dec/model", "vae")
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("encoder."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))


def test_redraw_needs_decoder_only():
    with pytest.raises(InputError, match="decoder_only"):
        dataclasses.replace(tiny_vae(), redraw_from="default")

