"""Rectified flow: objective, time schedules, the Euler and UniPC samplers and classifier-free guidance.

Pure functions over the `v = model_fn(x, t)` contract; no model is imported here.
Time convention (objective.py): t = 0 clean, t = 1 noise, x_t = (1 − t)·x0 + t·ε, v = ε − x0.
"""
from cinegen.flow.guidance import cfg_velocity
from cinegen.flow.objective import (CLEAN_MODES, add_noise, flow_loss, foreground_weights, sample_clean_mask,
                                    velocity_target)
from cinegen.flow.sampler import sample_euler, sample_flowedit
from cinegen.flow.schedule import sample_train_t, shift_for_tokens, time_grid, time_shift
from cinegen.flow.unipc import flow_sigmas, sample_unipc

__all__ = [
    "add_noise",
    "velocity_target",
    "sample_train_t",
    "time_shift",
    "shift_for_tokens",
    "time_grid",
    "sample_clean_mask",
    "flow_loss",
    "foreground_weights",
    "sample_euler",
    "sample_flowedit",
    "sample_unipc",
    "flow_sigmas",
    "cfg_velocity",
    "CLEAN_MODES",
]
