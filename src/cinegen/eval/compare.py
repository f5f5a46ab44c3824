"""Paired comparison of two eval report folders made on the same prompts (`cinegen eval compare A B`).

Two models, settings or post-processings (the watermark on and off, say) scored on the same prompts
and seeds differ in each video by far less than the videos differ from one another, so the change per
video (B − A) measures the difference with a much tighter interval than the two summaries side by side.
A dimension's change counts the videos scored in both; `changed` is how many of them moved at all.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cinegen.common.errors import InputError
from cinegen.eval.report import mean_ci
from cinegen.eval.score import DIMENSIONS


@dataclass(frozen=True)
class DimChange:
    dimension: str
    n: int  # videos scored on this dimension in both reports
    mean_a: float
    mean_b: float
    change: float  # mean of B − A over those videos
    ci95: tuple[float, float]
    changed: int  # videos whose score moved


def read_report(folder: Path) -> list[dict]:
    """The per-video results (videos/<i>.json, in order) of a report folder."""
    files = sorted((Path(folder) / "videos").glob("*.json"))
    if not files:
        raise InputError(f"{folder} is not an eval report folder (no videos/*.json)")
    try:
        return [json.loads(f.read_text()) for f in files]
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"unreadable report file in {folder}: {e}") from None


def compare_results(a: list[dict], b: list[dict]) -> list[DimChange]:
    """Per dimension, the paired change B − A; the reports must hold the same prompts in the same order."""
    if len(a) != len(b):
        raise InputError(f"the reports hold {len(a)} and {len(b)} videos: compare runs on the same prompts")
    for i, (x, y) in enumerate(zip(a, b)):
        if x.get("prompt") != y.get("prompt"):
            raise InputError(f"video {i} has different prompts in the two reports: compare runs on the same prompts")
    out = []
    for dim in DIMENSIONS:
        pairs = [(x["scores"][dim]["value"], y["scores"][dim]["value"]) for x, y in zip(a, b)]
        pairs = [p for p in pairs if None not in p]
        if not pairs:
            continue
        va, vb = np.array(pairs, dtype=np.float64).T
        d = vb - va
        change, lo, hi = mean_ci(d, -1.0, 1.0)
        out.append(DimChange(dim, len(d), float(va.mean()), float(vb.mean()), change, (lo, hi),
                             int((np.abs(d) > 1e-9).sum())))
    return out


def format_table(changes: list[DimChange], name_a: str = "A", name_b: str = "B") -> str:
    lines = [f"{'dimension':12s} {'n':>4s} {name_a[:8]:>8s} {name_b[:8]:>8s} {'B − A':>8s}  {'95% CI':>17s}  changed"]
    for c in changes:
        lines.append(f"{c.dimension:12s} {c.n:4d} {c.mean_a:8.3f} {c.mean_b:8.3f} {c.change:+8.4f}  "
                     f"[{c.ci95[0]:+.4f}, {c.ci95[1]:+.4f}]  {c.changed}/{c.n}")
    return "\n".join(lines)
