"""The prompting modes' mechanics with a tiny random model: lengths, held-clean frames, original frames kept."""
import numpy as np
import pytest
import torch

from cinegen.common.errors import InputError
from cinegen.pipeline import Condition, modes
from cinegen.pipeline.storyboard import parse_inline, storyboard_frames


def _video(n, h=32, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 255, (n, h, w, 3), dtype=np.uint8)


def test_condition_frames_are_held_clean(tiny_pipe):
    req = tiny_pipe.request("a red ball", seconds=3, seed=1)  # 24 frames → 7 latent frames: several windows
    c, n, h, w = tiny_pipe.latent_shape(req)
    cond_z = torch.randn(c, 2, h, w)
    z = torch.stack(list(tiny_pipe.sample_latents(req, "a red ball", Condition(latents=cond_z, index=[0, n - 1]))),
                    dim=1)
    assert z.shape == (c, n, h, w)
    assert torch.equal(z[:, 0], cond_z[:, 0]) and torch.equal(z[:, n - 1], cond_z[:, 1])


def test_long_video_streams_in_windows(tiny_pipe):
    steps_seen = []
    req = tiny_pipe.request("a ball", seconds=6, seed=0)
    chunks = list(tiny_pipe.frames_stream(req, "a ball", progress=lambda i, n: steps_seen.append((i, n))))
    assert sum(len(c) for c in chunks) == 48
    assert len(chunks) == req.n_latent_frames  # one chunk per latent frame, streamed as decoded
    assert steps_seen[-1][0] == steps_seen[-1][1]  # progress reaches its total


def test_image_to_video_uses_the_image(tiny_pipe):
    img = _video(1, 40, 60)[0]
    a = tiny_pipe("a ball", seconds=1, image=img, mark=False).frames
    b = tiny_pipe("a ball", seconds=1, image=img[::-1].copy(), mark=False).frames
    assert a.shape == (8, 32, 32, 3) and not np.array_equal(a[0], b[0])
    from cinegen.pipeline.inputs import fit_image

    assert np.array_equal(a[0], fit_image(img, 32, 32))  # the image itself is frame 0, not its VAE round trip


def test_extend_keeps_original_frames(tiny_pipe):
    src = _video(9)
    fwd = modes.extend(tiny_pipe, "a ball", src, "forward", seconds=1, mark=False)
    assert np.array_equal(fwd.frames[:9], src) and len(fwd.frames) == 9 + 8
    back = modes.extend(tiny_pipe, "a ball", src, "backward", seconds=1, mark=False)
    assert np.array_equal(back.frames[-9:], src) and len(back.frames) == 9 + 8  # as many new frames as forward
    with pytest.raises(InputError, match="at least 5"):
        modes.extend(tiny_pipe, "a ball", src[:3])
    with pytest.raises(InputError, match="direction"):
        modes.extend(tiny_pipe, "a ball", src, "sideways")


def test_connect_loop_edit(tiny_pipe):
    a, b = _video(9, seed=1), _video(9, seed=2)
    con = modes.connect(tiny_pipe, "a ball", a, b, seconds=1, mark=False)
    assert np.array_equal(con.frames[0], a[-1]) and np.array_equal(con.frames[-1], b[0])
    lp = modes.loop(tiny_pipe, "a ball", seconds=2, mark=False)
    assert len(lp.frames) == 16
    ed = modes.edit(tiny_pipe, "a blue ball", _video(13), strength=0.5, mark=False)
    assert ed.frames.shape == (13, 32, 32, 3)
    with pytest.raises(InputError, match="strength"):
        modes.edit(tiny_pipe, "x", _video(5), strength=0)


def test_flowedit_moves_only_what_the_prompts_change(tiny_pipe, monkeypatch):
    """FlowEdit over several windows, memory frame on: the same prompt twice gives the source back; another moves it."""
    import copy

    tiny_pipe = copy.deepcopy(tiny_pipe)  # with non-zero adaLN weights, so that the prompt matters
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for prm in tiny_pipe.dit.parameters():
            prm.add_(torch.randn(prm.shape, generator=g) * 0.05)
    monkeypatch.setattr(tiny_pipe, "sampling", tiny_pipe.sampling.replace(memory=True))
    req = tiny_pipe.request("a red ball", seconds=3, seed=1)  # 7 latent frames: several windows
    c, n, h, w = tiny_pipe.latent_shape(req)
    src = torch.randn(c, n, h, w, generator=g)

    def edited(prompt: str, source: str, source_guidance: float | None = None) -> torch.Tensor:
        cond = Condition(start=src, t_start=0.9, source_text=source, source_guidance=source_guidance)
        return torch.stack(list(tiny_pipe.sample_latents(req, prompt, cond)), dim=1)

    assert torch.allclose(edited("a red ball", "a red ball"), src, atol=1e-4)
    assert torch.allclose(edited("a red ball", "a red ball", req.guidance), src, atol=1e-4)
    moved = edited("a blue square", "a red ball")
    assert (moved - src).abs().mean() > 0.01
    # the source branch guided less than the target: the same prompt no longer cancels
    assert (edited("a red ball", "a red ball", 1.0) - src).abs().mean() > 1e-3
    with pytest.raises(InputError, match="edit method"):
        modes.edit(tiny_pipe, "x", _video(5), method="inpaint")


def test_storyboard_shots(tiny_pipe):
    board = parse_inline("1s: a red ball | 1.5s close-up: the ball rolls left")
    frames = np.concatenate(list(storyboard_frames(tiny_pipe, board, seed=0)))
    assert len(frames) == 8 + 12


def test_long_video_memory_frame(tiny_pipe, monkeypatch):
    """With memory on, every window after the first also sees latent 0, clean, MEMORY_GAP positions before it."""
    import copy

    from cinegen.pipeline.pipeline import MEMORY_GAP

    tiny_pipe = copy.deepcopy(tiny_pipe)  # with non-zero adaLN weights, so that the DiT's input matters
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for prm in tiny_pipe.dit.parameters():
            prm.add_(torch.randn(prm.shape, generator=g) * 0.05)

    req = tiny_pipe.request("a ball", seconds=6, seed=0)
    plain = torch.stack(list(tiny_pipe.sample_latents(req, "a ball")), dim=1)
    seen = []
    real = tiny_pipe.dit.forward

    def spy(x, t, text, mask=None, frame_pos=None):
        seen.append((x.shape[2], None if frame_pos is None else frame_pos.tolist(), x[:, :, 0].clone(), t[:, 0].clone()))
        return real(x, t, text, mask, frame_pos=frame_pos)

    monkeypatch.setattr(tiny_pipe.dit, "forward", spy)
    monkeypatch.setattr(tiny_pipe, "sampling", tiny_pipe.sampling.replace(memory=True))
    mem = torch.stack(list(tiny_pipe.sample_latents(req, "a ball")), dim=1)
    size = tiny_pipe.window[0]
    first = [s for s in seen if s[1] is None]
    later = [s for s in seen if s[1] is not None]
    assert first and later and all(s[0] == size for s in first) and all(s[0] == size + 1 for s in later)
    start = later[0][1][1]
    assert later[0][1] == [start - MEMORY_GAP] + [float(start + i) for i in range(size)]
    for _, _, x0, t0 in later:  # the memory frame is the video's own first latent frame, held at t = 0
        assert torch.allclose(x0[0], mem[:, 0]) and torch.all(t0 == 0)
    assert torch.equal(mem[:, :size], plain[:, :size])  # the first window is unchanged ...
    assert not torch.allclose(mem, plain)  # ... later ones use the memory


def test_memory_from_another_shot(tiny_pipe, monkeypatch):
    """Condition.memory is held clean before every window, the first included (storyboard shots)."""
    import copy

    from cinegen.pipeline.pipeline import MEMORY_GAP

    tiny_pipe = copy.deepcopy(tiny_pipe)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for prm in tiny_pipe.dit.parameters():
            prm.add_(torch.randn(prm.shape, generator=g) * 0.05)
    monkeypatch.setattr(tiny_pipe, "sampling", tiny_pipe.sampling.replace(memory=True))
    req = tiny_pipe.request("a ball", seconds=1, seed=0)  # one window
    c, n, h, w = tiny_pipe.latent_shape(req)
    memory = torch.randn(c, h, w, generator=g)
    seen = []
    real = tiny_pipe.dit.forward

    def spy(x, t, text, mask=None, frame_pos=None):
        seen.append((None if frame_pos is None else frame_pos[0].item(), x[:, :, 0].clone(), t[:, 0].clone()))
        return real(x, t, text, mask, frame_pos=frame_pos)

    plain = torch.stack(list(tiny_pipe.sample_latents(req, "a ball")), dim=1)
    monkeypatch.setattr(tiny_pipe.dit, "forward", spy)
    with_mem = torch.stack(list(tiny_pipe.sample_latents(req, "a ball", Condition(memory=memory))), dim=1)
    assert seen and all(pos == -MEMORY_GAP for pos, _, _ in seen)
    assert all(torch.allclose(x0[0], memory) and torch.all(t0 == 0) for _, x0, t0 in seen)
    assert with_mem.shape == plain.shape and not torch.allclose(with_mem, plain)


def test_storyboard_shares_the_first_shot_as_memory(tiny_pipe, monkeypatch):
    monkeypatch.setattr(tiny_pipe, "sampling", tiny_pipe.sampling.replace(memory=True))
    calls = []
    real = tiny_pipe.sample_latents

    def spy(req, text, cond=None, *a, **kw):
        calls.append((req.seed, None if cond is None else cond.memory))
        return real(req, text, cond, *a, **kw)

    monkeypatch.setattr(tiny_pipe, "sample_latents", spy)
    board = parse_inline("1s: a red ball | 1s close-up: the ball | 1s medium: the ball")
    frames = np.concatenate(list(storyboard_frames(tiny_pipe, board, seed=3)))
    assert len(frames) == 24
    assert [s for s, _ in calls] == [3, 4, 5]  # each shot its own noise
    assert calls[0][1] is None and calls[1][1] is not None and calls[2][1] is calls[1][1]


def test_seam_carry_removes_the_vae_error_and_fades_out():
    rng = np.random.default_rng(0)
    given = rng.integers(40, 200, (16, 16, 3)).astype(np.uint8)
    decoded = (given.astype(int) + 6).astype(np.uint8)  # the VAE's stand-in for the given frame: tinted
    new = np.stack([decoded] * 12).astype(int)
    new[:, 4:8, 4:8] += np.arange(12)[:, None, None, None]  # a little motion in the new frames
    new = new.astype(np.uint8)
    out = modes._carry(new, given, decoded)
    assert np.array_equal(out[0].astype(int) - given, new[0].astype(int) - decoded)  # no tint jump at the seam
    assert np.array_equal(out[modes.SEAM_FADE :], new[modes.SEAM_FADE :])  # gone after the fade
    steps = np.abs(np.diff(out.astype(int), axis=0)).max(axis=(1, 2, 3))
    assert steps.max() <= 2  # the tint leaves gradually, not in one step
    back = modes._carry(new[::-1], given, decoded, at_end=True)
    assert np.array_equal(back, out[::-1])


def _windowed_model(x, t):
    """A velocity that mixes frames inside a window, position-dependently (like a DiT with positions)."""
    w = torch.arange(1, x.shape[2] + 1, dtype=x.dtype)[None, None, :, None, None]
    return torch.cumsum(x * w, dim=2) + t[:, None, :, None, None]


def test_circular_velocity_gathers_and_averages_frame_by_frame():
    fn = modes._circular_velocity(lambda x, t: 2 * x + 1, n_groups=3, width=4, offsets=[0, 2])
    x = torch.randn(1, 2, 2 + 3, 2, 2)
    assert torch.allclose(fn(x, torch.zeros(1, 5)), 2 * x + 1)  # a frame-wise model: every copy agrees
    with pytest.raises(InputError, match="leave some"):
        modes._circular_velocity(_windowed_model, n_groups=6, width=2, offsets=[0, 4])


def test_circular_velocity_has_no_first_group():
    """With a window at every offset, rotating the loop's groups rotates their velocities: no seam is special."""
    p, width = 5, 4
    fn = modes._circular_velocity(_windowed_model, n_groups=p, width=width, offsets=list(range(p)))
    x = torch.randn(1, 3, p + p, 2, 2, generator=torch.Generator().manual_seed(0))  # image latents, then groups
    t = torch.full((1, 2 * p), 0.5)
    v = fn(x, t)
    for r in (1, 3):
        perm = [(i + r) % p for i in range(p)]
        xr = torch.cat([x[:, :, perm], x[:, :, [p + i for i in perm]]], dim=2)  # window s now reads what s + r did
        vr = fn(xr, t)
        assert torch.allclose(vr[:, :, p:], v[:, :, [p + i for i in perm]], atol=1e-5)
        assert torch.allclose(vr[:, :, :p], v[:, :, perm], atol=1e-5)


def test_loop_repeats_as_one_continuous_decode(tiny_pipe, monkeypatch):
    """The loop's frames are what the decoder gives on every later repeat of its latent period, so the
    wrap (last frame → first) is a step of one continuous decode, like every other step."""
    seen = []
    real = tiny_pipe.decode_stream

    def spy(latents):
        seen.append(list(latents))
        return real(iter(seen[-1]))

    monkeypatch.setattr(tiny_pipe, "decode_stream", spy)
    lp = modes.loop(tiny_pipe, "a ball", seconds=2, mark=False).frames
    assert lp.shape == (16, 32, 32, 3)
    first, groups = seen[0][0], seen[0][1:5]
    longer = np.concatenate(list(real(iter([first] + groups * 4))))  # the period played three more times
    start = 1 + 2 * 16 + modes.LOOP_PHASE  # the same phase two periods later
    repeat = np.concatenate([longer[start : start + 16], longer[start + 16 : start + 17]])
    assert np.abs(repeat[:16].astype(int) - lp).max() <= 1
    assert np.abs(repeat[16].astype(int) - lp[0]).max() <= 1  # what follows the last frame is the first


def test_extend_context_sizes(tiny_pipe, monkeypatch):
    """Forward holds up to 9 last frames (3 latents); backward the first 4k ≤ 8 frames as 4-frame groups,
    after an image latent and the new groups."""
    conds = []
    real = tiny_pipe.sample_latents

    def spy(req, text, cond=None, n_latent=None, progress=None):
        conds.append((cond.index, n_latent))
        return real(req, text, cond, n_latent, progress)

    monkeypatch.setattr(tiny_pipe, "sample_latents", spy)
    modes.extend(tiny_pipe, "a ball", _video(13), "forward", seconds=1, mark=False)
    modes.extend(tiny_pipe, "a ball", _video(5), "forward", seconds=1, mark=False)
    back = modes.extend(tiny_pipe, "a ball", _video(13), "backward", seconds=1, mark=False)
    assert conds == [([0, 1, 2], 5), ([0, 1], 4), ([3, 4], 5)]
    assert len(back.frames) == 8 + 13
