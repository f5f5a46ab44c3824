"""Quality against sampling steps: the same prompts and seeds at several step counts, scored by cinegen.eval.

    python benchmarks/bench_steps.py [--model DIR] [--steps 4 8 12 16 20 30] [--limit 24] [--sampler euler unipc]

For each step count: the mean of every eval dimension over the prompts (evenly spread over
eval/prompts/dev.txt), the mean over the issue's seven quality dimensions, and the sampling time
per video. Prints a table, writes benchmarks/results/steps.json and a curve (steps.png).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

KEY_DIMS = ["colour", "shape", "count", "motion", "background", "consistency", "physics"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--prompts", default="eval/prompts/dev.txt")
    ap.add_argument("--steps", type=int, nargs="+", default=[4, 8, 12, 16, 20, 30])
    ap.add_argument("--limit", type=int, default=24)
    ap.add_argument("--interval", type=float, nargs=2, default=None, help="guidance interval lo hi (default: the model's)")
    ap.add_argument("--guidance", type=float, default=None, help="guidance scale (default: the model's)")
    ap.add_argument("--sampler", nargs="+", default=[None], help="euler and/or unipc (default: the model's)")
    ap.add_argument("--json", default="benchmarks/results/steps.json")
    a = ap.parse_args()

    from cinegen.eval.prompts import load_prompts
    from cinegen.eval.report import DIMENSIONS, evaluate_video
    from cinegen.pipeline import Pipeline

    items = load_prompts(a.prompts)
    items = items[:: max(1, len(items) // a.limit)][: a.limit]
    pipe = Pipeline.from_pretrained(a.model)
    if a.interval:
        pipe.sampling = pipe.sampling.replace(guidance_interval=tuple(a.interval))
    rows = []
    for sampler, steps in [(sm, st) for sm in a.sampler for st in a.steps]:
        sampler = sampler or pipe.sampling.sampler
        scores: dict[str, list[float]] = {d: [] for d in DIMENSIONS}
        t0 = time.perf_counter()
        for i, it in enumerate(items):
            res = pipe(it.prompt, seconds=it.seconds, steps=steps, guidance=a.guidance, seed=i, sampler=sampler)
            for d, s in evaluate_video(res.frames, res.fps, it.prompt, it.shots)["scores"].items():
                if s["value"] is not None:
                    scores[d].append(s["value"])
        row = {"sampler": sampler, "steps": steps, "seconds_per_video": (time.perf_counter() - t0) / len(items), "n": len(items),
               "guidance": a.guidance or pipe.sampling.guidance, "interval": list(pipe.sampling.guidance_interval)}
        row.update({d: float(np.mean(v)) if v else None for d, v in scores.items()})
        row["key_mean"] = float(np.mean([row[d] for d in KEY_DIMS if row[d] is not None]))
        rows.append(row)
        print(f"{sampler} steps {steps:3d}: key mean {row['key_mean']:.3f}  " +
              "  ".join(f"{d} {row[d]:.2f}" for d in KEY_DIMS if row[d] is not None) +
              f"  ({row['seconds_per_video']:.1f} s/video)", flush=True)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(rows, indent=1))
    _plot(rows, Path(a.json).with_suffix(".png"))


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    samplers = sorted({r["sampler"] for r in rows})
    for sampler, style in zip(samplers, ["-", "--"]):
        part = [r for r in rows if r["sampler"] == sampler]
        steps = [r["steps"] for r in part]
        for d in KEY_DIMS + ["key_mean"]:
            vals = [r[d] for r in part]
            if all(v is not None for v in vals):
                ax.plot(steps, vals, style, marker="o", lw=2.5 if d == "key_mean" else 1,
                        label=f"{d} ({sampler})" if len(samplers) > 1 else d)
    ax.set_xlabel("sampling steps")
    ax.set_ylabel("eval score")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
