"""3D RoPE: any grid, the exact Wan rotation, translation equivariance along each axis."""
import pytest
import torch

from cinegen.dit.rope import apply_rope, rope_freqs, rope_split


@pytest.mark.parametrize("grid", [(3, 5, 7), (1, 1, 1), (2, 9, 4), (2, 4, 9), (5, 1, 3)])
def test_rope_any_grid_is_a_rotation(grid):
    hd = 24
    freqs = rope_freqs(grid, hd)
    n = grid[0] * grid[1] * grid[2]
    assert freqs.shape == (n, hd // 2) and freqs.is_complex()
    q = torch.randn(2, n, 3, hd)
    r = apply_rope(q, freqs)
    assert r.shape == q.shape
    assert torch.allclose(r.norm(dim=-1), q.norm(dim=-1), atol=1e-5)  # rotations keep length
    assert torch.allclose(r[:, 0], q[:, 0])  # position (0, 0, 0) is not rotated


def test_rope_equals_real_interleaved_form():
    """The complex multiply is diffusers' Wan rotation: out[0::2] = x1·cos − x2·sin, out[1::2] = x1·sin + x2·cos."""
    freqs = rope_freqs((3, 5, 7), 24)
    x = torch.randn(2, 105, 3, 24)
    cos, sin = freqs.real[None, :, None], freqs.imag[None, :, None]
    x1, x2 = x[..., 0::2], x[..., 1::2]
    ref = torch.empty_like(x)
    ref[..., 0::2] = x1 * cos - x2 * sin
    ref[..., 1::2] = x1 * sin + x2 * cos
    assert torch.allclose(apply_rope(x, freqs), ref, atol=1e-6)


def test_rope_split_matches_wan():
    assert rope_split(128) == (44, 42, 42)  # Wan2.1: t 44, h 42, w 42
    assert rope_split(16) == (8, 4, 4)
    assert sum(rope_split(64)) == 64


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_rope_scores_depend_only_on_offsets(axis):
    """q·k after RoPE is unchanged when both tokens move by the same offset along any axis."""
    hd, grid = 24, (4, 5, 7)  # odd, non-square grid
    g = torch.Generator().manual_seed(axis)
    q = torch.randn(1, 1, 1, hd, generator=g)
    k = torch.randn(1, 1, 1, hd, generator=g)
    freqs = rope_freqs(grid, hd)

    def score(pq, pk):
        iq = (pq[0] * grid[1] + pq[1]) * grid[2] + pq[2]
        ik = (pk[0] * grid[1] + pk[1]) * grid[2] + pk[2]
        return (apply_rope(q, freqs[iq : iq + 1]) * apply_rope(k, freqs[ik : ik + 1])).sum()

    a, b = [1, 2, 3], [0, 3, 1]
    a1, b1 = list(a), list(b)
    a1[axis] += 1
    b1[axis] += 1
    assert torch.allclose(score(a, b), score(a1, b1), atol=1e-5)
    # ... but it does depend on the offset itself.
    other = list(a)
    other[axis] = (a[axis] + 1) % grid[axis]
    assert not torch.allclose(score(a, b), score(other, b), atol=1e-3)


def test_rope_offset_equals_a_bigger_grid():
    """A chunk starting at latent frame 2 gets the same positions as frames 2.. of a longer video."""
    full = rope_freqs((5, 3, 4), 16)
    off = rope_freqs((3, 3, 4), 16, offset=(2.0, 0.0, 0.0))
    assert torch.allclose(off, full[2 * 12 :])


def test_rope_explicit_positions_equal_the_default_and_allow_gaps():
    grid, hd = (4, 2, 3), 24
    assert torch.equal(rope_freqs(grid, hd, t_positions=torch.arange(4.0)), rope_freqs(grid, hd))
    gapped = rope_freqs(grid, hd, t_positions=torch.tensor([0.0, 6.0, 7.0, 8.0]))
    later = rope_freqs((9, 2, 3), hd).view(9, 6, -1)
    assert torch.equal(gapped.view(4, 6, -1)[1:], later[6:9]) and torch.equal(gapped.view(4, 6, -1)[0], later[0])
    with pytest.raises(ValueError):
        rope_freqs(grid, hd, t_positions=torch.arange(3.0))
