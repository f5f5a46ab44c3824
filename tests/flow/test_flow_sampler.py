"""Euler sampler: exact on constant velocity, equal to diffusers' scheduler, holds condition frames."""
import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from cinegen.common.errors import InputError
from cinegen.flow import add_noise, cfg_velocity, sample_euler, sample_flowedit, time_grid
from cinegen.flow.guidance import project_guidance


def test_constant_velocity_integrates_exactly():
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(2, 3, 4, 5, 5, generator=g, dtype=torch.float64)
    eps = torch.randn(2, 3, 4, 5, 5, generator=g, dtype=torch.float64)
    # On the straight path the true velocity is constant: any grid lands exactly on x0.
    out = sample_euler(lambda x, t: eps - x0, eps, time_grid(7, shift=3.0).double())
    assert torch.allclose(out, x0, atol=1e-12)
    # Started part-way (an edit) from x_t on the same line, it still lands on x0.
    grid = time_grid(5, shift=2.0, t_start=0.4).double()
    out = sample_euler(lambda x, t: eps - x0, add_noise(x0, eps, torch.full((2,), 0.4, dtype=torch.float64)), grid)
    assert torch.allclose(out, x0, atol=1e-12)


def test_euler_matches_diffusers_flow_match_scheduler():
    g = torch.Generator().manual_seed(1)
    w = torch.randn(3, 3, generator=g) * 0.5

    def model_fn(x, t):  # nonlinear in x and t, so any slip in t or dt shows
        return torch.einsum("ij,bjthw->bithw", w, torch.tanh(x)) * (1 + t[:, None, :, None, None]) + t.mean()

    noise = torch.randn(1, 3, 2, 4, 4, generator=g)
    grid = time_grid(12, shift=3.0)
    ours = sample_euler(model_fn, noise, grid)

    sched = FlowMatchEulerDiscreteScheduler(shift=1.0)  # sigmas passed explicitly: no second shift
    sched.set_timesteps(sigmas=grid[:-1].tolist())
    assert torch.allclose(sched.sigmas, grid)
    x = noise.clone()
    for ts in sched.timesteps:
        sigma = ts / 1000.0
        v = model_fn(x, sigma.expand(1, 2))
        x = sched.step(v, ts, x).prev_sample
    assert torch.allclose(ours, x, atol=1e-5), (ours - x).abs().max()


def test_condition_frames_held_exactly_and_seen_clean():
    g = torch.Generator().manual_seed(2)
    noise = torch.randn(2, 3, 5, 4, 4, generator=g)
    cond = torch.randn(2, 3, 5, 4, 4, generator=g)
    mask = torch.tensor([True, False, False, False, True])
    seen = []

    def model_fn(x, t):
        seen.append((x.clone(), t.clone()))
        return torch.randn(x.shape, generator=g) * 3

    steps = []
    out = sample_euler(model_fn, noise, time_grid(6, 3.0), cond, mask, callback=lambda i, n, x: steps.append((i, n)))
    assert torch.equal(out[:, :, 0], cond[:, :, 0]) and torch.equal(out[:, :, 4], cond[:, :, 4])
    assert not torch.allclose(out[:, :, 2], cond[:, :, 2])
    for x, t in seen:
        assert torch.equal(x[:, :, 0], cond[:, :, 0]) and torch.equal(x[:, :, 4], cond[:, :, 4])
        assert (t[:, 0] == 0).all() and (t[:, 4] == 0).all() and (t[:, 1:4] > 0).all()
    assert steps == [(i, 6) for i in range(6)]


def test_cfg_scale_one_is_conditional_and_guidance_formula():
    g = torch.Generator().manual_seed(3)
    w = torch.randn(4, 3, generator=g)

    def model(x, t, text, mask):  # depends on the masked mean of the text, so padding must be masked
        m = mask.float()[..., None]
        pooled = (text * m).sum(1) / m.sum(1)  # (B, E)
        return x * (pooled @ w)[:, :, None, None, None] + t[:, None, :, None, None]

    x = torch.randn(2, 3, 2, 3, 3, generator=g)
    t = torch.rand(2, 2, generator=g)
    text = torch.randn(2, 5, 4, generator=g)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    neg = torch.randn(1, 2, 4, generator=g)  # shorter, batch 1: padded and broadcast
    v_cond = model(x, t, text, mask)
    v_neg = model(x, t, neg.expand(2, -1, -1), torch.ones(2, 2, dtype=torch.bool))
    assert torch.allclose(cfg_velocity(model, text, mask, neg, None, 1.0)(x, t), v_cond, atol=1e-6)
    assert torch.allclose(cfg_velocity(model, text, mask, neg, None, 0.0)(x, t), v_neg, atol=1e-6)
    guided = cfg_velocity(model, text, mask, neg, None, 5.0)(x, t)
    assert torch.allclose(guided, v_neg + 5.0 * (v_cond - v_neg), atol=1e-5)
    calls = []
    cfg_velocity(lambda *a: calls.append(a[0].shape) or model(*a), text, mask, neg, None, 5.0)(x, t)
    assert calls == [torch.Size([4, 3, 2, 3, 3])], "one batched call"
    # guidance interval: outside it, one conditional call of batch B; inside, the guided result
    calls.clear()
    spy = lambda *a: calls.append(a[0].shape) or model(*a)  # noqa: E731
    low = cfg_velocity(spy, text, mask, neg, None, 5.0, interval=(0.5, 1.0))(x, t * 0.4)
    assert calls == [torch.Size([2, 3, 2, 3, 3])] and torch.allclose(low, model(x, t * 0.4, text, mask), atol=1e-6)
    inside = cfg_velocity(model, text, mask, neg, None, 5.0, interval=(0.0, 1.0))(x, t)
    assert torch.allclose(inside, guided, atol=1e-6)
    with pytest.raises(InputError):
        cfg_velocity(model, text, mask, neg, None, 5.0, interval=(0.8, 0.2))


def test_projected_guidance_removes_only_the_part_along_each_frames_clean_estimate():
    g = torch.Generator().manual_seed(5)
    x, v, dv = (torch.randn(2, 3, 4, 5, 5, generator=g) for _ in range(3))
    t = torch.rand(2, 4, generator=g)
    x0 = x - t[:, None, :, None, None] * v
    dot = lambda a, b: (a * b).sum(dim=(1, 3, 4))  # noqa: E731  (B, T): per sample and frame
    kept = project_guidance(dv, x, t, v, parallel=0.0)
    assert dot(kept, x0).abs().max() < 1e-4, "nothing left along x0, frame by frame"
    assert torch.allclose(kept - dv, (dot(kept - dv, x0) / dot(x0, x0))[:, None, :, None, None] * x0, atol=1e-5)
    assert torch.allclose(project_guidance(dv, x, t, v, parallel=1.0), dv, atol=1e-6)
    half = project_guidance(dv, x, t, v, parallel=0.5)
    assert torch.allclose(half, (kept + dv) / 2, atol=1e-5)
    # a guidance along x0 alone (a pure change of contrast/colour scale) is removed whole
    assert project_guidance(3.0 * x0, x, t, v, parallel=0.0).abs().max() < 1e-4


def test_cfg_with_projection_is_the_conditional_plus_the_projected_difference():
    g = torch.Generator().manual_seed(6)

    def model(x, t, text, mask):  # text[:, 0] picks the conditional or the negative weight
        return x * text[:, 0, 0, None, None, None, None] + t[:, None, :, None, None]

    x, t = torch.randn(1, 3, 2, 3, 3, generator=g), torch.rand(1, 2, generator=g)
    text, neg = torch.full((1, 1, 4), 0.5), torch.full((1, 1, 4), -1.0)
    v_c, v_n = model(x, t, text, None), model(x, t, neg, None)
    apg = cfg_velocity(model, text, None, neg, None, 4.0, parallel=0.0)(x, t)
    assert torch.allclose(apg, v_c + 3.0 * project_guidance(v_c - v_n, x, t, v_c, 0.0), atol=1e-5)
    assert not torch.allclose(apg, v_n + 4.0 * (v_c - v_n), atol=1e-3)
    with pytest.raises(InputError):
        cfg_velocity(model, text, None, neg, None, 4.0, parallel=1.5)


def _point_mass(y: torch.Tensor):
    """The exact rectified-flow velocity when all data is the single point y: v = (x − y) / t."""
    return lambda x, t: (x - y) / t[:, None, :, None, None].clamp(min=1e-6)


def test_flowedit_with_the_same_model_for_both_prompts_leaves_the_source_as_it_is():
    g = torch.Generator().manual_seed(0)
    x_src = torch.randn(1, 3, 2, 4, 4, generator=g)
    model = lambda x, t: torch.tanh(x) * t[:, None, :, None, None]  # noqa: E731  any model at all
    out = sample_flowedit(model, model, x_src, time_grid(8, 3.0, t_start=0.8), torch.Generator().manual_seed(1))
    assert torch.allclose(out, x_src, atol=1e-6)  # exactly, but for rounding in x + z_src − x_src


def test_flowedit_between_two_point_masses_lands_on_the_target_from_any_start():
    g = torch.Generator().manual_seed(0)
    x_src, y = torch.randn(1, 3, 2, 4, 4, generator=g), torch.randn(1, 3, 2, 4, 4, generator=g)
    for t_max in (1.0, 0.5):
        out = sample_flowedit(_point_mass(x_src), _point_mass(y), x_src, time_grid(6, 3.0, t_start=t_max),
                              torch.Generator().manual_seed(2), n_avg=2)
        assert torch.allclose(out, y, atol=1e-5)


def test_flowedit_holds_condition_frames_at_the_edits_own_values():
    g = torch.Generator().manual_seed(0)
    x_src, y = torch.randn(1, 3, 3, 4, 4, generator=g), torch.randn(1, 3, 3, 4, 4, generator=g)
    given = torch.randn(1, 3, 3, 4, 4, generator=g)
    seen = []
    src = lambda x, t: (seen.append(x[:, :, 0].clone()), _point_mass(x_src)(x, t))[1]  # noqa: E731
    mask = torch.tensor([True, False, False])
    out = sample_flowedit(src, _point_mass(y), x_src, time_grid(4), torch.Generator().manual_seed(3),
                          tar_given=given, cond_mask=mask)
    assert torch.equal(out[:, :, 0], given[:, :, 0])
    assert all(torch.equal(s, x_src[:, :, 0]) for s in seen)  # the source branch sees the source's frame
    assert torch.allclose(out[:, :, 1:], y[:, :, 1:], atol=1e-5)
