"""The UniPC multistep sampler for rectified flow, over the `v = model_fn(x, t)` contract.

UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
Diffusion Models", Alg. 2 with B(h) = e^h − 1, "bh2") in data prediction, as diffusers'
UniPCMultistepScheduler runs it for Wan (prediction_type="flow_prediction", use_flow_sigmas):
step for step the same numbers (tests/flow/test_flow_unipc.py).

In cinegen's time convention (objective.py) x_t = (1 − t)·x0 + t·ε, so α_t = 1 − t, σ_t = t and
the half log-SNR is λ_t = log(1 − t) − log(t). Each model call gives the clean estimate
m = x − t·v. At step i the corrector (UniC) first refines x_i with m_i, then the predictor (UniP)
extrapolates from m_i, m_{i−1}, … to x_{i+1}; both are exact for x0 polynomial in λ up to their
order. The first steps warm up at lower order; with lower_order_final the last steps go down to
order 1, and the step onto t = 0 is always order 1: it returns m itself.

Wan's grid is diffusers' own (flow_sigmas): its model sees the integer timestep floor(1000·σ),
so `model_times` may differ from the grid the solver integrates on.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from cinegen.common.errors import InputError
from cinegen.flow.objective import ModelFn
from cinegen.flow.sampler import Callback, _check_grid, hold

T_MAX = 1.0 - 1e-6  # λ is infinite at t = 1: the coefficients use this instead (diffusers nudges σ_0 the same)


def flow_sigmas(steps: int, shift: float = 1.0, num_train_timesteps: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """diffusers' UniPC flow schedule: (grid (steps + 1,), model_times (steps,)), both float32.

    σ = linspace(1, 1/N, steps + 1)[:-1], shifted s·σ / (1 + (s − 1)·σ), σ_0 = 1 moved to 1 − 1e-6,
    then a final 0 (final_sigmas_type="zero"). The model is called at the integer timestep
    floor(N·σ) that the scheduler hands WanPipeline, given here as a time in [0, 1): floor(N·σ) / N.
    This is the grid of diffusers >= 0.37; earlier versions ran σ from shift(1 − 1/N) down to
    shift((1 − 1/N) / steps).
    """
    if steps < 1:
        raise InputError(f"steps must be >= 1, got {steps}")
    if shift <= 0 or num_train_timesteps < 1:
        raise InputError(f"shift must be > 0 and num_train_timesteps >= 1, got {shift}, {num_train_timesteps}")
    n = num_train_timesteps
    sigmas = np.linspace(1, 1 / n, steps + 1)[:-1]  # float64, as diffusers computes it
    sigmas = shift * sigmas / (1 + (shift - 1) * sigmas)
    if abs(sigmas[0] - 1) < 1e-6:
        sigmas[0] -= 1e-6
    timesteps = torch.from_numpy(sigmas * n).to(torch.int64)  # truncation, like the scheduler's .to(int64)
    grid = torch.from_numpy(np.concatenate([sigmas, [0.0]]).astype(np.float32))
    return grid, timesteps.to(torch.float32) / n


def _lambda(t: float) -> float:
    """Half log-SNR of x_t = (1 − t)·x0 + t·ε."""
    t = min(t, T_MAX)
    return math.log(1.0 - t) - math.log(t)


def _bh2(
    x: torch.Tensor,
    t_from: float,
    t_to: float,
    m0: torch.Tensor,
    history: list[tuple[float, torch.Tensor]],
    order: int,
    m_to: torch.Tensor | None = None,
) -> torch.Tensor:
    """One UniPC update of x from time t_from to t_to (> 0) in data prediction, B(h) = e^h − 1.

    m0: the clean estimate at t_from; history: earlier (t_k, m_k), newest first, order − 1 of them used.
    m_to None gives the predictor UniP-order; with m_to (the clean estimate at t_to) the corrector UniC-order.
    """
    lam_from, lam_to = _lambda(t_from), _lambda(t_to)
    h = lam_to - lam_from
    rks, d1s = [], []
    for t_k, m_k in history[: order - 1]:
        rk = (_lambda(t_k) - lam_from) / h
        rks.append(rk)
        d1s.append((m_k - m0) / rk)
    rks.append(1.0)
    hh = -h  # data prediction
    h_phi_1 = math.expm1(hh)  # e^{−h} − 1
    b_h = math.expm1(hh)  # bh2
    h_phi_k, factorial = h_phi_1 / hh - 1.0, 1
    r_rows, b = [], []
    for k in range(1, order + 1):
        r_rows.append([r ** (k - 1) for r in rks])
        b.append(h_phi_k * factorial / b_h)
        factorial *= k + 1
        h_phi_k = h_phi_k / hh - 1.0 / factorial
    r_mat, b_vec = torch.tensor(r_rows, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    alpha_to = 1.0 - t_to
    x_lin = (t_to / t_from) * x - (alpha_to * h_phi_1) * m0
    if m_to is None:  # UniP
        if not d1s:
            return x_lin
        rhos = [0.5] if order == 2 else torch.linalg.solve(r_mat[:-1, :-1], b_vec[:-1]).tolist()
        res = sum(r * d for r, d in zip(rhos, d1s))
        return x_lin - (alpha_to * b_h) * res
    rhos = [0.5] if order == 1 else torch.linalg.solve(r_mat, b_vec).tolist()  # UniC
    res = sum((r * d for r, d in zip(rhos[:-1], d1s)), torch.zeros_like(x))
    return x_lin - (alpha_to * b_h) * (res + rhos[-1] * (m_to - m0))


@torch.no_grad()
def sample_unipc(
    model_fn: ModelFn,
    noise: torch.Tensor,
    grid: torch.Tensor,
    cond_latents: torch.Tensor | None = None,
    cond_mask: torch.Tensor | None = None,
    callback: Callback | None = None,
    order: int = 2,
    lower_order_final: bool = True,
    model_times: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integrate from grid[0] down to grid[-1] (= 0) with UniPC-`order` (bh2): one model call per step.

    The arguments are sample_euler's: noise (B, C, T, H, W) is x at t = grid[0]; frames where
    cond_mask is True are set to cond_latents and held there with t = 0. `model_times` (steps,),
    if given, are the times the model is called at instead of grid[:-1] (Wan: flow_sigmas).
    The solver's arithmetic runs in x's dtype with float64 coefficients.
    """
    _check_grid(grid)
    if noise.ndim != 5:
        raise InputError(f"noise must be (B, C, T, H, W), got {tuple(noise.shape)}")
    if order < 1:
        raise InputError(f"order must be >= 1, got {order}")
    n = grid.numel() - 1
    if model_times is not None and tuple(model_times.shape) != (n,):
        raise InputError(f"model_times must be ({n},) for a grid of {n + 1} times, got {tuple(model_times.shape)}")
    b, nt = noise.shape[0], noise.shape[2]
    x, held, keep = hold(noise.clone(), cond_latents, cond_mask)
    grid = grid.to(torch.float32)
    times = grid[:-1] if model_times is None else model_times.to(torch.float32)
    sig = grid.tolist()  # host copies: the coefficients are plain floats
    history: list[tuple[float, torch.Tensor]] = []  # (t_k, m_k), newest first
    x_prev, order_prev = None, 0
    for i in range(n):
        t = times[i].to(x.device).expand(b, nt)  # (B, T)
        if held is not None:
            t = t.masked_fill(held, 0.0)
        v = model_fn(x, t)
        m = x - grid[i].to(x.device) * v  # clean estimate from the uncorrected x_i
        if x_prev is not None:  # UniC: refine x_i with m_i, at the order of the step that made it
            x = _bh2(x_prev, sig[i - 1], sig[i], history[0][1], history[1:], order_prev, m_to=m)
        history = [(sig[i], m)] + history[: order - 1]
        step_order = min(order, n - i) if lower_order_final else order
        step_order = min(step_order, i + 1)  # warm-up: as many earlier estimates as there are
        x_prev, order_prev = x, step_order
        if sig[i + 1] == 0.0:
            x = m  # UniP onto t = 0 at order 1 (higher orders divide by an infinite step there)
        else:
            x = _bh2(x, sig[i], sig[i + 1], m, history[1:], step_order)
        if held is not None:
            x = torch.where(keep, cond_latents.to(x.dtype), x)  # exactly the condition, every step
        if callback is not None:
            callback(i, n, x)
    return x
