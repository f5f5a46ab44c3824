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
    monkeypatch.setitem(tiny_pipe.defaults, "memory", True)
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
    monkeypatch.setitem(tiny_pipe.defaults, "memory", True)
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
    monkeypatch.setitem(tiny_pipe.defaults, "memory", True)
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
