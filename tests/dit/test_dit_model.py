"""DiT shapes, config checks, adaLN-Zero init, per-frame time and text masking."""
import json

import pytest
import torch

from cinegen.common.errors import InputError
from cinegen.dit import DIT_PRESETS, DiT, DiTConfig, dit_small, dit_tiny
from cinegen.dit.rope import rope_freqs


def _inputs(b=2, c=4, shape=(3, 6, 10), L=5, text_dim=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, c, *shape, generator=g)
    t = torch.rand(b, shape[0], generator=g)
    text = torch.randn(b, L, text_dim, generator=g)
    return x, t, text


def _randomize(model, seed=0):
    """Break adaLN-Zero's zeros so every path matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)
    return model


@pytest.mark.parametrize("shape", [(1, 2, 2), (3, 6, 10), (5, 10, 4), (2, 14, 6), (1, 16, 16)])
def test_output_shape_any_size_and_aspect(shape):
    torch.manual_seed(0)
    model = _randomize(DiT(dit_tiny(in_channels=4, text_dim=32)))
    x, t, text = _inputs(shape=shape)
    v = model(x, t, text)
    assert v.shape == x.shape and torch.isfinite(v).all()


def test_temporal_patch_and_out_channels():
    model = _randomize(DiT(dit_tiny(in_channels=4, out_channels=6, patch_size=(2, 2, 2), text_dim=32)))
    x, t, text = _inputs(shape=(4, 4, 6))
    assert model(x, t, text).shape == (2, 6, 4, 4, 6)


def test_config_checks_and_round_trip():
    cfg = dit_small()
    assert DiTConfig.from_dict(cfg.to_dict()) == cfg
    assert DiTConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(InputError):
        DiTConfig(dim=64, heads=5)
    with pytest.raises(InputError):
        DiTConfig(dim=12, heads=4)  # head_dim 3: too small for 3D RoPE
    with pytest.raises(InputError):
        DiTConfig(patch_size=(1, 2))
    with pytest.raises(InputError):
        DiTConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    assert set(DIT_PRESETS) == {"tiny", "small", "base"}
    assert 5e6 < DiT(dit_small()).num_params() < 15e6


def test_bad_inputs_are_input_errors():
    model = DiT(dit_tiny(in_channels=4, text_dim=32))
    x, t, text = _inputs(shape=(3, 6, 10))
    with pytest.raises(InputError):
        model(x[:, :, :, :5], t, text)  # odd height with patch 2
    with pytest.raises(InputError):
        model(x, t[:, :2], text)
    with pytest.raises(InputError):
        model(x, t, text[..., :16])
    with pytest.raises(InputError):
        model(x[:, :3], t, text)


def test_fresh_blocks_are_identity_and_output_is_zero():
    model = DiT(dit_tiny(in_channels=4, text_dim=32))
    x, t, text = _inputs()
    z = torch.randn(2, 3 * 3 * 5, 64)
    ctx = torch.randn(2, 5, 64)
    mod = torch.randn(2, 3, 6, 64)  # even with nonzero time modulation: the zero table and zero time_mod
    rope = rope_freqs((3, 3, 5), 16)
    for block in model.blocks:
        # adaLN-Zero: gates start at 0 and the cross-attention output projection at 0.
        m = torch.zeros_like(mod)
        assert torch.equal(block(z, ctx, None, m, rope), z)
    assert torch.equal(model(x, t, text), torch.zeros_like(x))


def test_per_frame_time_is_local_to_its_frame_before_attention():
    """Changing one frame's t changes the output; a shared (B,) t equals a constant (B, T) t."""
    torch.manual_seed(1)
    model = _randomize(DiT(dit_tiny(in_channels=4, text_dim=32)))
    x, t, text = _inputs()
    t_const = torch.full((2, 3), 0.7)
    assert torch.allclose(model(x, torch.full((2,), 0.7), text), model(x, t_const, text), atol=1e-6)
    t2 = t_const.clone()
    t2[:, 1] = 0.0
    assert not torch.allclose(model(x, t2, text), model(x, t_const, text), atol=1e-4)


def test_text_mask_ignores_padding_and_pooled_text_switch():
    torch.manual_seed(2)
    for pooled in (True, False):
        model = _randomize(DiT(dit_tiny(in_channels=4, text_dim=32, pooled_text=pooled)))
        x, t, text = _inputs(L=4)
        mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
        v = model(x, t, text, mask)
        junk = text.clone()
        junk[0, 2:] = 100.0  # padding content must not matter
        assert torch.allclose(model(x, t, junk, mask), v, atol=1e-5)
        assert torch.allclose(model(x, t, text[:, :2], None)[0], v[0], atol=1e-5)
        # A row with no tokens is "no text": finite, and blind to whatever the padding holds.
        empty = torch.zeros(2, 4, dtype=torch.bool)
        v_empty = model(x, t, text, empty)
        assert torch.isfinite(v_empty).all()
        assert torch.allclose(model(x, t, torch.randn_like(text) * 50, empty), v_empty, atol=1e-5)
        assert not torch.allclose(v_empty, model(x, t, text, None), atol=1e-3)
    assert DiT(dit_tiny(pooled_text=False)).pooled_embed is None


def test_gradients_reach_every_parameter_after_one_step():
    torch.manual_seed(3)
    model = DiT(dit_tiny(in_channels=4, text_dim=32))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, t, text = _inputs()
    for _ in range(2):  # step 1 opens out_proj; step 2 the zero-initialised gates behind it
        opt.zero_grad()
        (model(x, t, text) - x).pow(2).mean().backward()
        opt.step()
    opt.zero_grad()
    (model(x, t, text) - x).pow(2).mean().backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().max() == 0]
    assert dead == []


def test_frame_positions_default_and_gap():
    torch.manual_seed(0)
    model = _randomize(DiT(dit_tiny(in_channels=4, text_dim=32))).eval()
    x, t, text = _inputs(shape=(3, 6, 10))
    base = model(x, t, text)
    assert torch.allclose(model(x, t, text, frame_pos=torch.arange(3.0)), base, atol=1e-6)
    # shifting every frame by the same amount changes nothing (RoPE sees offsets only) ...
    assert torch.allclose(model(x, t, text, frame_pos=torch.arange(3.0) + 7), base, atol=1e-5)
    # ... but a gap between frame 0 and the rest does
    assert not torch.allclose(model(x, t, text, frame_pos=torch.tensor([0.0, 5.0, 6.0])), base, atol=1e-3)
    with pytest.raises(InputError):
        model(x, t, text, frame_pos=torch.arange(2.0))


def test_x0_prediction_is_the_same_head_read_as_clean_latents():
    """prediction="x0": the head's output is x0, and forward returns the velocity (x_t − x0) / t it implies."""
    cfg = dit_tiny(in_channels=4, text_dim=32)
    v_model = _randomize(DiT(cfg))
    x0_model = DiT(DiTConfig(**{**cfg.to_dict(), "prediction": "x0"}))
    x0_model.load_state_dict(v_model.state_dict())
    x, t, text = _inputs()
    t = t.clamp(min=0.1)
    head = v_model(x, t, text)  # the v model returns its head as is
    v = x0_model(x, t, text)
    torch.testing.assert_close(v, (x - head) / t[:, None, :, None, None], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x - t[:, None, :, None, None] * v, head, rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError, match="prediction"):
        DiTConfig(prediction="eps")


def test_bf16_weights_run_and_stay_near_fp32():
    """A GPU runs the DiT in bf16 (Wan folders on CUDA): its time features are cast to the weights' dtype."""
    model = _randomize(DiT(dit_tiny()))  # the zero-initialised head would hide any difference
    x, t, text = _inputs(b=1, c=model.cfg.in_channels, shape=(2, 8, 8), text_dim=model.cfg.text_dim)
    with torch.no_grad():
        ref = model(x, t, text)
        half = model.to(torch.bfloat16)(x.bfloat16(), t, text.bfloat16())
    assert half.dtype == torch.bfloat16
    assert (half.float() - ref).abs().mean() < 0.05 * ref.abs().mean()
