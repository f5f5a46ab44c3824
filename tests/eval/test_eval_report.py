"""Prompt files, report folder and CLI of cinegen eval."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cinegen.common.errors import InputError
from cinegen.eval.prompts import load_prompts
from cinegen.eval.report import mean_ci, write_report
from cinegen.eval.score import DIMENSIONS

PROMPTS = Path(__file__).resolve().parents[2] / "eval" / "prompts"


def test_prompt_sets_sizes():
    assert len(load_prompts(PROMPTS / "dev.txt")) >= 200
    assert len(load_prompts(PROMPTS / "paraphrase.txt")) >= 60
    assert all(p.prompt.count(".") >= 3 for p in load_prompts(PROMPTS / "long.txt"))
    assert all(p.shots == 2 for p in load_prompts(PROMPTS / "multishot.jsonl"))


def test_bad_prompt_file(tmp_path):
    with pytest.raises(InputError):
        load_prompts(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(InputError):
        load_prompts(tmp_path / "empty.txt")


def test_mean_ci():
    m, lo, hi = mean_ci([0.0, 1.0] * 50)
    assert m == pytest.approx(0.5) and lo == pytest.approx(0.5 - 1.96 * np.std([0, 1] * 50, ddof=1) / 10)
    assert hi > m > lo


def test_write_report(tmp_path):
    scores = {d: {"value": 1.0, "passed": True, "detail": ""} for d in DIMENSIONS}
    res = [{"prompt": "a red ball", "scores": scores}] * 3
    frames = np.zeros((5, 16, 16, 3), np.uint8)
    summary = write_report(tmp_path / "r", res, [frames] * 3)
    assert summary["colour"]["mean"] == 1.0
    for name in ("summary.md", "summary.json", "dimensions.png", "videos/0002.json", "sheets/0000.png"):
        assert (tmp_path / "r" / name).is_file()
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["colour"]["n"] == 3
