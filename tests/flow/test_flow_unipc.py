"""UniPC for flow matching, step for step against diffusers' UniPCMultistepScheduler as Wan configures it."""
import pytest
import torch
from diffusers import UniPCMultistepScheduler

from cinegen.common.errors import InputError
from cinegen.flow import sample_euler, time_grid
from cinegen.flow.unipc import flow_sigmas, sample_unipc

# scheduler/scheduler_config.json of a Wan2.1 T2V diffusers folder (the fields that matter).
WAN_SCHEDULER = dict(
    num_train_timesteps=1000, prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0,
    solver_order=2, solver_type="bh2", predict_x0=True, lower_order_final=True, final_sigmas_type="zero",
    timestep_spacing="linspace",
)


def _velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A smooth, nonlinear, time-dependent velocity: x (B, C, T, H, W), t (B, T) in [0, 1]."""
    tt = t[:, None, :, None, None]
    return torch.sin(1.3 * x + 2.0 * tt) + 0.5 * x * tt - 0.3


def _diffusers(steps: int, noise: torch.Tensor, **cfg) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    sched = UniPCMultistepScheduler(**{**WAN_SCHEDULER, **cfg})
    sched.set_timesteps(steps)
    x, xs = noise.clone(), []
    for ts in sched.timesteps:
        t = (ts.float() / 1000).expand(x.shape[0], x.shape[2])
        x = sched.step(_velocity(x, t), ts, x, return_dict=False)[0]
        xs.append(x)
    return sched.sigmas, sched.timesteps, xs


@pytest.mark.parametrize("steps,shift,order", [(8, 3.0, 2), (3, 3.0, 2), (1, 3.0, 2), (12, 5.0, 2), (7, 1.0, 1),
                                               (9, 3.0, 3)])
def test_matches_diffusers_step_for_step(steps, shift, order):
    noise = torch.randn(2, 4, 3, 5, 6, generator=torch.Generator().manual_seed(steps))
    sigmas, timesteps, ref = _diffusers(steps, noise, flow_shift=shift, solver_order=order)
    grid, model_times = flow_sigmas(steps, shift)
    assert torch.allclose(grid, sigmas, atol=1e-7, rtol=0), (grid - sigmas).abs().max()
    assert torch.equal((model_times * 1000).round().long(), timesteps)
    ours = []
    out = sample_unipc(_velocity, noise, grid, order=order, model_times=model_times,
                       callback=lambda i, n, x: ours.append(x.clone()))
    assert len(ours) == len(ref) == steps
    for i, (a, b) in enumerate(zip(ours, ref)):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5), (i, (a - b).abs().max())
    assert torch.equal(out, ours[-1])


def test_without_lower_order_final_matches_until_the_last_step():
    noise = torch.randn(1, 2, 2, 3, 3, generator=torch.Generator().manual_seed(5))
    _, _, ref = _diffusers(6, noise, lower_order_final=False)
    grid, model_times = flow_sigmas(6, 3.0)
    ours = []
    sample_unipc(_velocity, noise, grid, lower_order_final=False, model_times=model_times,
                 callback=lambda i, n, x: ours.append(x.clone()))
    for a, b in zip(ours[:-1], ref[:-1]):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)
    assert torch.isfinite(ours[-1]).all()  # diffusers' second-order step onto t = 0 is not finite; ours is order 1


def test_constant_velocity_is_integrated_exactly():
    """x_t = (1 − t)·x0 + t·ε has v = ε − x0: every UniPC order recovers x0 exactly, on any grid."""
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(2, 3, 2, 4, 4, generator=g), torch.randn(2, 3, 2, 4, 4, generator=g)
    for grid in (time_grid(5, shift=3.0), flow_sigmas(5, 3.0)[0]):
        x1 = (1 - grid[0]) * x0 + grid[0] * eps
        out = sample_unipc(lambda x, t: eps - x0, x1, grid)
        assert torch.allclose(out, x0, atol=1e-5)


def test_order_one_agrees_with_euler_to_first_order():
    """With many steps, UniPC-1 and Euler converge to the same ODE solution."""
    noise = torch.randn(1, 2, 2, 3, 3, generator=torch.Generator().manual_seed(1))
    grid = time_grid(400, shift=3.0)
    a = sample_unipc(_velocity, noise, grid, order=1)
    b = sample_euler(_velocity, noise, grid)
    assert torch.allclose(a, b, atol=5e-3)


def test_held_frames_stay_exactly_the_condition():
    g = torch.Generator().manual_seed(2)
    noise, cond = torch.randn(2, 3, 4, 4, 4, generator=g), torch.randn(2, 3, 4, 4, 4, generator=g)
    mask = torch.tensor([True, False, False, True])
    seen = []

    def model(x, t):
        seen.append(t.clone())
        return _velocity(x, t)

    out = sample_unipc(model, noise, time_grid(4, shift=3.0), cond_latents=cond, cond_mask=mask)
    assert torch.equal(out[:, :, mask], cond[:, :, mask])
    assert all(bool((t[:, mask] == 0).all()) for t in seen)
    assert len(seen) == 4  # one model call per step


def test_bad_arguments_are_input_errors():
    noise = torch.zeros(1, 2, 1, 2, 2)
    with pytest.raises(InputError):
        sample_unipc(_velocity, noise, torch.tensor([1.0]))
    with pytest.raises(InputError):
        sample_unipc(_velocity, noise, time_grid(3), order=0)
    with pytest.raises(InputError):
        sample_unipc(_velocity, noise, time_grid(3), model_times=torch.zeros(2))
    with pytest.raises(InputError):
        flow_sigmas(0)
