"""VAE speed, memory and (with --model) reconstruction quality.

    python benchmarks/bench_vae.py [--model DIR] [--preset small] [--threads N]

Speed: streaming encode and decode frames/s at 64×64 and 128×128 (chunks of 4 latent frames).
Memory: peak RSS of a fresh child process per case (tracemalloc does not see torch), for 10 s
and 60 s of 8 fps video: streaming keeps the 60 s peak about equal to the 10 s peak.
Quality (--model DIR: config.json["vae"] + vae.safetensors): PSNR on world clips and on real
footage (opencv-doc's sample videos if installed, scikit-image's photos if installed).
Writes benchmarks/results/vae.json.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from cinegen.vae import VAE_PRESETS, VAEConfig, VideoVAE

FPS = 8
RESULTS = Path(__file__).parent / "results" / "vae.json"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def load_model(folder: str | None, preset: str) -> VideoVAE:
    if folder is None:
        torch.manual_seed(0)
        return VideoVAE(VAE_PRESETS[preset]()).eval()
    from cinegen.common.checkpoint import load_config, load_into, load_state

    vae = VideoVAE(VAEConfig.from_dict(load_config(folder)["vae"]))
    load_into(vae, load_state(folder, "vae"), f"{folder}/vae")
    return vae.eval()


def n_frames(seconds: float) -> int:
    return 1 + 4 * round(seconds * FPS / 4)  # 1 + 4k frames


def stream_case(vae: VideoVAE, side: int, seconds: float, chunk: int = 4) -> dict:
    """Stream-encode then stream-decode `seconds` of random video; frames are made chunk by chunk."""
    t_total = n_frames(seconds)
    g = torch.Generator().manual_seed(0)

    def pieces():
        yield torch.rand(1, 3, 1, side, side, generator=g) * 2 - 1
        for _ in range((t_total - 1) // (4 * chunk) + 1):
            n = min(4 * chunk, t_total - 1 - _ * 4 * chunk)
            if n > 0:
                yield torch.rand(1, 3, n, side, side, generator=g) * 2 - 1

    with torch.inference_mode():
        t0 = time.perf_counter()
        zs = list(vae.encode_stream(pieces()))
        t_enc = time.perf_counter() - t0
        z = torch.cat(zs, dim=2)
        t0 = time.perf_counter()
        n_out = sum(x.shape[2] for x in vae.decode_stream(z, chunk=chunk))
        t_dec = time.perf_counter() - t0
    assert n_out == t_total
    return {"frames": t_total, "encode_fps": t_total / t_enc, "decode_fps": t_total / t_dec}


def child(args: argparse.Namespace) -> None:
    """Run one case in this (fresh) process and print its numbers with the peak RSS."""
    torch.set_num_threads(args.threads)
    vae = load_model(args.model, args.preset)
    out = stream_case(vae, args.side, args.seconds)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps(out))


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.clamp(-1, 1) - b).pow(2).mean().item() / 4.0  # [-1, 1] -> [0, 1] scale
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) -> (1, 3, T, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).float().div(127.5).sub(1).permute(3, 0, 1, 2)[None]


def fit(frames: np.ndarray, side: int) -> np.ndarray:
    """Centre-crop to a square and resize to side × side (PIL), frames (T, H, W, 3)."""
    from PIL import Image

    h, w = frames.shape[1:3]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return np.stack([np.asarray(Image.fromarray(f[top : top + s, left : left + s]).resize((side, side), Image.BICUBIC))
                     for f in frames])


def real_clips(side: int, t: int) -> list[tuple[str, np.ndarray]]:
    clips = []
    for name in ("vtest.avi", "tree.avi", "Megamind.avi"):
        for path in (OPENCV_DATA / name, OPENCV_DATA / f"{name}.gz"):
            if not path.exists():
                continue
            src = path
            if path.suffix == ".gz":
                src = Path("/tmp") / name
                src.write_bytes(gzip.decompress(path.read_bytes()))
            from cinegen.common.video_io import read_video

            frames, _ = read_video(src, max_frames=t)
            if len(frames) == t:
                clips.append((name, fit(frames, side)))
            break
    try:
        from skimage import data

        for name in ("astronaut", "coffee", "chelsea", "rocket"):
            clips.append((f"skimage.{name}", fit(np.asarray(getattr(data, name)())[None, ..., :3], side)))
    except ImportError:
        pass
    return clips


def quality(vae: VideoVAE, side: int) -> dict:
    from cinegen.world import render, sample_scene

    t = n_frames(2.0)
    out = {}
    with torch.inference_mode():
        world = [psnr(vae.decode(vae.encode(x)), x)
                 for x in (to_tensor(render(sample_scene(1000 + s), side, side, FPS, n_frames=t).frames) for s in range(16))]
        out["world"] = float(np.mean(world))
        for name, frames in real_clips(side, t):
            x = to_tensor(frames)
            out[name] = psnr(vae.decode(vae.encode(x)), x)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="checkpoint folder (config.json + vae.safetensors)")
    ap.add_argument("--preset", default="small", choices=sorted(VAE_PRESETS))
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--side", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=float, default=10.0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    rows = []
    for side in (64, 128):
        for seconds in (10.0, 60.0):
            cmd = [sys.executable, __file__, "--child", "--side", str(side), "--seconds", str(seconds),
                   "--preset", args.preset, "--threads", str(args.threads)]
            if args.model:
                cmd += ["--model", args.model]
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
            rows.append({"side": side, "seconds": seconds, **res})
            print(f"{side:>4}x{side:<4} {seconds:>5.0f} s {res['frames']:>4} fr  encode {res['encode_fps']:7.1f} fr/s  "
                  f"decode {res['decode_fps']:7.1f} fr/s  ({res['decode_fps'] / FPS:5.1f}x real time)  "
                  f"peak RSS {res['peak_rss_mb']:6.0f} MB", flush=True)
    for side in (64, 128):
        a, b = (r for r in rows if r["side"] == side)
        print(f"{side}x{side}: peak RSS 60 s / 10 s = {b['peak_rss_mb'] / a['peak_rss_mb']:.2f}")
    result = {"preset": args.preset, "model": args.model, "threads": args.threads, "cases": rows}
    if args.model:
        vae = load_model(args.model, args.preset)
        result["psnr_64"] = quality(vae, 64)
        for name, value in result["psnr_64"].items():
            print(f"PSNR 64x64 {name:<20} {value:6.2f} dB")
    else:
        print("no --model: untrained weights, speed and memory only")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
