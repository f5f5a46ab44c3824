"""optimizer=muon: Muon takes the DiT blocks' matrices, AdamW the rest; it trains, checkpoints and resumes exactly."""
import dataclasses

import pytest
import torch

from cinegen.common.checkpoint import load_state
from cinegen.common.errors import InputError
from cinegen.pipeline.tiny import make_tiny_checkpoint
from cinegen.train.config import TrainConfig
from cinegen.train.optim import Muon32, Optimizers, make_optimizer, muon_matrices
from cinegen.train.recipes import tiny_dit
from cinegen.train.trainer import train


def test_muon_takes_the_blocks_matrices_and_adamw_the_rest():
    from cinegen.dit import DiT, dit_tiny

    model = DiT(dit_tiny())
    cfg = TrainConfig(kind="dit", optimizer="muon")
    opt = make_optimizer(cfg, model, list(model.parameters()))
    muon, adamw = opt.opts
    assert isinstance(opt, Optimizers) and isinstance(muon, torch.optim.Muon) and isinstance(adamw, torch.optim.AdamW)
    assert type(muon) is Muon32  # CPU parameters: the fp32 Newton–Schulz
    in_muon = {id(p) for g in muon.param_groups for p in g["params"]}
    names = {id(p): n for n, p in model.named_parameters()}
    assert in_muon == muon_matrices(model) and all(names[i].startswith("blocks.") for i in in_muon)
    assert any(n.endswith("ffn.fc1.weight") for n in map(names.get, in_muon))
    rest = [names[id(p)] for g in adamw.param_groups for p in g["params"]]
    assert "out_proj.weight" in rest and "patch_embed.weight" in rest
    assert len(in_muon) + len(rest) == len(list(model.parameters()))  # each parameter in exactly one
    plain = make_optimizer(dataclasses.replace(cfg, optimizer="adamw"), model, list(model.parameters()))
    assert type(plain) is torch.optim.AdamW


@pytest.mark.parametrize("adjust", ["match_rms_adamw", "original"])
@pytest.mark.parametrize("shape", [(48, 32), (32, 48)])
def test_muon32_makes_torchs_muon_update_in_fp32(adjust, shape):
    torch.manual_seed(0)
    w0 = torch.randn(shape)
    grads = [torch.randn(shape) for _ in range(3)]
    ps = {}
    for cls in (torch.optim.Muon, Muon32):
        p = torch.nn.Parameter(w0.clone())
        opt = cls([p], lr=0.02, weight_decay=0.1, adjust_lr_fn=adjust)
        for g in grads:  # momentum carries across steps
            p.grad = g.clone()
            opt.step()
        ps[cls] = p.detach()
    ref, ours = ps[torch.optim.Muon] - w0, ps[Muon32] - w0
    assert ours.norm() > 0.1 * w0.norm() * 0.02  # it moved
    # torch orthogonalises in bf16 (~3 significant digits); the two updates agree to that precision
    assert (ours - ref).norm() / ref.norm() < 0.02
    state = opt.state_dict()["state"][0]["momentum_buffer"]
    assert torch.allclose(state, grads[2] * 0.05 + grads[1] * 0.05 * 0.95 + grads[0] * 0.05 * 0.95**2, atol=1e-6)


def test_muon_settings_are_checked():
    with pytest.raises(InputError, match="optimizer must be"):
        TrainConfig(kind="dit", optimizer="sgd")
    with pytest.raises(InputError, match="optimizer=muon"):
        TrainConfig(kind="vae", optimizer="muon")
    with pytest.raises(InputError, match="optimizer=muon"):
        TrainConfig(kind="dit", optimizer="muon", parallel="fsdp")


def test_a_muon_run_moves_the_matrices_and_resumes_exactly_after_a_kill(tmp_path):
    vae = make_tiny_checkpoint(tmp_path / "tiny")
    cfg = dataclasses.replace(tiny_dit(str(vae)), optimizer="muon", steps=6, ckpt_every=3, log_every=1, cache_clips=8)
    res = train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False, stop_at=3)  # "killed" after the step-3 checkpoint
    train(cfg, tmp_path / "b", progress=False)
    a, b = load_state(tmp_path / "a/ckpt", "model"), load_state(tmp_path / "b/ckpt", "model")
    assert res["done"] and all(torch.equal(a[k], b[k]) for k in a)
    # lr 0: the initial weights
    start = train(dataclasses.replace(cfg, steps=1, lr=0.0), tmp_path / "c", progress=False)
    assert start["done"]
    c = load_state(tmp_path / "c/ckpt", "model")
    assert not torch.equal(a["blocks.0.ffn.fc1.weight"], c["blocks.0.ffn.fc1.weight"])  # Muon moved the matrices
