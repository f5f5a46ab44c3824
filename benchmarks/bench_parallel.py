"""What each parallel setting costs and buys here: step time and peak memory per rank of one DiT training
step (synthetic latents, AdamW) for 1 and 2 processes: DDP, FSDP2, Ulysses sequence parallelism,
activation checkpointing. gloo on the CPU, NCCL on GPUs.

    python benchmarks/bench_parallel.py [--preset small] [--frames 9] [--size 16] [--steps 3] [--procs 2] [--threads N]

Every setting runs in its own launch (torchrun for more than one process), since peak memory is per
process. The global batch is the same in all: DDP and FSDP give each rank its share of the samples,
sequence parallelism gives every rank all of them and a share of each one's tokens.
- peak MB: on CUDA torch.cuda.max_memory_allocated; on the CPU the rise of the peak resident set
  over the process's size before the model is built (weights, gradients, optimizer, activations).
- state MB: what the rank keeps between steps: its (shard of the) weights, gradients, AdamW moments, EMA.
On a 2-core CPU expect no speed-up from a second process, only the memory it saves.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

MODES = {  # name -> processes, TrainConfig settings
    "1 process": (1, {}),
    "ddp": (2, {"parallel": "ddp"}),
    "fsdp": (2, {"parallel": "fsdp"}),
    "ddp + sequence parallel": (2, {"parallel": "ddp", "sequence_parallel": 2}),
    "fsdp + sequence parallel + checkpoint_blocks": (2, {"parallel": "fsdp", "sequence_parallel": 2,
                                                         "checkpoint_blocks": True}),
}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _local_mb(t: torch.Tensor | None) -> float:
    if t is None:
        return 0.0
    t = t.to_local() if hasattr(t, "to_local") else t
    return t.numel() * t.element_size() / 2**20


def worker(args: argparse.Namespace) -> None:
    """One setting, on every rank: build, parallelize, time args.steps training steps, write one JSON line."""
    from cinegen.common.device import autocast_dtype, pick_device
    from cinegen.dit import DIT_PRESETS, DiT
    from cinegen.flow import flow_loss
    from cinegen.train import parallel
    from cinegen.train.config import TrainConfig
    from cinegen.train.trainer import ema_update

    nproc, settings = MODES[args.mode]
    device = pick_device("auto")
    cfg = TrainConfig(kind="dit", model=args.preset, **settings)
    d = parallel.setup(device, cfg.parallel, cfg.sequence_parallel)
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // nproc))
    base_mb = _rss_mb()
    torch.manual_seed(0)
    dit = DiT(DIT_PRESETS[args.preset]())
    dit_cfg = dit.cfg
    ema = copy.deepcopy(dit).requires_grad_(False)  # the trainer keeps one: full under DDP, sharded under FSDP
    if cfg.parallel != "fsdp":
        dit, ema = dit.to(device), ema.to(device)
    net = parallel.parallelize(dit, dit, ema, cfg, d, device)
    opt = torch.optim.AdamW(dit.parameters(), lr=1e-4)
    g = torch.Generator().manual_seed(1)
    shape = (args.batch, dit_cfg.in_channels, args.frames, args.size, args.size)
    x0, noise = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    t = torch.rand(args.batch, args.frames, generator=g)
    text = torch.randn(args.batch, 20, dit_cfg.text_dim, generator=g)  # a 20-token prompt
    mine = list(parallel.my_slice(args.batch, d))
    x0, noise, t, text = (a[mine].to(device) for a in (x0, noise, t, text))
    amp = autocast_dtype(device)
    times = []
    for i in range(args.steps + 1):  # the first step warms up (allocator, oneDNN, FSDP's lazy init)
        parallel.barrier(d)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            loss = flow_loss(lambda xx, tt: net(xx, tt, text), x0, noise, t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema_update(ema, dit, 0.999, i)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base_mb  # ru_maxrss: KiB on Linux
    state = sum(_local_mb(p) + _local_mb(p.grad) for p in dit.parameters()) + sum(map(_local_mb, ema.parameters()))
    state += sum(_local_mb(v) for s in opt.state.values() for k, v in s.items() if k in ("exp_avg", "exp_avg_sq"))
    row = {"rank": d.rank, "step_s": statistics.median(times), "peak_mb": peak, "state_mb": state,
           "threads": torch.get_num_threads(), "tokens_per_rank": x0.shape[0] * dit_tokens(dit_cfg, args) // d.sp}
    with open(Path(args.out_dir) / f"{args.mode}.{d.rank}.json", "w") as f:
        f.write(json.dumps(row))
    parallel.barrier(d)
    parallel.teardown(d)


def dit_tokens(cfg, args: argparse.Namespace) -> int:
    pt, ph, pw = cfg.patch_size
    return (args.frames // pt) * (args.size // ph) * (args.size // pw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--frames", type=int, default=9, help="latent frames per clip")
    ap.add_argument("--size", type=int, default=16, help="latent height and width")
    ap.add_argument("--batch", type=int, default=2, help="global batch (clips per step)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up step")
    ap.add_argument("--procs", type=int, default=2, help="processes for the parallel settings")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads per process (0: the cores shared out, so every setting gets the same)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of: " + ", ".join(MODES))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "parallel.json"))
    ap.add_argument("--worker", dest="mode", help=argparse.SUPPRESS)
    ap.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        worker(args)
        return
    for name in MODES:  # the processes each setting uses
        if MODES[name][0] > 1:
            MODES[name] = (args.procs, MODES[name][1])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes.split(","):
            nproc = MODES[mode][0]
            common = [__file__, "--worker", mode, "--out-dir", tmp, "--preset", args.preset, "--frames",
                      str(args.frames), "--size", str(args.size), "--batch", str(args.batch), "--steps",
                      str(args.steps), "--procs", str(args.procs),
                      "--threads", str(args.threads)]
            launch = [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run",
                                                          "--standalone", "--nproc-per-node", str(nproc)]
            r = subprocess.run(launch + common, capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"{mode} failed:\n{r.stderr[-3000:]}")
            ranks = [json.loads((Path(tmp) / f"{mode}.{i}.json").read_text()) for i in range(nproc)]
            rows.append({"mode": mode, "processes": nproc, "step_s": max(x["step_s"] for x in ranks),
                         "peak_mb_per_rank": [round(x["peak_mb"], 1) for x in ranks],
                         "state_mb_per_rank": [round(x["state_mb"], 2) for x in ranks],
                         "tokens_per_rank": ranks[0]["tokens_per_rank"], "threads_per_rank": ranks[0]["threads"]})
            print(f"{mode}: done", file=sys.stderr, flush=True)
    base = rows[0]["step_s"]
    print(f"\nDiT {args.preset}, global batch {args.batch} × {args.frames}×{args.size}×{args.size} latents "
          f"({dit_tokens(_preset(args.preset), args)} tokens per clip), median of {args.steps} steps, "
          f"{'CUDA' if torch.cuda.is_available() else f'CPU, {os.cpu_count()} cores'}, "
          f"{rows[0]['threads_per_rank']} / {rows[-1]['threads_per_rank']} threads per process\n")
    print("| setting | processes | tokens per rank | step (s) | vs 1 process | peak MB per rank | state MB per rank |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['processes']} | {r['tokens_per_rank']} | {r['step_s']:.3f} | "
              f"{base / r['step_s']:.2f}× | {' / '.join(f'{m:.0f}' for m in r['peak_mb_per_rank'])} | "
              f"{' / '.join(f'{m:.1f}' for m in r['state_mb_per_rank'])} |")
    out = {"preset": args.preset, "frames": args.frames, "size": args.size, "batch": args.batch, "steps": args.steps,
           "threads": args.threads,
           "device": "cuda" if torch.cuda.is_available() else "cpu", "cpu_count": os.cpu_count(),
           "torch": torch.__version__, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nwrote {args.out}")


def _preset(name: str):
    from cinegen.dit import DIT_PRESETS

    return DIT_PRESETS[name]()


if __name__ == "__main__":
    main()
