import copy

import pytest
import torch

from cinegen.common.errors import CheckpointError
from cinegen.flow import shift_for_tokens
from cinegen.pipeline import Pipeline


@pytest.fixture(scope="module")
def pipe(tiny_pipe) -> Pipeline:
    """The tiny model with every DiT weight jittered: its zero-initialised output layer predicts no velocity."""
    dit = copy.deepcopy(tiny_pipe.dit)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in dit.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=g))
    return Pipeline(tiny_pipe.vae, dit, tiny_pipe.text, tiny_pipe.config, tiny_pipe.device)


def _with_sampling(pipe: Pipeline, **sampling) -> Pipeline:
    """The same weights with extra keys in config.json's sampling section."""
    config = {**pipe.config, "sampling": {**pipe.config["sampling"], **sampling}}
    return Pipeline(pipe.vae, pipe.dit, pipe.text, config, pipe.device)


def _latents(pipe: Pipeline) -> torch.Tensor:
    req = pipe.request("a red ball", seconds=1, seed=3)
    return torch.cat(list(pipe.sample_latents(req, "a red ball")), dim=1)


def test_shift_scale_multiplies_the_training_shift_and_changes_the_samples(pipe):
    assert pipe.sampling_shift(64) == pytest.approx(shift_for_tokens(64))  # default: the training shift
    scaled = _with_sampling(pipe, shift_scale=2.0)
    assert scaled.sampling_shift(64) == pytest.approx(2 * shift_for_tokens(64))
    a, b = _latents(pipe), _latents(scaled)
    assert torch.equal(a, _latents(_with_sampling(pipe, shift_scale=1.0)))  # 1.0 is the default exactly
    assert (a - b).abs().mean() > 1e-3


def test_bad_shift_scale_is_a_checkpoint_error(pipe):
    with pytest.raises(CheckpointError, match="shift_scale"):
        _with_sampling(pipe, shift_scale=0.0).sampling_shift(64)


def test_guidance_interval_comes_from_the_checkpoint(pipe):
    assert pipe.sampling.guidance_interval == (0.0, 1.0)
    late = _with_sampling(pipe, guidance_interval=[0.9, 1.0])  # guided only at the highest noise
    assert late.sampling.guidance_interval == (0.9, 1.0)
    assert not torch.equal(_latents(pipe), _latents(late))


def test_guidance_parallel_comes_from_the_checkpoint(pipe):
    assert pipe.sampling.guidance_parallel == 1.0  # plain CFG unless the checkpoint asks
    assert torch.equal(_latents(pipe), _latents(_with_sampling(pipe, guidance_parallel=1.0)))
    assert not torch.equal(_latents(pipe), _latents(_with_sampling(pipe, guidance_parallel=0.0)))
    with pytest.raises(CheckpointError, match="guidance_parallel"):
        _with_sampling(pipe, guidance_parallel=1.5)
