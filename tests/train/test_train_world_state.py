"""World-state alignment: each token's exact state from the world's truth, and a run that trains and resumes with it."""
import dataclasses

import numpy as np
import torch

from cinegen.common.checkpoint import load_state
from cinegen.train.recipes import tiny_dit
from cinegen.train.trainer import train
from cinegen.train.world_state import COLOUR_INDEX, SHAPE_INDEX, latent_frame_pixels, state_loss, token_state
from cinegen.world import render, sample_scene


def test_token_state_marks_the_objects_cells_with_its_attributes_and_motion():
    spec = sample_scene(3, duration=2.5, n_objects=1, background="solid", camera="static", motion="move",
                        direction="right", colour="red", shape="star", size="medium")
    clip = render(spec, 64, 64, 8.0, n_frames=17)
    state = token_state(clip, (4, 4), 4)  # 16-pixel cells
    assert state.shape == (5, 4, 4, 7) and latent_frame_pixels(17, 4) == [0, 4, 8, 12, 16]
    truth = clip.truth[0]
    for k, p in enumerate(latent_frame_pixels(17, 4)):
        cx, cy = truth.centre[p]
        cell = state[k, int(cy // 16), int(cx // 16)]
        assert cell[0] > 0 and cell[1] == COLOUR_INDEX["red"] and cell[2] == SHAPE_INDEX["star"]
        assert abs(cell[3] - (cx - (cx // 16 * 16 + 8)) / 16) < 1e-4  # the centre's offset in its cell
        assert cell[5] > 0 and abs(cell[6]) < 1e-3  # moving right, not up or down
        empty = state[k][state[k, ..., 0] == 0]
        assert (empty[:, 1:3] == -1).all() and len(empty) > 0
    moving = state[..., 0] > 0
    assert len({tuple(np.argwhere(moving[k]).mean(0).round(1)) for k in range(5)}) > 1  # its cells move


def test_state_loss_is_low_for_the_truth_and_high_for_another_object():
    target = torch.zeros(1, 3, 7)
    target[..., 1:3] = -1
    target[0, 1] = torch.tensor([1.0, 2, 4, 0.1, -0.2, 0.3, 0.0])
    right = torch.zeros(1, 3, 19)
    right[0, :, 0] = -20
    right[0, 1, 0], right[0, 1, 1 + 2], right[0, 1, 9 + 4] = 20, 20, 20
    right[0, 1, 15:19] = torch.tensor([0.1, -0.2, 0.3, 0.0])
    wrong = right.clone()
    wrong[0, 1, 1 + 2], wrong[0, 1, 1 + 5] = 0, 20
    assert state_loss(right, target) < 1e-3 < 1.0 < state_loss(wrong, target)


def test_aligned_run_trains_the_head_exports_only_the_dit_and_resumes_exactly(tmp_path):
    from cinegen.pipeline.tiny import make_tiny_checkpoint

    vae = str(make_tiny_checkpoint(tmp_path / "tiny"))
    cfg = dataclasses.replace(tiny_dit(vae), steps=4, ckpt_every=2, cache_clips=4, world="L1", align_weight=1.0,
                              align_block=1, align_until=0.5)
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False, stop_at=2)
    train(cfg, tmp_path / "b", progress=False)
    for name in ("model", "aux"):
        a, b = load_state(tmp_path / "a/ckpt", name), load_state(tmp_path / "b/ckpt", name)
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a/cache/state.safetensors").exists()
    exported = load_state(tmp_path / "a/model", "dit")
    assert not any(k.startswith("head") for k in exported) and set(exported) == set(load_state(tmp_path / "a/ckpt", "model"))


def test_state_loss_with_the_whole_batchs_cover_averages_over_unequal_halves():
    """Data parallelism: given the whole batch's cover / 2, two halves with different cover average to the
    whole batch's state_loss (each half's own cover would not)."""
    from cinegen.train.world_state import COLOURS, HEAD_DIM, SHAPES, STATE_DIM, cover_total, state_loss

    g = torch.Generator().manual_seed(0)
    pred = torch.randn(4, 6, HEAD_DIM, generator=g)
    target = torch.zeros(4, 6, STATE_DIM)
    target[..., 0] = torch.rand(4, 6, generator=g) * (torch.rand(4, 6, generator=g) < 0.5)
    target[0, :, 0], target[3, :, 0] = 0.0, 1.0  # half 0 has less cover than half 1
    target[..., 1] = torch.randint(len(COLOURS), (4, 6), generator=g).float()
    target[..., 2] = torch.randint(len(SHAPES), (4, 6), generator=g).float()
    target[..., 3:] = torch.randn(4, 6, 4, generator=g)
    cover = cover_total(target) / 2
    halves = [state_loss(pred[s], target[s], cover) for s in (slice(0, 2), slice(2, 4))]
    assert torch.allclose((halves[0] + halves[1]) / 2, state_loss(pred, target), rtol=1e-5, atol=0)
    own = [state_loss(pred[s], target[s]) for s in (slice(0, 2), slice(2, 4))]
    assert abs((own[0] + own[1]) / 2 - state_loss(pred, target)) > 1e-3
