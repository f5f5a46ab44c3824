"""Exact resume after a kill, and DDP under torchrun equal to one process with the same global batch."""
import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from cinegen.common.checkpoint import load_state
from cinegen.train.config import TrainConfig, override
from cinegen.train.recipes import tiny_vae
from cinegen.train.trainer import FIT_AFTER_STEPS, fit_steps, lr_at, train


def _cfg(**kw) -> TrainConfig:
    return dataclasses.replace(tiny_vae(), steps=6, ckpt_every=3, log_every=1, **kw)


def test_resume_after_kill_equals_uninterrupted(tmp_path):
    cfg = _cfg()
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False, stop_at=3)  # "killed" right after the step-3 checkpoint
    res = train(cfg, tmp_path / "b", progress=False)
    assert res["done"] and res["step"] == 6
    a, b = load_state(tmp_path / "a/ckpt", "model"), load_state(tmp_path / "b/ckpt", "model")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "b/loss.csv").exists() and (tmp_path / "b/loss.png").exists()
    assert (tmp_path / "a/model/config.json").exists()  # exported model folder
    lines = (tmp_path / "b/loss.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in lines[1:]] == [1, 2, 3, 4, 5, 6]


def test_overrides_are_checked():
    cfg = override(_cfg(), ["lr=0.01", "steps=9", "model.base_channels=8"])
    assert cfg.lr == 0.01 and cfg.steps == 9 and cfg.model_overrides == {"base_channels": 8}
    from cinegen.common.errors import InputError

    with pytest.raises(InputError, match="unknown training setting"):
        override(cfg, ["learning_rate=1"])
    with pytest.raises(InputError, match="needs a int"):
        override(cfg, ["steps=many"])
    assert override(cfg, ["model.patch_size=[1,2,2]"]).model_overrides["patch_size"] == [1, 2, 2]  # JSON values
    with pytest.raises(InputError, match="model.NAME=VALUE"):
        override(cfg, ['model_overrides={"dim": 8}'])


def test_fit_steps_keeps_the_cooldown_share():
    cfg = dataclasses.replace(_cfg(), steps=1000, cooldown=250)
    fitted = fit_steps(cfg, step=20, rate=2.0, seconds_left=190.0)  # 380 more steps fit
    assert fitted.steps == 400 and fitted.cooldown == 100
    assert lr_at(fitted, fitted.steps - 1) < 0.02 * fitted.lr  # the run still ends cooled down


def test_fit_minutes_sizes_the_run_to_its_time(tmp_path):
    cfg = dataclasses.replace(_cfg(), steps=100_000, cooldown=10_000, ckpt_every=10_000, log_every=10)
    res = train(cfg, tmp_path / "fit", progress=False, fit_minutes=0.05)  # 3 s of a tiny VAE
    saved = json.loads((tmp_path / "fit/config.json").read_text())
    assert res["done"] and res["step"] == saved["steps"]
    # the cool-down keeps its 10% share, within the steps left after the timed ones (a loaded machine fits few)
    left = saved["steps"] - FIT_AFTER_STEPS
    assert FIT_AFTER_STEPS < saved["steps"] < 100_000 and saved["cooldown"] == min(left, round(0.1 * saved["steps"]))
    assert (tmp_path / "fit/model/config.json").exists()


DDP_SCRIPT = """
import dataclasses, json, sys
from cinegen.train.recipes import tiny_vae
from cinegen.train.trainer import train
cfg = dataclasses.replace(tiny_vae(), steps=3, ckpt_every=3, log_every=1, batch_size=2, image_fraction=0.0)
res = train(cfg, sys.argv[1], progress=False)
print(json.dumps(res))
"""


def test_ddp_two_processes_match_one(tmp_path):
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, str(script), str(tmp_path / "one")], capture_output=True, text=True,
                         timeout=300, env=env)
    assert one.returncode == 0, one.stderr[-2000:]
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                          "--master-port", "29533", str(script), str(tmp_path / "two")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert two.returncode == 0, two.stderr[-2000:]
    a, b = load_state(tmp_path / "one/ckpt", "model"), load_state(tmp_path / "two/ckpt", "model")
    assert all(torch.allclose(a[k], b[k], atol=1e-5, rtol=1e-4) for k in a)
    loss1 = json.loads(one.stdout.strip().splitlines()[-1])["loss"]
    loss2 = json.loads([line for line in two.stdout.splitlines() if line.startswith("{")][-1])["loss"]
    assert abs(loss1 - loss2) < 1e-4 * max(1.0, abs(loss1))


def test_lr_schedule_warms_up_holds_and_cools_down():
    from cinegen.common.errors import InputError
    from cinegen.train.trainer import lr_at

    cfg = dataclasses.replace(tiny_vae(), lr=1e-3, warmup=10, steps=100, cooldown=40)
    lrs = [lr_at(cfg, s) for s in range(100)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(lr == pytest.approx(1e-3) for lr in lrs[9:60])  # stable ...
    assert lrs[60] == pytest.approx(1e-3) and lrs[80] == pytest.approx(5e-4) and lrs[99] == pytest.approx(2.5e-5)
    assert all(a > b for a, b in zip(lrs[60:], lrs[61:]))  # ... then falls linearly towards 0
    assert lr_at(dataclasses.replace(cfg, cooldown=0), 99) == pytest.approx(1e-3)
    with pytest.raises(InputError, match="cooldown"):
        dataclasses.replace(cfg, cooldown=101)
