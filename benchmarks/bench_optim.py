"""One optimizer step over a DiT's parameters: AdamW, torch's Muon (Newton–Schulz in bf16) and cinegen's
Muon32 (the same update in fp32), timed side by side on random gradients; ratios against AdamW.

    python benchmarks/bench_optim.py [--preset small] [--repeats 3] [--threads N]

Muon takes the blocks' matrices and AdamW the rest, as `optimizer=muon` trains (train/optim.py). torch's
bf16 case is skipped with `--skip-bf16` (on a CPU without bf16 units it takes tens of seconds a step).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from cinegen.dit import DIT_PRESETS, DiT
from cinegen.train.config import TrainConfig
from cinegen.train.optim import Muon32, make_optimizer, muon_matrices


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small", choices=sorted(DIT_PRESETS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--skip-bf16", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/optim.json")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = DiT(DIT_PRESETS[args.preset]())
    for p in model.parameters():
        p.grad = torch.randn_like(p) * 1e-3
    cases = {"AdamW": ("adamw", None), "Muon32 (fp32 Newton–Schulz)": ("muon", Muon32)}
    if not args.skip_bf16:
        cases["torch Muon (bf16 Newton–Schulz)"] = ("muon", torch.optim.Muon)
    params = list(model.parameters())
    opts = {name: make_optimizer(TrainConfig(kind="dit", optimizer=opt), model, params, cls)  # the training settings
            for name, (opt, cls) in cases.items()}
    best = dict.fromkeys(opts, float("inf"))
    for r in range(args.repeats + 1):  # the first round warms up and is not counted
        for name, opt in opts.items():
            t0 = time.perf_counter()
            opt.step()
            if r:
                best[name] = min(best[name], time.perf_counter() - t0)
    take = muon_matrices(model)
    n_muon = sum(p.numel() for p in model.parameters() if id(p) in take)
    n_all = sum(p.numel() for p in model.parameters())
    print(f"{args.preset} DiT: {n_all / 1e6:.2f} M parameters, {n_muon / 1e6:.2f} M in Muon's matrices; "
          f"{torch.get_num_threads()} threads, best of {args.repeats}")
    print(f"{'optimizer':34s} {'s / step':>10s} {'x AdamW':>9s}")
    rows = []
    for name, t in best.items():
        rows.append({"optimizer": name, "seconds_per_step": t, "ratio_to_adamw": t / best["AdamW"]})
        print(f"{name:34s} {t:10.4f} {t / best['AdamW']:9.2f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"preset": args.preset, "threads": torch.get_num_threads(), "repeats": args.repeats,
                               "parameters": n_all, "muon_parameters": n_muon, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
