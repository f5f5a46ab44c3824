"""Whole-command generation speed: model load, text encoding, sampling, VAE decode, watermark, MP4 write.

Each case runs in a fresh subprocess (so model load and peak memory are those a user sees) and
reports the split by stage, the real-time factor (wall time / video duration) and peak RSS.
Each case also times the real command, `cinegen generate PROMPT --seconds S -o OUT`, from process
start to exit (`cli_wall_s`, `cli_rtf`). The text encoder's start-up trace (text/compiled.py) is
built once before the cases; `--cold` adds a first-ever run with an empty cache folder.

    python benchmarks/bench_generate.py [--model DIR] [--seconds 10 60] [--steps 20]
    python benchmarks/bench_generate.py --seconds 10 --configs euler:20 unipc:8   # samplers side by side
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

PROMPT = "a red ball bouncing on a checker floor"
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
req, text, cond = pipe.prepare(args["prompt"], seconds=args["seconds"], steps=args["steps"],
                               seed=0, expand=not args["no_expand"], sampler=args["sampler"])
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
    "frames": n, "fps": req.fps, "seconds": n / req.fps, "steps": req.steps, "sampler": req.sampler,
    "width": req.width, "height": req.height,
    "import_s": t_import - t0, "load_s": t_load - t_import,
    "text_s": st.get("text", 0.0), "sample_s": st.get("sample", 0.0), "decode_s": st.get("decode", 0.0),
    "watermark_s": st.get("watermark", 0.0), "encode_mp4_s": (t_end - t_w) - inside, "sign_s": t_sign - t_end,
    "total_s": t_sign - t0, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_case(model: str | None, seconds: float, steps: int | None, out: Path, no_expand: bool,
             sampler: str | None = None) -> dict:
    args = json.dumps({"model": model, "seconds": seconds, "steps": steps, "out": str(out), "no_expand": no_expand,
                       "prompt": PROMPT, "sampler": sampler})
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", CHILD, args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"case {seconds}s failed:\n{r.stderr[-3000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["wall_s"] = wall  # includes Python start-up and imports: what a user waits for
    res["realtime_factor"] = wall / res["seconds"]
    return res


def run_cli(model: str | None, seconds: float, steps: int | None, out: Path, env: dict | None = None,
            sampler: str | None = None) -> float:
    exe = Path(sys.executable).with_name("cinegen")
    cmd = [str(exe), "generate", PROMPT, "--seconds", f"{seconds:g}", "-o", str(out)]
    cmd += ["--model", model] if model else []
    cmd += ["--steps", str(steps)] if steps else []
    cmd += ["--sampler", sampler] if sampler else []
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"cinegen generate failed:\n{r.stderr[-3000:]}")
    out.unlink(missing_ok=True)
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    ap.add_argument("--configs", nargs="+", default=None, metavar="SAMPLER:STEPS",
                    help="sampler and steps per case, side by side (e.g. euler:20 unipc:8); default: the model's")
    ap.add_argument("--no-expand", action="store_true")
    ap.add_argument("--cold", action="store_true", help="also time a first-ever run (empty start-up cache)")
    ap.add_argument("--json", default="benchmarks/results/generate.json")
    a = ap.parse_args()
    out_dir = Path("benchmarks/results")
    out_dir.mkdir(parents=True, exist_ok=True)
    cold = None
    if a.cold:
        import os
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            cold = run_cli(a.model, a.seconds[0], a.steps, out_dir / "bench_cold.mp4", {**os.environ, "CINEGEN_CACHE_DIR": tmp})
    from cinegen.text import TextEncoder

    TextEncoder()  # builds the start-up trace if this machine has none yet (what every run after the first finds)
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in a.configs] if a.configs else [(None, a.steps)]
    rows = []
    for sampler, steps in configs:
        for s in a.seconds:
            row = run_case(a.model, s, steps, out_dir / f"bench_{s:g}s.mp4", a.no_expand, sampler)
            row["cli_wall_s"] = run_cli(a.model, s, steps, out_dir / f"bench_cli_{s:g}s.mp4", sampler=sampler)
            row["cli_rtf"] = row["cli_wall_s"] / row["seconds"]
            rows.append(row)
    if cold is not None:
        rows[0]["cli_cold_wall_s"] = cold
        print(f"first-ever run (no start-up cache), {a.seconds[0]:g} s video: {cold:.2f} s wall")
    cols = ["sampler", "seconds", "frames", "width", "steps", "load_s", "text_s", "sample_s", "decode_s", "watermark_s",
            "encode_mp4_s", "sign_s", "wall_s", "realtime_factor", "cli_wall_s", "cli_rtf", "peak_rss_mb"]
    print(" | ".join(f"{c:>12}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r[c]:>12.2f}" if isinstance(r[c], float) else f"{r[c]:>12}" for c in cols))
    if len(configs) > 1:
        for i, r in enumerate(rows[len(a.seconds):]):
            base = rows[i % len(a.seconds)]  # the first config's row for the same length
            print(f"{r['sampler']} {r['steps']} steps / {base['sampler']} {base['steps']} steps, {r['seconds']:g} s video: "
                  f"sampling {r['sample_s'] / base['sample_s']:.2f}×, whole command {r['cli_wall_s'] / base['cli_wall_s']:.2f}×")
    elif len(rows) >= 2:
        print(f"time ratio {rows[-1]['seconds']:g}s / {rows[0]['seconds']:g}s: {rows[-1]['wall_s'] / rows[0]['wall_s']:.2f}; "
              f"peak memory ratio: {rows[-1]['peak_rss_mb'] / rows[0]['peak_rss_mb']:.2f}")
    Path(a.json).write_text(json.dumps(rows, indent=2))
    for s in a.seconds:
        (out_dir / f"bench_{s:g}s.mp4").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
