"""Storyboard shots: a cut to another framing continues the action, a cut to the same framing is a new take."""
import numpy as np
import torch

from cinegen.pipeline.modes import context_frames
from cinegen.pipeline.storyboard import parse_inline, storyboard_frames


def _spy_calls(pipe, monkeypatch):
    calls = []
    real = pipe.sample_latents

    def spy(req, text, cond=None, n_latent=None, *a, **kw):
        calls.append((req.seed, cond, n_latent))
        return real(req, text, cond, n_latent, *a, **kw)

    monkeypatch.setattr(pipe, "sample_latents", spy)
    return calls


def test_cut_to_a_new_framing_continues_the_shot_before(tiny_pipe, monkeypatch):
    monkeypatch.setattr(tiny_pipe, "sampling", tiny_pipe.sampling.replace(memory=True))
    monkeypatch.setenv("CINEGEN_WATERMARK", "0")  # compare output pixels with what was carried
    calls = _spy_calls(tiny_pipe, monkeypatch)
    seen = []
    real_encode = tiny_pipe.encode_frames

    def encode(frames):
        seen.append(frames.copy())
        return real_encode(frames)

    monkeypatch.setattr(tiny_pipe, "encode_frames", encode)
    board = parse_inline("1s: a red ball | 1.5s close-up: the ball rolls left | 1s close-up: the ball stops")
    chunks = list(storyboard_frames(tiny_pipe, board, seed=2))
    frames = np.concatenate(chunks)
    assert len(frames) == 8 + 12 + 8  # every shot exactly its length, the context's decode dropped
    assert [seed for seed, _, _ in calls] == [2, 3, 4]
    # shot 2 (close-up after wide) holds the last CONTEXT_FRAMES wide-view frames of shot 1 clean ...
    _, cond, n_latent = calls[1]
    tail = seen[1]
    CONTEXT_FRAMES = context_frames(tiny_pipe.geometry.time_factor)
    assert tail.shape[0] == CONTEXT_FRAMES and cond.index == [0, 1] and cond.memory is not None
    assert torch.allclose(cond.latents, real_encode(tail))
    assert n_latent == 2 + 3  # 12 new frames = 3 latent frames after the 2 of context
    # ... which are shot 1's own last frames in the wide view (shot 1 is wide: the output itself)
    assert np.array_equal(tail, frames[8 - CONTEXT_FRAMES : 8])
    # shot 3 repeats the framing: a new take beside the memory frame, nothing carried
    _, cond3, n3 = calls[2]
    assert cond3.latents is None and cond3.memory is cond.memory and n3 is None


def test_single_shot_storyboard_is_plain_generation(tiny_pipe, monkeypatch):
    calls = _spy_calls(tiny_pipe, monkeypatch)
    frames = np.concatenate(list(storyboard_frames(tiny_pipe, parse_inline("1s close-up: a ball"), seed=0)))
    assert len(frames) == 8 and calls[0][1] is None


def test_a_shot_shorter_than_the_context_still_carries_its_last_frame(tiny_pipe, monkeypatch):
    calls = _spy_calls(tiny_pipe, monkeypatch)
    frames = np.concatenate(list(storyboard_frames(tiny_pipe, parse_inline("0.5s: a ball | 1s close-up: the ball"),
                                                   seed=0)))
    assert len(frames) == 4 + 8
    assert calls[1][1].index == [0] and calls[1][2] == 1 + 2  # one image latent of context, then 8 new frames
