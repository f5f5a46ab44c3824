"""`cinegen eval compare`: paired change per dimension between two report folders."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cinegen.cli.eval_cmd import eval_app
from cinegen.common.errors import InputError
from cinegen.eval.compare import compare_results, read_report
from cinegen.eval.score import DIMENSIONS


def _result(prompt: str, colour: float, motion: float | None) -> dict:
    scores = {d: {"value": None, "passed": None, "detail": ""} for d in DIMENSIONS}
    scores["colour"] = {"value": colour, "passed": colour == 1.0, "detail": ""}
    scores["motion"] = {"value": motion, "passed": None if motion is None else motion == 1.0, "detail": ""}
    return {"prompt": prompt, "scores": scores}


def _write(folder, results):
    (folder / "videos").mkdir(parents=True)
    for i, r in enumerate(results):
        (folder / "videos" / f"{i:04d}.json").write_text(json.dumps(r))
    return folder


def test_paired_change_and_interval():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 1, 40)
    a = [_result(f"p{i}", float(v), 1.0 if i % 2 else None) for i, v in enumerate(base)]
    b = [_result(f"p{i}", float(v + 0.05 * (i % 4 == 0)), 0.0 if i % 2 else 1.0) for i, v in enumerate(base)]
    by = {c.dimension: c for c in compare_results(a, b)}
    assert set(by) == {"colour", "motion"}  # dimensions scored in neither report are left out
    c = by["colour"]
    assert c.n == 40 and c.changed == 10 and c.change == pytest.approx(0.05 * 10 / 40)
    d = np.where(np.arange(40) % 4 == 0, 0.05, 0.0)
    half = 1.96 * d.std(ddof=1) / np.sqrt(40)
    assert c.ci95 == pytest.approx((d.mean() - half, d.mean() + half))
    assert c.mean_a == pytest.approx(base.mean()) and c.mean_b == pytest.approx(base.mean() + d.mean())
    m = by["motion"]  # only videos scored in both count: the odd ones
    assert m.n == 20 and m.change == pytest.approx(-1.0) and m.changed == 20


def test_mismatched_reports_are_input_errors(tmp_path):
    a = [_result("p0", 1.0, None), _result("p1", 1.0, None)]
    with pytest.raises(InputError, match="same prompts"):
        compare_results(a, a[:1])
    with pytest.raises(InputError, match="different prompts"):
        compare_results(a, [a[0], _result("other", 1.0, None)])
    with pytest.raises(InputError, match="not an eval report"):
        read_report(tmp_path)


def test_cli_prints_table_and_writes_json(tmp_path):
    a = _write(tmp_path / "a", [_result("p0", 1.0, 1.0), _result("p1", 0.0, 1.0)])
    b = _write(tmp_path / "b", [_result("p0", 1.0, 0.0), _result("p1", 1.0, 1.0)])
    res = CliRunner().invoke(eval_app, ["compare", str(a), str(b), "--json", str(tmp_path / "c.json")])
    assert res.exit_code == 0, res.output
    assert "colour" in res.output and "+0.5000" in res.output
    out = json.loads((tmp_path / "c.json").read_text())
    assert {d["dimension"]: d["change"] for d in out["dimensions"]} == {"colour": 0.5, "motion": -0.5}
    res = CliRunner().invoke(eval_app, ["compare", str(a), str(tmp_path)])
    assert isinstance(res.exception, InputError)
