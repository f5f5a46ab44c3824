"""The VAE objective, and a tiny VAE that learns to reconstruct moving world clips."""
import numpy as np
import pytest
import torch

from cinegen.vae import VideoVAE, vae_tiny
from cinegen.vae.loss import vae_loss
from cinegen.vae.model import DiagonalGaussian


def _post(mean: float = 0.0, logvar: float = 0.0) -> DiagonalGaussian:
    return DiagonalGaussian(torch.full((1, 4, 2, 2, 2), mean), torch.full((1, 4, 2, 2, 2), logvar))


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    assert _post().kl().item() == pytest.approx(0.0, abs=1e-7)
    assert _post(mean=1.0).kl().item() == pytest.approx(0.5)
    assert _post(logvar=-2.0).kl().item() > 0


def test_loss_parts_and_weights():
    g = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 5, 8, 8, generator=g) * 2 - 1
    loss, parts = vae_loss(target.clone(), target, _post(), kl_weight=1.0)
    assert loss.item() == pytest.approx(0.0, abs=1e-6) and parts["l1"] == 0.0
    recon = target + 0.1
    loss, parts = vae_loss(recon, target, _post(mean=1.0), kl_weight=0.0, mse_weight=0.0, edge_weight=0.0)
    assert loss.item() == pytest.approx(0.1, abs=1e-5)
    assert parts["edge"] == pytest.approx(0.0, abs=1e-5)  # a constant shift has the target's edges
    assert parts["kl"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        vae_loss(recon[:, :, :1], target, _post())


def test_foreground_weight_makes_a_greyed_small_object_cost_more():
    from cinegen.vae.loss import pixel_weights

    target = torch.full((1, 3, 1, 16, 16), -0.4)  # a plain wall ...
    target[:, :, :, 4:6, 4:6] = torch.tensor([-1.0, 0.8, -1.0]).view(1, 3, 1, 1, 1)  # ... and a small green square
    w = pixel_weights(target, 8.0)
    assert w[0, 0, 0, 4, 4] == pytest.approx(9.0) and w[0, 0, 0, 0, 0] == pytest.approx(1.0)
    grey = target.clone()
    grey[:, :, :, 4:6, 4:6] = -0.4  # the object washed into the wall
    wall = target + 0.05  # every pixel a little off
    plain = [vae_loss(r, target, _post(), kl_weight=0, edge_weight=0)[0].item() for r in (grey, wall)]
    weighted = [vae_loss(r, target, _post(), kl_weight=0, edge_weight=0, fg_weight=8.0)[0].item() for r in (grey, wall)]
    assert plain[0] < plain[1]  # a plain mean prefers losing the object ...
    assert weighted[0] > weighted[1]  # ... the weighted one does not
    assert torch.equal(pixel_weights(target, 0.0), torch.ones_like(target[:, :1]))


def test_edge_term_penalises_blur_and_flicker():
    x = -torch.ones(1, 3, 5, 8, 8)
    x[..., 2:6, 2:6] = 1.0  # a sharp square
    blurred = torch.nn.functional.avg_pool3d(x, (1, 3, 3), stride=1, padding=(0, 1, 1), count_include_pad=False)
    flicker = x.clone()
    flicker[:, :, 1::2] *= 0.8
    _, sharp = vae_loss(x, x, _post())
    _, blur = vae_loss(blurred, x, _post())
    _, flick = vae_loss(flicker, x, _post())
    assert sharp["edge"] == 0.0 < blur["edge"] and flick["edge"] > 0.0


def _world_clips(n: int, frames: int, size: int) -> torch.Tensor:
    from cinegen.world import render, sample_scene

    clips = [render(sample_scene(s), size, size, fps=8, n_frames=frames).frames for s in range(n)]
    x = torch.from_numpy(np.stack(clips)).float().div(127.5).sub(1.0)  # (N, T, H, W, 3)
    return x.permute(0, 4, 1, 2, 3).contiguous()  # (N, 3, T, H, W)


def test_tiny_vae_learns_to_reconstruct_world_clips():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread wastes nothing and shares the CPU better
    try:
        x = _world_clips(8, 5, 16)  # 16×16: 2×2 latents, steps cheap enough for a unit test
        torch.manual_seed(0)
        vae = VideoVAE(vae_tiny())
        opt = torch.optim.Adam(vae.parameters(), lr=3e-3)
        g = torch.Generator().manual_seed(0)
        for _ in range(200):
            batch = x[torch.randint(0, len(x), (4,), generator=g)]
            recon, post = vae(batch, g)
            loss, _ = vae_loss(recon, batch, post)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            mse = (vae.decode(vae.encode(x)) - x).pow(2).mean().item()
        baseline = (x - x.mean(dim=(2, 3, 4), keepdim=True)).pow(2).mean().item()  # each clip's mean colour
    finally:
        torch.set_num_threads(threads)
    assert mse < 0.8 * baseline, (mse, baseline)
