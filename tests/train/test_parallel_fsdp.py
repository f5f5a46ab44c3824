"""FSDP2, sharded checkpoints and sequence-parallel training under torchrun, 2 gloo processes on the CPU.

One torchrun launch (this file is its worker script) trains every 2-process run; the parent trains the
1-process references and the 1-process halves of the resume tests. Tolerance as the DDP test's.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cinegen.common.checkpoint import load_state
from cinegen.common.errors import InputError
from cinegen.train.config import TrainConfig
from cinegen.train.recipes import tiny_dit, tiny_vae
from cinegen.train.sharded_ckpt import is_sharded
from cinegen.train.trainer import train


def vae_cfg(**kw) -> TrainConfig:
    # a checkpoint at the end only: a stopped run (stop_at) writes one where it stops
    return dataclasses.replace(tiny_vae(), **{"steps": 4, "ckpt_every": 100, "log_every": 1, "batch_size": 2,
                                              "image_fraction": 0.0, **kw})


def dit_cfg(vae_dir: Path, **kw) -> TrainConfig:
    # every condition mode and image batches (t2v_first=0), with the motion term: the two ranks' slices hold
    # different numbers of noisy frames and frame pairs, so only the whole batch's counts give one process's loss
    return dataclasses.replace(tiny_dit(str(vae_dir)), **{"steps": 4, "ckpt_every": 100, "log_every": 1,
                                                          "batch_size": 2, "cache_clips": 4, "motion_weight": 0.5,
                                                          **kw})


def worker(root: Path) -> None:
    """The 2-process runs, one after another in one process group."""
    torch.distributed.init_process_group("gloo")
    train(vae_cfg(parallel="fsdp"), root / "vae_2to1", progress=False, stop_at=2)  # the parent resumes it
    train(vae_cfg(parallel="fsdp"), root / "vae_1to2", progress=False)  # resumes the parent's, exports
    vae = root / "vae_one" / "model"
    train(dit_cfg(vae), root / "dit_ddp", progress=False)
    train(dit_cfg(vae, parallel="fsdp", checkpoint_blocks=True), root / "dit_fsdp", progress=False)
    # Ulysses: both ranks share each sample and split its tokens, under DDP and under FSDP + checkpointing
    train(dit_cfg(vae, sequence_parallel=2), root / "dit_sp_ddp", progress=False)
    train(dit_cfg(vae, sequence_parallel=2, parallel="fsdp", checkpoint_blocks=True), root / "dit_sp_fsdp",
          progress=False)
    torch.distributed.destroy_process_group()


def weights(run: Path, name: str = "model") -> dict[str, torch.Tensor]:
    """A run's checkpoint weights, full or sharded."""
    ckpt = run / "ckpt"
    if not is_sharded(ckpt):
        return load_state(ckpt, name)
    from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

    dcp_to_torch_save(ckpt, run / "full.pt")
    return torch.load(run / "full.pt", weights_only=True)[name]


def assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-4), f"{k}: max |a - b| {(a[k] - b[k]).abs().max():.3g}"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: threads only fight each other (and the workers) for the cores."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("fsdp")
    train(vae_cfg(), root / "vae_one", progress=False)  # the uninterrupted 1-process reference
    train(vae_cfg(), root / "vae_1to2", progress=False, stop_at=2)  # a 1-process checkpoint for 2 to resume
    train(dit_cfg(root / "vae_one" / "model"), root / "dit_one", progress=False)
    for run in ("dit_ddp", "dit_fsdp", "dit_sp_ddp", "dit_sp_fsdp"):  # one latent cache serves every DiT run
        shutil.copytree(root / "dit_one" / "cache", root / run / "cache")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                        __file__, str(root)], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    ckpt = root / "vae_2to1" / "ckpt"
    facts = {"2to1_sharded": is_sharded(ckpt), "2to1_files": len(list(ckpt.glob("*.distcp"))),
             "2to1_step": json.loads((ckpt / "state.json").read_text())["step"]}
    # one plain process resumes it, to step 4 of 5: the reference's steps without another export
    train(vae_cfg(steps=5), root / "vae_2to1", progress=False, stop_at=4)
    return {"root": root, **facts}


def test_ddp_equals_one_process_with_every_condition_mode(runs):
    """The DiT under DDP, 2 processes = 1 with the same batch, though the ranks hold different clean frames."""
    root = runs["root"]
    assert_same(weights(root / "dit_ddp"), weights(root / "dit_one"))
    assert_same(weights(root / "dit_ddp", "ema"), weights(root / "dit_one", "ema"))

    def losses(run: str) -> list[float]:
        return [float(r.split(",")[1]) for r in (root / run / "loss.csv").read_text().splitlines()[1:]]

    assert losses("dit_ddp") == pytest.approx(losses("dit_one"), rel=1e-4)  # the logged mean over ranks, too


def test_fsdp_equals_one_process(runs):
    """The DiT under FSDP2 with activation checkpointing per block, 2 processes = 1 with the same batch."""
    root = runs["root"]
    assert is_sharded(root / "dit_fsdp" / "ckpt") and len(list((root / "dit_fsdp/ckpt").glob("*.distcp"))) == 2
    assert_same(weights(root / "dit_fsdp"), weights(root / "dit_one"))
    assert_same(weights(root / "dit_fsdp", "ema"), weights(root / "dit_one", "ema"))
    # the exported folder is the usual one: config.json + safetensors, no distributed set-up to load it
    assert_same(load_state(root / "dit_fsdp/model", "dit"), load_state(root / "dit_one/model", "dit"))
    assert json.loads((root / "dit_fsdp/model/config.json").read_text())["dit"] == \
        json.loads((root / "dit_one/model/config.json").read_text())["dit"]


def test_checkpoint_from_two_processes_resumes_in_one(runs):
    """The VAE: 2 steps under FSDP on 2 processes (sharded checkpoint), then 2 in one plain process."""
    assert runs["2to1_sharded"] and runs["2to1_files"] == 2 and runs["2to1_step"] == 2
    root = runs["root"]
    assert_same(weights(root / "vae_2to1"), weights(root / "vae_one"))
    assert_same(weights(root / "vae_2to1", "ema"), weights(root / "vae_one", "ema"))
    steps = [int(line.split(",")[0]) for line in (root / "vae_2to1/loss.csv").read_text().splitlines()[1:]]
    assert steps == [1, 2, 3, 4]


def test_checkpoint_from_one_process_resumes_in_two(runs):
    """The VAE: 2 steps in one process (full checkpoint), then 2 under FSDP on 2 processes, and the export."""
    root = runs["root"]
    assert is_sharded(root / "vae_1to2" / "ckpt")  # written by the 2 processes that resumed it
    assert_same(weights(root / "vae_1to2"), weights(root / "vae_one"))
    assert_same(weights(root / "vae_1to2", "ema"), weights(root / "vae_one", "ema"))
    assert_same(load_state(root / "vae_1to2/model", "vae"), load_state(root / "vae_one/model", "vae"))
    assert json.loads((root / "vae_1to2/model/config.json").read_text())["vae"]["latent_std"] == pytest.approx(
        json.loads((root / "vae_one/model/config.json").read_text())["vae"]["latent_std"], rel=1e-4)


def test_sequence_parallel_training_equals_one_process(runs):
    """The DiT with Ulysses over 2 processes (every condition mode), under DDP and FSDP + checkpointing."""
    root = runs["root"]
    assert_same(weights(root / "dit_sp_ddp"), weights(root / "dit_one"))
    assert_same(weights(root / "dit_sp_fsdp"), weights(root / "dit_one"))
    assert_same(load_state(root / "dit_sp_fsdp/model", "dit"), load_state(root / "dit_one/model", "dit"))


def test_checkpoint_blocks_changes_nothing(tmp_path):
    train(vae_cfg(), tmp_path / "plain", progress=False, stop_at=2)
    train(vae_cfg(checkpoint_blocks=True), tmp_path / "ac", progress=False, stop_at=2)
    a, b = weights(tmp_path / "plain"), weights(tmp_path / "ac")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_bad_settings_are_one_line_errors(cli, tmp_path):
    with pytest.raises(InputError, match="torchrun"):
        train(vae_cfg(parallel="fsdp"), tmp_path / "a", progress=False)
    with pytest.raises(InputError, match="heads divisible by 3"):
        train(dit_cfg(tmp_path, sequence_parallel=3), tmp_path / "b", progress=False)
    with pytest.raises(InputError, match="multiple of 2 processes"):
        train(dit_cfg(tmp_path, sequence_parallel=2), tmp_path / "c", progress=False)
    with pytest.raises(InputError, match="kind=dit"):
        vae_cfg(sequence_parallel=2)
    with pytest.raises(InputError, match="'ddp' or 'fsdp'"):
        vae_cfg(parallel="zero3")
    code, out, err = cli("train", "vae", "--out", tmp_path / "d", "--recipe", "tiny", "--set", "parallel=fsdp")
    assert code == 2 and err.strip().startswith("error:") and "torchrun" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d" / "ckpt").exists()


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
