"""Whole-command generation speed: model load, text encoding, sampling, VAE decode, watermark, MP4 write.

Each case runs in a fresh subprocess (so model load and peak memory are those a user sees) and
reports the split by stage, the real-time factor (wall time / video duration) and peak RSS.

    python benchmarks/bench_generate.py [--model DIR] [--seconds 10 60] [--steps 20]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from pathlib import Path
from cinegen.pipeline import Pipeline
from cinegen.pipeline.output import save_video
args = json.loads(sys.argv[1])
t_import = time.perf_counter()
pipe = Pipeline.from_pretrained(args["model"])
t_load = time.perf_counter()
req, text, cond = pipe.prepare("a red ball bouncing on a checker floor", seconds=args["seconds"], steps=args["steps"],
                               seed=0, expand=not args["no_expand"])
chunks = pipe.frames_stream(req, text, cond)
t_w = time.perf_counter()
from cinegen.common.video_io import write_video
n = 0
def counted():
    global n
    for c in chunks:
        n += len(c)
        yield c
out = Path(args["out"])
write_video(out, counted(), req.fps)
t_end = time.perf_counter()
from cinegen.pipeline.output import sign_output
sign_output(out, "bench", pipe.name)
t_sign = time.perf_counter()
st = pipe.stats
inside = sum(st.values())
print(json.dumps({
    "frames": n, "fps": req.fps, "seconds": n / req.fps, "steps": req.steps,
    "width": req.width, "height": req.height,
    "import_s": t_import - t0, "load_s": t_load - t_import,
    "text_s": st.get("text", 0.0), "sample_s": st.get("sample", 0.0), "decode_s": st.get("decode", 0.0),
    "watermark_s": st.get("watermark", 0.0), "encode_mp4_s": (t_end - t_w) - inside, "sign_s": t_sign - t_end,
    "total_s": t_sign - t0, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_case(model: str | None, seconds: float, steps: int | None, out: Path, no_expand: bool) -> dict:
    args = json.dumps({"model": model, "seconds": seconds, "steps": steps, "out": str(out), "no_expand": no_expand})
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"case {seconds}s failed:\n{r.stderr[-3000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["wall_s"] = wall  # includes Python start-up and imports: what a user waits for
    res["realtime_factor"] = wall / res["seconds"]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    ap.add_argument("--no-expand", action="store_true")
    ap.add_argument("--json", default="benchmarks/results/generate.json")
    a = ap.parse_args()
    out_dir = Path("benchmarks/results")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [run_case(a.model, s, a.steps, out_dir / f"bench_{s:g}s.mp4", a.no_expand) for s in a.seconds]
    cols = ["seconds", "frames", "width", "steps", "load_s", "text_s", "sample_s", "decode_s", "watermark_s",
            "encode_mp4_s", "sign_s", "wall_s", "realtime_factor", "peak_rss_mb"]
    print(" | ".join(f"{c:>12}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r[c]:>12.2f}" if isinstance(r[c], float) else f"{r[c]:>12}" for c in cols))
    if len(rows) >= 2:
        print(f"time ratio {rows[-1]['seconds']:g}s / {rows[0]['seconds']:g}s: {rows[-1]['wall_s'] / rows[0]['wall_s']:.2f}; "
              f"peak memory ratio: {rows[-1]['peak_rss_mb'] / rows[0]['peak_rss_mb']:.2f}")
    Path(a.json).write_text(json.dumps(rows, indent=2))
    for s in a.seconds:
        (out_dir / f"bench_{s:g}s.mp4").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
