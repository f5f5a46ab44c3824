"""A DiT started from a coarser-patch one computes exactly the coarse model on the upsampled input."""
import pytest
import torch
import torch.nn.functional as F

from cinegen.common.errors import InputError
from cinegen.dit import DiT, dit_tiny
from cinegen.dit.repatch import repatch_state


def test_finer_patches_compute_the_coarse_model_on_a_zoomed_input():
    torch.manual_seed(0)
    coarse = DiT(dit_tiny(in_channels=4, text_dim=16, patch_size=(1, 4, 4)))
    for p in coarse.parameters():  # adaLN-Zero starts at zero: fill everything so the check has teeth
        torch.nn.init.normal_(p, std=0.05)
    fine = DiT(dit_tiny(in_channels=4, text_dim=16, patch_size=(1, 2, 2)))
    fine.load_state_dict(repatch_state(coarse.state_dict(), (1, 4, 4), (1, 2, 2), out_dim=4))
    x, t, text = torch.randn(2, 4, 3, 8, 12), torch.rand(2, 3), torch.randn(2, 5, 16)
    with torch.no_grad():
        want = coarse(F.interpolate(x, scale_factor=(1, 2, 2), mode="nearest"), t, text)
        want = F.avg_pool3d(want, (1, 2, 2))
        got = fine(x, t, text)
    assert got.shape == x.shape
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max()
    assert (got - fine(torch.randn_like(x), t, text)).abs().max() > 1e-3  # it does depend on x


def test_repatch_refuses_what_does_not_divide():
    state = DiT(dit_tiny(in_channels=4, text_dim=16, patch_size=(1, 4, 4))).state_dict()
    with pytest.raises(InputError, match="multiples"):
        repatch_state(state, (1, 4, 4), (1, 3, 3), out_dim=4)
    with pytest.raises(InputError, match="time patch"):
        repatch_state(state, (1, 4, 4), (2, 2, 2), out_dim=4)
