"""A checkpoint's sampling section is typed and checked when the model loads."""
import pytest

from cinegen.common.errors import CheckpointError
from cinegen.pipeline import Pipeline, SamplingConfig


def test_missing_keys_take_the_defaults_and_a_dict_round_trips():
    s = SamplingConfig.from_dict({"width": 48, "memory": True, "guidance_interval": [0.1, 0.9]})
    assert (s.width, s.height, s.memory, s.guidance_interval) == (48, SamplingConfig().height, True, (0.1, 0.9))
    assert SamplingConfig.from_dict(s.to_dict()) == s


@pytest.mark.parametrize("bad,needle", [
    ({"widht": 64}, "unknown sampling setting(s) widht"),
    ({"steps": "many"}, "bad sampling setting"),
    ({"steps": 2.5}, "whole number"),
    ({"memory": "yes"}, "true or false"),
    ({"window": 3, "context": 3}, "context"),
    ({"guidance_interval": [0.8, 0.2]}, "guidance_interval"),
    ({"shift_scale": 0}, "shift_scale"),
])
def test_bad_settings_are_checkpoint_errors_naming_the_setting(bad, needle):
    with pytest.raises(CheckpointError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        SamplingConfig.from_dict(bad)


def test_the_pipeline_samples_with_its_checkpoints_settings(tiny_pipe):
    assert isinstance(tiny_pipe.sampling, SamplingConfig)
    assert (tiny_pipe.sampling.width, tiny_pipe.sampling.steps) == (tiny_pipe.config["sampling"]["width"],
                                                                   tiny_pipe.config["sampling"]["steps"])
    req = tiny_pipe.request("a ball")
    assert (req.width, req.steps, req.guidance) == (tiny_pipe.sampling.width, tiny_pipe.sampling.steps,
                                                    tiny_pipe.sampling.guidance)
    config = {**tiny_pipe.config, "sampling": {**tiny_pipe.config["sampling"], "windw": 4}}
    with pytest.raises(CheckpointError, match="windw"):
        Pipeline(tiny_pipe.vae, tiny_pipe.dit, tiny_pipe.text, config)
