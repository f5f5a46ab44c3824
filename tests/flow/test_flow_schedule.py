"""Time shift, token-dependent shift, training-time sampling and sampling grids."""
import pytest
import torch

from cinegen.common.errors import InputError
from cinegen.flow import sample_train_t, shift_for_tokens, time_grid, time_shift


def test_time_shift_fixes_ends_moves_toward_noise_and_inverts():
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    s = time_shift(t, 3.0)
    assert s[0] == 0 and s[-1] == 1
    assert (s[1:-1] > t[1:-1]).all()
    assert torch.allclose(time_shift(0.5, 3.0) * torch.ones(1), torch.tensor([0.75]))
    assert torch.allclose(time_shift(s, 1 / 3.0), t)
    assert torch.equal(time_shift(t, 1.0), t)
    with pytest.raises(InputError):
        time_shift(t, 0.0)


def test_shift_grows_with_tokens():
    assert shift_for_tokens(144) == pytest.approx(3.0)
    assert shift_for_tokens(576) == pytest.approx(6.0)
    assert shift_for_tokens(1) == 1.0 and shift_for_tokens(10**6) == 8.0
    assert shift_for_tokens(336) > shift_for_tokens(144)


def test_sample_train_t_is_logit_normal_shifted_and_shared_over_frames():
    g = torch.Generator().manual_seed(0)
    t = sample_train_t(20000, 5, 144, g)
    assert t.shape == (20000, 5)
    assert (t == t[:, :1]).all()
    assert ((t > 0) & (t < 1)).all()
    # Undo the shift: the logit is standard normal.
    logit = torch.logit(time_shift(t[:, 0].double(), 1 / 3.0))
    assert abs(logit.mean().item()) < 0.03 and abs(logit.std().item() - 1) < 0.03
    # More tokens -> noisier times.
    g2 = torch.Generator().manual_seed(0)
    assert sample_train_t(2000, 1, 1300, g2).median() > t[:2000, 0].median()


def test_time_grid():
    g = time_grid(10, shift=1.0)
    assert g.shape == (11,) and torch.allclose(g, torch.linspace(1, 0, 11))
    g3 = time_grid(10, shift=3.0)
    assert g3[0] == 1 and g3[-1] == 0 and (g3[1:] < g3[:-1]).all()
    assert torch.allclose(g3, time_shift(torch.linspace(1, 0, 11), 3.0))
    e = time_grid(8, shift=3.0, t_start=0.6)
    assert e[0] == pytest.approx(0.6) and e[-1] == 0 and (e[1:] < e[:-1]).all()
    with pytest.raises(InputError):
        time_grid(0)
    with pytest.raises(InputError):
        time_grid(4, t_start=1.5)
