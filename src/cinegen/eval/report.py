"""Report folders for `cinegen eval run` / `cinegen eval videos`.

    out/
      videos/<i>.json        # description + scores of each video
      sheets/<i>.png         # contact sheet: frames of the video
      summary.md             # mean and 95% confidence interval per dimension
      summary.json
      dimensions.png         # bar chart of the means with their intervals
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cinegen.common.atomic import atomic_path, write_text_atomic
from cinegen.common.errors import InputError
from cinegen.eval.describe import describe
from cinegen.eval.parse import parse
from cinegen.eval.score import DIMENSIONS, score_description, to_json


def mean_ci(values, lo: float = 0.0, hi: float = 1.0) -> tuple[float, float, float]:
    """Mean and 95% interval (normal approximation, t≈1.96), clipped to the values' range [lo, hi]
    (scores: [0, 1]; changes of a score: [-1, 1])."""
    if len(values) == 0:
        return float("nan"), float("nan"), float("nan")
    v = np.asarray(values, dtype=np.float64)
    m = float(v.mean())
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(len(v)) if len(v) > 1 else 0.0
    return m, max(lo, m - half), min(hi, m + half)


def contact_sheet(frames: np.ndarray, path: Path, columns: int = 8, max_frames: int = 16) -> None:
    idx = np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int)
    tiles = frames[idx]
    rows = math.ceil(len(tiles) / columns)
    h, w = tiles.shape[1:3]
    sheet = np.full((rows * (h + 2), min(columns, len(tiles)) * (w + 2), 3), 255, np.uint8)
    for k, f in enumerate(tiles):
        r, c = divmod(k, columns)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = f
    with atomic_path(path) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")


def evaluate_video(frames: np.ndarray, fps: float, prompt: str, shots: int | None = None) -> dict[str, Any]:
    d = describe(frames, fps)
    e = parse(prompt, shots)
    return {"prompt": prompt, "expected": e.to_dict(), "seen": d.to_dict(),
            "scores": to_json(score_description(d, e))}


def write_report(out: Path, results: list[dict[str, Any]], sheets: list[np.ndarray]) -> dict[str, Any]:
    out = Path(out)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    for i, (r, frames) in enumerate(zip(results, sheets)):
        write_text_atomic(out / "videos" / f"{i:04d}.json", json.dumps(r, indent=1))
        contact_sheet(frames, out / "sheets" / f"{i:04d}.png")
    return write_summary(out, results)


def write_summary(out: Path, results: list[dict[str, Any]]) -> dict[str, Any]:
    """summary.md, summary.json and dimensions.png of a report folder from its per-video results."""
    summary: dict[str, Any] = {}
    lines = ["| dimension | n | mean | 95% CI | pass rate |", "|---|---|---|---|---|"]
    for dim in DIMENSIONS:
        vals = [r["scores"][dim]["value"] for r in results if r["scores"][dim]["value"] is not None]
        passes = [r["scores"][dim]["passed"] for r in results if r["scores"][dim]["passed"] is not None]
        m, lo, hi = mean_ci(vals)
        rate = float(np.mean(passes)) if passes else float("nan")
        summary[dim] = {"n": len(vals), "mean": m, "ci95": [lo, hi], "pass_rate": rate}
        if vals:
            lines.append(f"| {dim} | {len(vals)} | {m:.3f} | [{lo:.3f}, {hi:.3f}] | {rate:.2f} |")
    write_text_atomic(out / "summary.md", f"# cinegen eval: {len(results)} videos\n\n" + "\n".join(lines) + "\n")
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=1))
    bar_chart(summary, out / "dimensions.png")
    return summary


def merge_reports(out: Path, parts: list[Path]) -> dict[str, Any]:
    """One report folder from several (the shards of one `eval run --shard`, in order): videos and sheets
    renumbered in sequence, the summary computed over all of them."""
    import shutil

    from cinegen.eval.compare import read_report

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} exists and is not empty: merge into a new folder")
    loaded = [(Path(p), read_report(p)) for p in parts]  # reads (and checks) every part before writing
    (out / "videos").mkdir(parents=True, exist_ok=True)
    (out / "sheets").mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for part, res in loaded:
        sheets = sorted((part / "sheets").glob("*.png"))
        for k, r in enumerate(res):
            i = len(results)
            write_text_atomic(out / "videos" / f"{i:04d}.json", json.dumps(r, indent=1))
            if k < len(sheets):
                shutil.copyfile(sheets[k], out / "sheets" / f"{i:04d}.png")
            results.append(r)
    return write_summary(out, results)


def bar_chart(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = [d for d in summary if summary[d]["n"]]
    means = [summary[d]["mean"] for d in dims]
    err = np.array([[summary[d]["mean"] - summary[d]["ci95"][0], summary[d]["ci95"][1] - summary[d]["mean"]] for d in dims]).T
    fig, ax = plt.subplots(figsize=(max(4, 0.7 * len(dims)), 3))
    ax.bar(dims, means, yerr=err if len(dims) else None, color="#4a7bd0", capsize=3)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
