"""Do a model's videos jump where one sampling window hands over to the next? Read from `cinegen eval run`
folders, no sampling: for each video, the track of the object the prompt names first (the eval's `seen`),
and for each pair of neighbouring frames whether its centre moved more than THRESHOLD of the frame. The
pairs where a window's new frames begin (the model's window plan, pipeline/windows.py) are the seams;
the rest are inside windows. A model that continues a video across the seam jumps there no more often.

    python benchmarks/seam_jumps.py --model MODEL EVAL_DIR [EVAL_DIR ...] [--threshold 0.08] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def seam_pairs(model: Path, n_frames: int) -> set[int]:
    """Frame pairs (t, t+1), by t, where a window after the first starts its new frames."""
    from cinegen.common.checkpoint import load_config
    from cinegen.pipeline.sampling_config import SamplingConfig
    from cinegen.pipeline.windows import plan_windows
    from cinegen.vae.config import VAEConfig

    config = load_config(model)
    s = SamplingConfig.from_dict(config.get("sampling", {}))
    tf = VAEConfig.from_dict(config["vae"]).temporal_down
    n_latent = 1 + -(-(n_frames - 1) // tf)
    first_new = [w.start + w.n_context for w in plan_windows(n_latent, s.window, s.context)[1:]]
    return {1 + tf * (lat - 1) - 1 for lat in first_new}  # latent k ≥ 1 starts at frame 1 + tf·(k − 1)


def jumps(eval_dir: Path, threshold: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Per frame pair t: videos whose subject jumped, videos where both frames saw it; and the frame count."""
    jumped, seen, n_frames = None, None, 0
    for f in sorted((eval_dir / "videos").glob("*.json")):
        d = json.loads(f.read_text())
        n_frames = int(d["seen"]["n_frames"])
        if jumped is None:
            jumped, seen = np.zeros(n_frames - 1), np.zeros(n_frames - 1)
        if not d["seen"]["objects"]:
            continue
        track = d["seen"]["objects"][0]["track"]
        for t in range(min(len(track), n_frames) - 1):
            a, b = track[t], track[t + 1]
            if a is None or b is None or None in a or None in b:
                continue
            seen[t] += 1
            jumped[t] += float(np.hypot(b[0] - a[0], b[1] - a[1])) > threshold
    if jumped is None:
        raise SystemExit(f"error: {eval_dir} holds no eval videos (videos/*.json)")
    return jumped, seen, n_frames


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("evals", nargs="+", type=Path)
    ap.add_argument("--model", type=Path, required=True, help="the model the evals sampled (its window plan)")
    ap.add_argument("--threshold", type=float, default=0.08, help="a jump: the centre moves more than this")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    rows = []
    print(f"{'eval':<28} {'inside':>8} {'at seams':>9}  seam pairs")
    for ev in args.evals:
        jumped, seen, n_frames = jumps(ev, args.threshold)
        seams = sorted(seam_pairs(args.model, n_frames))
        at = np.zeros(len(seen), dtype=bool)
        at[[t for t in seams if t < len(seen)]] = True
        inside = jumped[~at].sum() / max(seen[~at].sum(), 1)
        seam = jumped[at].sum() / max(seen[at].sum(), 1)
        rows.append({"eval": str(ev), "frames": n_frames, "seam_pairs": seams, "inside": inside, "at_seams": seam,
                     "per_pair": (jumped / np.maximum(seen, 1)).round(3).tolist()})
        print(f"{ev.name:<28} {inside:>8.3f} {seam:>9.3f}  {', '.join(f'{t}→{t + 1}' for t in seams)}")
    if args.json:
        args.json.write_text(json.dumps({"threshold": args.threshold, "model": str(args.model), "rows": rows},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
