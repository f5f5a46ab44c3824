import pytest
import torch

from cinegen.common.checkpoint import load_config, load_state, save_config, save_state
from cinegen.common.errors import CheckpointError


def test_sharded_round_trip(tmp_path):
    state = {f"w{i}": torch.randn(256, 256) for i in range(6)}  # 6 × 256 KB
    paths = save_state(tmp_path, "dit", state, max_shard_bytes=600_000)
    assert len(paths) == 3 and all(p.name.startswith("dit-0000") for p in paths)
    back = load_state(tmp_path, "dit")
    assert back.keys() == state.keys() and all(torch.equal(back[k], state[k]) for k in state)
    paths[1].unlink()
    with pytest.raises(CheckpointError, match="2 of 3"):
        load_state(tmp_path, "dit")


def test_missing_and_corrupt(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_config(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="no config.json"):
        load_config(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_config(tmp_path)
    save_config(tmp_path, {"a": 1})
    assert load_config(tmp_path) == {"a": 1}
    (tmp_path / "vae.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_state(tmp_path, "vae")
