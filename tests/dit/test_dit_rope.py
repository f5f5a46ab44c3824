"""3D RoPE: any grid, translation equivariance along each axis."""
import pytest
import torch

from cinegen.dit.rope import apply_rope, rope_angles, rope_split


@pytest.mark.parametrize("grid", [(3, 5, 7), (1, 1, 1), (2, 9, 4), (2, 4, 9), (5, 1, 3)])
def test_rope_any_grid_is_a_rotation(grid):
    hd = 24
    cos, sin = rope_angles(grid, hd)
    n = grid[0] * grid[1] * grid[2]
    assert cos.shape == sin.shape == (n, hd // 2)
    q = torch.randn(2, n, 3, hd, dtype=torch.float32)
    r = apply_rope(q, cos, sin)
    assert r.shape == q.shape
    assert torch.allclose(r.norm(dim=-1), q.norm(dim=-1), atol=1e-5)  # rotations keep length
    assert torch.allclose(r[:, 0], q[:, 0])  # position (0, 0, 0) is not rotated


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
    cos, sin = rope_angles(grid, hd)

    def idx(p):
        return (p[0] * grid[1] + p[1]) * grid[2] + p[2]

    def score(pq, pk):
        iq, ik = idx(pq), idx(pk)
        rq = apply_rope(q, cos[iq : iq + 1], sin[iq : iq + 1])
        rk = apply_rope(k, cos[ik : ik + 1], sin[ik : ik + 1])
        return (rq * rk).sum()

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
    hd = 16
    cos_full, sin_full = rope_angles((5, 3, 4), hd)
    cos_off, sin_off = rope_angles((3, 3, 4), hd, offset=(2.0, 0.0, 0.0))
    assert torch.allclose(cos_off, cos_full[2 * 12 :]) and torch.allclose(sin_off, sin_full[2 * 12 :])
