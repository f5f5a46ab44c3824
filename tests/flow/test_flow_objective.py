"""The time convention, the loss and the clean-frame masks."""
import torch

from cinegen.flow import CLEAN_MODES, add_noise, flow_loss, foreground_weights, sample_clean_mask, velocity_target


def _pair(seed=0, shape=(2, 3, 4, 5, 6)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g), torch.randn(shape, generator=g)


def test_time_convention_zero_is_clean_one_is_noise():
    x0, eps = _pair()
    b, t_frames = x0.shape[0], x0.shape[2]
    assert torch.equal(add_noise(x0, eps, torch.zeros(b, t_frames)), x0)
    assert torch.equal(add_noise(x0, eps, torch.ones(b, t_frames)), eps)
    mid = add_noise(x0, eps, torch.full((b,), 0.25))
    assert torch.allclose(mid, 0.75 * x0 + 0.25 * eps)
    # The target is the derivative of x_t along t: finite difference equals noise − x0.
    h = 1e-3
    t = torch.full((b, t_frames), 0.4, dtype=torch.float64)
    fd = (add_noise(x0.double(), eps.double(), t + h) - add_noise(x0.double(), eps.double(), t)) / h
    assert torch.allclose(fd, velocity_target(x0, eps).double(), atol=1e-9)
    assert torch.allclose(velocity_target(x0, eps), eps - x0)


def test_add_noise_per_frame_time():
    x0, eps = _pair()
    t = torch.tensor([[0.0, 1.0, 0.5, 0.2], [1.0, 0.0, 0.3, 0.9]])
    x_t = add_noise(x0, eps, t)
    for b in range(2):
        for f in range(4):
            expect = (1 - t[b, f]) * x0[b, :, f] + t[b, f] * eps[b, :, f]
            assert torch.allclose(x_t[b, :, f], expect)


def test_flow_loss_is_zero_for_exact_velocity_and_ignores_clean_frames():
    x0, eps = _pair()
    target = velocity_target(x0, eps)
    t = torch.full((2, 4), 0.6)
    seen = {}

    def exact(x, tt):
        seen["x"], seen["t"] = x, tt
        return target

    clean = torch.tensor([[True, False, False, False], [False, False, False, True]])
    assert flow_loss(exact, x0, eps, t, clean).item() == 0.0
    # Clean frames were given to the model as x0 at t = 0.
    assert torch.equal(seen["x"][0, :, 0], x0[0, :, 0]) and seen["t"][0, 0] == 0 and seen["t"][0, 1] == 0.6

    # An error placed only on clean frames costs nothing; on a noisy frame it does.
    wrong_clean = target.clone()
    wrong_clean[0, :, 0] += 5.0
    assert flow_loss(lambda x, tt: wrong_clean, x0, eps, t, clean).item() == 0.0
    wrong_noisy = target.clone()
    wrong_noisy[0, :, 1] += 1.0
    # One of 6 noisy frames off by 1 everywhere -> mean squared error 1/6.
    assert abs(flow_loss(lambda x, tt: wrong_noisy, x0, eps, t, clean).item() - 1 / 6) < 1e-6


def test_clean_masks_cover_all_modes_and_keep_a_noisy_frame():
    g = torch.Generator().manual_seed(0)
    m = sample_clean_mask(4000, 6, g)
    assert m.shape == (4000, 6) and m.dtype == torch.bool
    assert (~m).any(dim=1).all(), "every sample keeps at least one noisy frame"
    rows = {tuple(r.tolist()) for r in m}
    assert (False,) * 6 in rows
    assert (True,) + (False,) * 5 in rows  # first
    assert (True, True, True, False, False, False) in rows  # prefix
    assert (False, False, False, False, True, True) in rows  # suffix
    assert (True, False, False, False, False, True) in rows  # first + last
    # Mode weights are respected: none is drawn ~half the time by default.
    assert 0.45 < (~m.any(dim=1)).float().mean().item() < 0.55
    # Only suffixes when asked for only suffixes.
    s = sample_clean_mask(500, 5, g, p=(0, 0, 0, 1, 0))
    assert s[:, -1].all() and not s[:, 0].any()
    # One-frame videos (images) never hold their only frame clean.
    assert not sample_clean_mask(100, 1, g, p=(0, 1, 0, 0, 0)).any()
    assert len(CLEAN_MODES) == 5


def test_foreground_weights_pick_out_the_object_and_keep_plain_frames_at_one():
    x0 = torch.zeros(1, 4, 2, 8, 8)
    x0[:, :, 0, 2:4, 2:4] = 3.0  # an object in frame 0; frame 1 is plain
    w = foreground_weights(x0, 4.0)
    assert w.shape == (1, 1, 2, 8, 8)
    assert torch.allclose(w[0, 0, 0, 2:4, 2:4], torch.full((2, 2), 5.0))  # distance 6 > scale: 1 + 4
    assert w[0, 0, 0, 5, 5] == 1.0 and torch.all(w[0, 0, 1] == 1.0)
    assert torch.all(foreground_weights(x0, 0.0) == 1.0)


def test_weighted_flow_loss_keeps_scale_and_moves_emphasis_to_the_weighted_pixels():
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(2, 3, 2, 4, 4, generator=g), torch.randn(2, 3, 2, 4, 4, generator=g)
    t = torch.full((2,), 0.5)
    target = eps - x0
    off = torch.zeros_like(x0)
    off[..., 0, 0] = 1.0  # the model is wrong on one latent pixel per frame only
    model = lambda x, tt: target + off  # noqa: E731
    plain = flow_loss(model, x0, eps, t)
    ones = flow_loss(model, x0, eps, t, weight=torch.ones(2, 1, 2, 4, 4))
    assert torch.allclose(plain, ones)
    w = torch.ones(2, 1, 2, 4, 4)
    w[..., 0, 0] = 5.0
    assert flow_loss(model, x0, eps, t, weight=w) > plain  # the wrong pixel now counts more
    w2 = torch.ones(2, 1, 2, 4, 4)
    w2[..., 3, 3] = 5.0
    assert flow_loss(model, x0, eps, t, weight=w2) < plain  # weight elsewhere dilutes it


def test_motion_loss_sees_motion_errors_not_errors_every_frame_shares():
    from cinegen.flow.objective import motion_loss, velocity_target

    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(2, 3, 4, 5, 5, generator=g), torch.randn(2, 3, 4, 5, 5, generator=g)
    t = torch.full((2, 4), 0.5)
    clean = torch.zeros(2, 4, dtype=torch.bool)
    v_star = velocity_target(x0, noise)
    shared = v_star + torch.randn(2, 3, 1, 5, 5, generator=g)  # the same error in every frame
    assert motion_loss(v_star, x0, noise, t, clean) == 0
    assert motion_loss(shared, x0, noise, t, clean) < 1e-10
    moving = v_star.clone()
    moving[:, :, 2:] += 1.0  # frames 2, 3 wrong, 0, 1 right: an error in how the video changes
    assert motion_loss(moving, x0, noise, t, clean) > 0.01
    held = clean.clone()
    held[:, 1:3] = True  # every pair that sees the change touches a clean frame
    assert motion_loss(moving, x0, noise, t, held) < 1e-10
    assert flow_loss(lambda x, tt: moving, x0, noise, t, motion_weight=1.0) > flow_loss(lambda x, tt: moving, x0, noise, t)


def test_given_counts_make_unequal_halves_average_to_the_whole_batch():
    """Data parallelism: each half divides by the whole batch's counts / 2, so the two losses average to
    the whole batch's loss however its clean frames fall (what DDP's gradient averaging needs)."""
    from cinegen.flow.objective import noisy_counts

    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(4, 3, 4, 5, 5, generator=g), torch.randn(4, 3, 4, 5, 5, generator=g)
    t = torch.rand(4, 4, generator=g)
    model = lambda x, tt: 0.3 * x - x.roll(1, dims=-1)  # noqa: E731  (per sample: halves see what the whole sees)
    clean = torch.tensor([[True, True, True, False], [True, False, False, True],  # half 0: 3 noisy, 1 pair
                          [False] * 4, [True, False, False, False]])  # half 1: 7 noisy, 5 pairs
    whole = flow_loss(model, x0, noise, t, clean, motion_weight=0.5)
    counts = noisy_counts(clean) / 2
    assert torch.equal(noisy_counts(clean), torch.tensor([10.0, 6.0]))
    halves = [flow_loss(model, x0[s], noise[s], t[s], clean[s], motion_weight=0.5, frames=counts[0], pairs=counts[1])
              for s in (slice(0, 2), slice(2, 4))]
    assert torch.allclose((halves[0] + halves[1]) / 2, whole, rtol=1e-6, atol=0)
    # each half's own mean averages to something else: the bug this fixes
    own = [flow_loss(model, x0[s], noise[s], t[s], clean[s], motion_weight=0.5) for s in (slice(0, 2), slice(2, 4))]
    assert abs((own[0] + own[1]) / 2 - whole) > 1e-3 * whole
    # without counts the loss is what it always was
    assert torch.equal(flow_loss(model, x0, noise, t, clean, motion_weight=0.5, frames=None, pairs=None), whole)
