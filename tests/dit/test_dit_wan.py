"""Side by side with diffusers' WanTransformer3DModel: same weights, same output."""
import pytest
import torch
from diffusers import WanTransformer3DModel

from cinegen.common.errors import CheckpointError
from cinegen.dit import DiT
from cinegen.dit.wan_convert import config_from_wan, convert_wan_state_dict


def _wan(seed=0):
    torch.manual_seed(seed)
    wan = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=4,
        attention_head_dim=16,
        in_channels=4,
        out_channels=4,
        text_dim=32,
        freq_dim=64,
        ffn_dim=96,
        num_layers=2,
        cross_attn_norm=True,
        eps=1e-6,
    ).eval()
    with torch.no_grad():  # random everything, norms' weights included, so no path hides
        for p in wan.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return wan


@pytest.fixture(scope="module")
def pair():
    wan = _wan()
    cfg = config_from_wan(dict(wan.config))
    ours = DiT(cfg).eval()
    ours.load_state_dict(convert_wan_state_dict(wan.state_dict(), cfg), strict=True)
    return wan, ours


def _inputs(seed=1, b=2, shape=(3, 6, 10), L=7):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 4, *shape, generator=g)
    text = torch.randn(b, L, 32, generator=g)
    t = torch.rand(b, shape[0], generator=g)
    return x, text, t


def test_shared_timestep_matches_wan(pair):
    wan, ours = pair
    x, text, t = _inputs()
    t = t[:, 0]
    with torch.no_grad():
        ref = wan(x, t * 1000.0, text, return_dict=False)[0]
        out = ours(x, t, text)
    assert ref.abs().mean() > 0.1
    assert torch.allclose(out, ref, atol=1e-4, rtol=1e-4), (out - ref).abs().max()


def test_per_frame_timestep_matches_wan_per_token_timestep(pair):
    wan, ours = pair
    x, text, t = _inputs(seed=2, shape=(3, 4, 8))
    t[:, 0] = 0.0  # a clean condition frame
    tokens_per_frame = (4 // 2) * (8 // 2)
    with torch.no_grad():
        ref = wan(x, (t * 1000.0).repeat_interleave(tokens_per_frame, dim=1), text, return_dict=False)[0]
        out = ours(x, t, text)
        shared = ours(x, t[:, 1], text)
    assert torch.allclose(out, ref, atol=1e-4, rtol=1e-4), (out - ref).abs().max()
    assert not torch.allclose(out, shared, atol=1e-3)  # the per-frame time really matters


def test_converter_rejects_mismatches(pair):
    wan, ours = pair
    cfg = config_from_wan(dict(wan.config))
    state = dict(wan.state_dict())
    state.pop("blocks.1.attn2.to_k.weight")
    with pytest.raises(CheckpointError):
        convert_wan_state_dict(state, cfg)
    with pytest.raises(CheckpointError):
        convert_wan_state_dict({**wan.state_dict(), "extra.weight": torch.zeros(1)}, cfg)
    with pytest.raises(CheckpointError):
        config_from_wan({**dict(wan.config), "image_dim": 1280})
