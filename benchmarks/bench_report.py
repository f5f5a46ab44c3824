"""Shared pieces of the acceptance benchmarks (bench_modes.py, bench_long.py): averages that skip
unjudged items, the printed summary, and the results file that keeps earlier parts' results."""
from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def mean_of(values: list[float | None]) -> float | None:
    """Mean of the judged values (None and NaN are not judged); None when none is."""
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else None


def share(flags: list[bool | None]) -> float | None:
    """Share of judged flags that are true; None when none is judged."""
    v = [bool(f) for f in flags if f is not None]
    return float(np.mean(v)) if v else None


def fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return str(v)


def print_part(name: str, res: dict[str, Any]) -> None:
    per = f", {res['seconds_per_item']:.2f} s/item" if res.get("n") else ""
    print(f"\n== {name}: n={res.get('n', '-')}{per}, {res['wall_s']:.1f} s total")

    def rows(prefix: str, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                rows(f"{prefix}{k}.", v)
            else:
                print(f"  {prefix + k:40s} {fmt(v)}")

    rows("", res["summary"])


def load_report(path: Path) -> dict[str, Any]:
    """The results file so far: parts that do not run now keep their earlier results."""
    report: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    report.setdefault("parts", {})
    return report


def write_report(path: Path, report: dict[str, Any], t0: float, **last_run: Any) -> None:
    report["last_run"] = {**last_run, "threads": os.environ.get("OMP_NUM_THREADS"),
                          "python": platform.python_version(), "argv": sys.argv[1:],
                          "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, default=float))
    print(f"\nwrote {path} ({time.perf_counter() - t0:.1f} s)")
