"""Shapes, config round trip, input checks and latent normalisation of the causal video VAE."""
import dataclasses
import json

import pytest
import torch

from cinegen.common.errors import InputError
from cinegen.vae import VAEConfig, VideoVAE, vae_small, vae_tiny


@pytest.fixture(scope="module")
def vae() -> VideoVAE:
    torch.manual_seed(0)
    return VideoVAE(vae_tiny()).eval()


def _video(t: int, h: int, w: int, b: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, t, h, w, generator=g) * 2 - 1


@pytest.mark.parametrize("t, h, w", [(9, 32, 32), (1, 32, 32), (5, 40, 24), (13, 24, 56)])
@torch.no_grad()
def test_shapes_video_image_portrait_landscape(vae, t, h, w):
    x = _video(t, h, w, b=2)
    post = vae.encode_dist(x)
    k = (t - 1) // 4
    assert post.mean.shape == (2, 16, 1 + k, h // 8, w // 8)
    assert post.logvar.shape == post.mean.shape
    assert post.sample(torch.Generator().manual_seed(0)).shape == post.mean.shape
    y = vae.decode(vae.encode(x))
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


@torch.no_grad()
def test_image_is_first_frame_of_video(vae):
    x = _video(9, 32, 32)
    assert torch.allclose(vae.encode(x[:, :, :1]), vae.encode(x)[:, :, :1], atol=1e-6)
    z = vae.encode(x)
    assert torch.allclose(vae.decode(z[:, :, :1]), vae.decode(z)[:, :, :1], atol=1e-6)


@torch.no_grad()
def test_normalisation_uses_latent_mean_and_std():
    torch.manual_seed(0)
    plain = VideoVAE(vae_tiny()).eval()
    scaled = VideoVAE(dataclasses.replace(vae_tiny(), latent_mean=0.3, latent_std=2.0)).eval()
    scaled.load_state_dict(plain.state_dict())
    x = _video(5, 16, 16)
    mode = plain.encode_dist(x).mode()
    z = scaled.encode(x)
    assert torch.allclose(z, (mode - 0.3) / 2.0, atol=1e-6)
    assert torch.allclose(scaled.decode(z), plain.decode_raw(mode), atol=1e-5)


def test_config_round_trips_through_json():
    for cfg in (vae_tiny(), vae_small(), dataclasses.replace(vae_small(), latent_mean=0.1, latent_std=0.7)):
        back = VAEConfig.from_dict(json.loads(json.dumps(VideoVAE(cfg).config_dict())))
        assert back == cfg
    with pytest.raises(InputError, match="unknown"):
        VAEConfig.from_dict({**vae_tiny().to_dict(), "bogus": 1})


@pytest.mark.parametrize("kw", [
    {"latent_channels": 0}, {"channel_mults": ()}, {"temporal_down": 3}, {"temporal_down": 8},
    {"spatial_down": 2}, {"spatial_down": 12}, {"latent_std": 0.0},
])
def test_bad_config_is_rejected(kw):
    with pytest.raises(InputError):
        VAEConfig(**kw)


def test_other_compressions_keep_their_promise():
    cfg = VAEConfig(base_channels=8, channel_mults=(1, 2, 2, 2), temporal_down=2, spatial_down=16)
    assert cfg.patch == 2 and cfg.n_latent_frames(9) == 5
    vae = VideoVAE(cfg).eval()
    with torch.no_grad():
        z = vae.encode(_video(9, 32, 16))
    assert z.shape == (1, 16, 5, 2, 1)


@pytest.mark.parametrize("shape", [(1, 3, 8, 32, 32), (1, 3, 9, 30, 32), (1, 4, 9, 32, 32), (3, 9, 32, 32)])
def test_bad_pixels_raise_input_error(vae, shape):
    with pytest.raises(InputError):
        vae.encode(torch.zeros(shape))


def test_bad_latents_raise_input_error(vae):
    with pytest.raises(InputError):
        vae.decode(torch.zeros(1, 8, 2, 4, 4))


def test_presets_are_small():
    n_small = sum(p.numel() for p in VideoVAE(vae_small()).parameters())
    n_tiny = sum(p.numel() for p in VideoVAE(vae_tiny()).parameters())
    assert n_tiny < 100_000 < n_small < 5_000_000
