"""End to end: a tiny DiT memorises one clip with the flow loss and the Euler sampler brings it back."""
import torch

from cinegen.dit import DiT, dit_tiny
from cinegen.flow import cfg_velocity, flow_loss, sample_euler, sample_train_t, time_grid


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    peak = b.abs().max()
    return (10 * torch.log10(peak**2 / (a - b).pow(2).mean())).item()


def test_tiny_dit_overfits_one_clip_and_sampling_reproduces_it():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    clip = torch.randn(1, 4, 3, 4, 4, generator=g)  # stand-in latents: 3 frames of 4×4, 12 tokens
    text = torch.randn(1, 3, 16, generator=g)
    model = DiT(dit_tiny(in_channels=4, text_dim=16))
    opt = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.0)
    batch = 16
    x0 = clip.expand(batch, -1, -1, -1, -1)
    txt = text.expand(batch, -1, -1)

    def model_fn(x, t):
        return model(x, t, txt[: x.shape[0]])

    for step in range(150):
        t = sample_train_t(batch, 3, 12, g, shift=1.0)
        loss = flow_loss(model_fn, x0, torch.randn(x0.shape, generator=g), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()

    noise = torch.randn(4, 4, 3, 4, 4, generator=g)
    with torch.no_grad():
        out = sample_euler(model_fn, noise, time_grid(20, shift=1.0))
    target = clip.expand_as(out)
    baseline = _psnr(torch.zeros_like(target), target)  # predicting the mean (0)
    noise_psnr = _psnr(noise, target)
    got = _psnr(out, target)
    assert got > baseline + 8 and got > noise_psnr + 8, (got, baseline, noise_psnr)


def test_dit_with_guidance_and_held_frames_in_the_sampler():
    """The DiT plugs into cfg_velocity + sample_euler: image-to-video keeps the first latent frame exact."""
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(1)
    model = DiT(dit_tiny(in_channels=4, text_dim=16)).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    text, neg = torch.randn(2, 5, 16, generator=g), torch.randn(1, 2, 16, generator=g)
    mask = torch.ones(2, 5, dtype=torch.bool)
    cond = torch.randn(2, 4, 3, 4, 6, generator=g)
    held = torch.tensor([True, False, False])
    fn = cfg_velocity(model, text, mask, neg, None, 4.0)
    out = sample_euler(fn, torch.randn(cond.shape, generator=g), time_grid(4, 3.0), cond, held)
    assert torch.equal(out[:, :, 0], cond[:, :, 0])
    assert torch.isfinite(out).all() and not torch.allclose(out[:, :, 1:], cond[:, :, 1:], atol=1e-2)
