"""Prompt files, report folder and CLI of cinegen eval."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cinegen.cli.eval_cmd import _shard_range
from cinegen.common.errors import InputError
from cinegen.eval.compare import read_report
from cinegen.eval.prompts import load_prompts
from cinegen.eval.report import mean_ci, merge_reports, write_report
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


def _report(path, values):
    res = [{"prompt": f"p{v}", "scores": {d: {"value": v, "passed": v > 0.5, "detail": ""} for d in DIMENSIONS}}
           for v in values]
    write_report(path, res, [np.full((5, 8, 8, 3), int(255 * v), np.uint8) for v in values])


def test_merge_reports_renumbers_in_order_and_summarises_all(tmp_path):
    _report(tmp_path / "a", [0.0, 1.0])
    _report(tmp_path / "b", [0.5])
    summary = merge_reports(tmp_path / "m", [tmp_path / "a", tmp_path / "b"])
    assert [r["prompt"] for r in read_report(tmp_path / "m")] == ["p0.0", "p1.0", "p0.5"]
    assert summary["colour"]["n"] == 3 and summary["colour"]["mean"] == pytest.approx(0.5)
    assert sorted(p.name for p in (tmp_path / "m" / "sheets").iterdir()) == ["0000.png", "0001.png", "0002.png"]
    # the third sheet is b's first, not a's
    assert np.asarray(Image.open(tmp_path / "m" / "sheets" / "0002.png"))[0, 0, 0] == 127


def test_merge_reports_refuses_a_used_folder_and_a_non_report(tmp_path):
    _report(tmp_path / "a", [1.0])
    with pytest.raises(InputError, match="not empty"):
        merge_reports(tmp_path / "a", [tmp_path / "a"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not an eval report"):
        merge_reports(tmp_path / "m", [tmp_path / "a", tmp_path / "empty"])
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_shard_ranges_cover_every_prompt_once():
    for n in (1, 5, 206):
        for parts in (1, 2, 3):
            ranges = [_shard_range(f"{k}/{parts}", n) for k in range(1, parts + 1)]
            assert ranges[0][0] == 0 and ranges[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert _shard_range(None, 7) == (0, 7)
    for bad in ("2", "0/2", "3/2", "a/b"):
        with pytest.raises(InputError, match="--shard"):
            _shard_range(bad, 10)
