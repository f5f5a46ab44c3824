"""Loading a diffusers Wan folder: what it holds, and a one-line typed error for each way it can be wrong."""
import json
import shutil
import sys

import pytest
import torch
from diffusers import WanTransformer3DModel

from cinegen.common.errors import CheckpointError, CinegenError
from cinegen.dit.wan_convert import config_from_wan
from cinegen.wan import (MissingDependencyError, WanSampling, generate_wan_latents, is_wan_folder, load_wan,
                         parts_from_modules)
from cinegen.wan.folder import load_transformer_state


def test_tiny_folder_has_diffusers_layout(wan_folder):
    index = json.loads((wan_folder / "model_index.json").read_text())
    assert index["_class_name"] == "WanPipeline"
    for name in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (wan_folder / name).is_dir()
    assert (wan_folder / "transformer" / "diffusion_pytorch_model.safetensors.index.json").is_file()
    assert len(list((wan_folder / "transformer").glob("diffusion_pytorch_model-*.safetensors"))) > 1
    assert is_wan_folder(wan_folder) and not is_wan_folder(wan_folder / "vae")


def test_load_gives_the_transformer_as_cinegens_dit(wan_folder, wan_parts):
    ref = WanTransformer3DModel.from_pretrained(str(wan_folder / "transformer")).eval()
    assert wan_parts.dit.cfg == config_from_wan(dict(ref.config))
    state = load_transformer_state(wan_folder / "transformer")  # read through the shards' index
    assert set(state) == set(ref.state_dict())
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 16, 2, 4, 6, generator=g)
    text = torch.randn(1, 7, wan_parts.dit.cfg.text_dim, generator=g)
    with torch.no_grad():
        ours = wan_parts.dit(x, torch.tensor([0.6]), text)
        theirs = ref(x, torch.tensor([600]), text, return_dict=False)[0]
    assert torch.allclose(ours, theirs, atol=1e-4, rtol=1e-4)


def test_parts_from_a_pipeline_in_memory_equal_the_loaded_ones(wan_parts, wan_pipe):
    parts = parts_from_modules(wan_pipe.transformer, wan_pipe.vae, wan_pipe.text_encoder, wan_pipe.tokenizer,
                               wan_pipe.scheduler)
    kw = dict(seed=3, steps=2, height=16, width=16, num_frames=5)
    assert torch.equal(generate_wan_latents(parts, "a cat", **kw), generate_wan_latents(wan_parts, "a cat", **kw))


def test_sampling_defaults_are_wanpipelines(wan_parts):
    s = wan_parts.sampling
    assert (s.flow_shift, s.solver_order, s.lower_order_final) == (3.0, 2, True)
    assert (s.steps, s.guidance, s.negative_prompt) == (50, 5.0, "")
    assert (s.num_frames, s.fps, s.height, s.width, s.max_sequence_length) == (81, 16.0, 480, 832, 512)
    assert wan_parts.vae.cfg.latent_channels == wan_parts.dit.cfg.in_channels == 16
    assert (wan_parts.vae.cfg.temporal_down, wan_parts.vae.cfg.spatial_down) == (4, 8)


def _copy(folder, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(folder, dst)
    return dst


def _one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert msg and "\n" not in msg
    return msg


def test_not_a_wan_folder(tmp_path):
    with pytest.raises(CheckpointError) as e:
        load_wan(tmp_path / "nowhere")
    assert "not a diffusers Wan folder" in _one_line(e)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "LTXPipeline"}))
    with pytest.raises(CheckpointError) as e:
        load_wan(tmp_path)
    _one_line(e)
    assert not is_wan_folder(tmp_path)


@pytest.mark.parametrize("remove", ["vae", "tokenizer", "scheduler/scheduler_config.json",
                                    "transformer/diffusion_pytorch_model-00002-of-00003.safetensors"])
def test_missing_component(wan_folder, tmp_path, remove):
    folder = _copy(wan_folder, tmp_path)
    target = folder / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(CheckpointError) as e:
        load_wan(folder)
    assert remove.split("/")[0] in _one_line(e) or "shard" in str(e.value)


def test_unsupported_variants(wan_folder, tmp_path):
    folder = _copy(wan_folder, tmp_path)
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "boundary_ratio": 0.875}))
    with pytest.raises(CheckpointError) as e:
        load_wan(folder)
    assert "Wan2.2" in _one_line(e)
    (folder / "model_index.json").write_text(json.dumps(index))
    sched = folder / "scheduler" / "scheduler_config.json"
    cfg = json.loads(sched.read_text())
    sched.write_text(json.dumps({**cfg, "solver_type": "bh1"}))
    with pytest.raises(CheckpointError) as e:
        load_wan(folder)
    assert "bh1" in _one_line(e)
    sched.write_text(json.dumps({"_class_name": "FlowMatchEulerDiscreteScheduler"}))
    with pytest.raises(CheckpointError) as e:
        load_wan(folder)
    _one_line(e)
    with pytest.raises(CheckpointError):
        WanSampling.from_scheduler_config({**cfg, "prediction_type": "epsilon"}, "x")


def test_missing_dependency_names_the_extra(wan_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "accelerate", None)  # import accelerate now raises ImportError
    with pytest.raises(MissingDependencyError) as e:
        load_wan(wan_folder)
    assert isinstance(e.value, CinegenError)
    assert 'pip install "cinegen[wan]"' in _one_line(e)


def test_wan_imports_only_lower_layers():
    """wan/ sits above common, dit, flow and vae (whose size checks its VAE shares), below pipeline: it never
    imports the pipeline or the text package."""
    import ast
    from pathlib import Path

    import cinegen

    found = set()
    for path in (Path(cinegen.__file__).parent / "wan").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found |= {n.split(".")[1] for n in names if n.startswith("cinegen.")}
    assert found <= {"common", "dit", "flow", "vae", "wan"} and "dit" in found
