"""Wan2.1 text-to-video through cinegen (its DiT, flow/unipc.py, the Wan adapters) beside diffusers' WanPipeline.

Same weights (random: nothing is downloaded), same settings, same seed. Measured per side: seconds per
sampling step (one step = two transformer passes, classifier-free guidance), VAE decode time (whole
video, and cinegen's streamed decode one latent frame at a time, as its Pipeline decodes) and peak
memory (CUDA: peak allocated above the resident weights; CPU: peak process RSS growth).

    python benchmarks/bench_wan.py                      # --size tiny: the test model, CPU-sized
    python benchmarks/bench_wan.py --size real          # Wan2.1-T2V-1.3B's configs at 832x480x81, bf16 on CUDA

`real` builds the 1.3B transformer and the Wan2.1 VAE at their published configs; the UMT5-XXL text
encoder is replaced by a one-layer UMT5 of the same width (4096), as text encoding is not timed.
"""
from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path

import torch

from cinegen.wan import generate_wan_latents, parts_from_modules
from cinegen.wan.tiny import tiny_components, wan_scheduler

WAN_13B = dict(  # Wan2.1-T2V-1.3B-Diffusers transformer/config.json
    patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16, out_channels=16,
    text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
    qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024,
)
SIZES = {  # height, width, frames, default steps
    "tiny": (64, 96, 17, 8),
    "real": (480, 832, 81, 4),
}
PROMPT = "a red ball bounces across a green field"


def real_components(device: torch.device, dtype: torch.dtype) -> dict:
    """The 1.3B transformer and the Wan2.1 VAE (AutoencoderKLWan's defaults are Wan2.1's), random weights."""
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tiny = tiny_components(0)  # for its tokenizer
    torch.manual_seed(0)
    with torch.device(device):
        transformer = as_loaded(WanTransformer3DModel(**WAN_13B), dtype).eval()
        vae = AutoencoderKLWan().eval()  # float32, as diffusers' Wan docs advise
        text_encoder = UMT5EncoderModel(UMT5Config(
            vocab_size=len(tiny["tokenizer"]), d_model=4096, d_kv=64, d_ff=256, num_layers=1, num_heads=8,
            relative_attention_num_buckets=32, dropout_rate=0.0, feed_forward_proj="gated-gelu",
        )).to(dtype).eval()
    return {"transformer": transformer, "vae": vae, "text_encoder": text_encoder, "tokenizer": tiny["tokenizer"],
            "scheduler": wan_scheduler()}


def _fixed_mmap_threshold() -> None:
    """glibc only: serve every allocation >= 64 KiB by mmap, so a freed tensor leaves the RSS at once. By default
    the threshold grows after frees, and the side measured second would reuse the first side's heap unseen."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name:
        libc = ctypes.CDLL(name)
        if hasattr(libc, "mallopt"):
            libc.mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD
            libc.malloc_trim(0)


def as_loaded(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """`dtype` except the modules diffusers keeps in float32 (norms, time embedder, modulation tables), as
    from_pretrained(torch_dtype=dtype) would leave a downloaded transformer."""
    model.to(dtype)
    keep = getattr(model, "_keep_in_fp32_modules", None) or []
    for name, module in model.named_modules():
        if any(k in name.split(".") for k in keep):
            module.float()
    return model


class PeakMemory:
    """Peak memory of a block: CUDA allocated above the start, or (CPU) process RSS above the start, sampled
    every 2 ms (the tiny size's peaks are a few MiB: read them as rough)."""

    def __init__(self, device: torch.device):
        self.device, self.peak = device, 0

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.start = torch.cuda.memory_allocated()
        else:
            import psutil

            self.proc, self.stop = psutil.Process(), threading.Event()
            self.start = self.proc.memory_info().rss
            self.thread = threading.Thread(target=self._sample, daemon=True)
            self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss - self.start)
            time.sleep(0.002)

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            self.peak = torch.cuda.max_memory_allocated() - self.start
        else:
            self.stop.set()
            self.thread.join()
            self.peak = max(self.peak, self.proc.memory_info().rss - self.start)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class StepClock:
    """Wall time of each sampling step, from callbacks (synchronised on CUDA)."""

    def __init__(self, device: torch.device):
        self.device, self.stamps = device, []

    def start(self) -> None:
        _sync(self.device)
        self.stamps = [time.perf_counter()]

    def tick(self, *_args) -> None:
        _sync(self.device)
        self.stamps.append(time.perf_counter())

    def per_step(self) -> float:
        gaps = [b - a for a, b in zip(self.stamps, self.stamps[1:])]
        return statistics.median(gaps[1:] or gaps)  # the first gap also holds text encoding and the noise draw


def timed(fn, device: torch.device) -> tuple[float, object]:
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="tiny")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--height", type=int, default=None, help="override the size's (e.g. a CPU smoke test of 'real')")
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--device", default=None, help="default: cuda when present, else cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=3, help="sampling runs per side, interleaved; the best counts")
    ap.add_argument("--out", default=None, help="default: benchmarks/results/wan_<size>_<device>.json")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cpu":
        _fixed_mmap_threshold()
    height, width, frames, steps = SIZES[args.size]
    height, width, frames = args.height or height, args.width or width, args.frames or frames
    steps = args.steps or steps
    dtype = torch.bfloat16 if (args.size == "real" and device.type == "cuda") else torch.float32

    from diffusers import WanPipeline
    from diffusers.utils import logging as dlog

    dlog.set_verbosity_error()
    comps = real_components(device, dtype) if args.size == "real" else \
        {k: (v.to(device) if isinstance(v, torch.nn.Module) else v) for k, v in tiny_components(0).items()}
    pipe = WanPipeline(**comps)
    pipe.set_progress_bar_config(disable=True)
    # The DiT shares the transformer's tensors, the adapters wrap the same VAE and UMT5: weights resident once.
    parts = parts_from_modules(comps["transformer"], comps["vae"], comps["text_encoder"], comps["tokenizer"],
                               comps["scheduler"], device, dtype)
    parts.text.cache_size = 0  # both sides encode the prompts on every run (cinegen would otherwise reuse them)
    size = dict(height=height, width=width, num_frames=frames)

    def run_diffusers(n: int, clock: StepClock | None = None) -> torch.Tensor:
        cb = None if clock is None else (lambda p, i, t, kw: (clock.tick(), kw)[1])
        return pipe(prompt=PROMPT, negative_prompt="", num_inference_steps=n, guidance_scale=5.0,
                    generator=torch.Generator("cpu").manual_seed(0), output_type="latent",
                    callback_on_step_end=cb, **size).frames

    def run_ours(n: int, clock: StepClock | None = None) -> torch.Tensor:
        return generate_wan_latents(parts, PROMPT, "", seed=0, steps=n, guidance=5.0,
                                    callback=None if clock is None else clock.tick, **size)

    sides = (("diffusers", run_diffusers), ("cinegen", run_ours))
    rows = {name: {"s_per_step": float("inf"), "sample_peak_mib": 0.0} for name, _ in sides}
    for name, run in sides:
        run(1)  # warm-up: kernels, allocator, text cache
    for _ in range(args.repeats):  # interleaved, best of N: a busy machine slows both alike
        for name, run in sides:
            clock = StepClock(device)
            with PeakMemory(device) as mem:
                clock.start()
                z = run(steps, clock)
            r = rows[name]
            r.update(s_per_step=min(r["s_per_step"], clock.per_step()),
                     sample_peak_mib=max(r["sample_peak_mib"], mem.peak / 2**20), latents=z)
    z = rows["cinegen"]["latents"].float()
    diff = (z - rows["diffusers"]["latents"].float()).abs().max().item()

    # Decode: diffusers' whole-video decode (WanPipeline's; cinegen's WanVAE.decode is the same call) and
    # cinegen's streamed decode, one latent frame per call with the causal cache, as its Pipeline runs it.
    mean = torch.tensor(pipe.vae.config.latents_mean, device=device).view(1, -1, 1, 1, 1)
    inv_std = 1.0 / torch.tensor(pipe.vae.config.latents_std, device=device).view(1, -1, 1, 1, 1)

    def decode_whole():
        with torch.no_grad():
            return pipe.vae.decode(z / inv_std + mean, return_dict=False)[0]

    def decode_streamed():
        cache, out = None, []
        for i in range(z.shape[2]):
            x, cache = parts.vae.decode_chunk(z[:, :, i : i + 1], cache)
            out.append(x.cpu())
        return torch.cat(out, 2)

    for name in rows:
        rows[name].update(decode_s=float("inf"), decode_peak_mib=0.0)
    for _ in range(args.repeats):
        for name, fn in (("diffusers", decode_whole), ("cinegen", decode_streamed)):
            with PeakMemory(device) as mem:
                secs, video = timed(fn, device)
            r = rows[name]
            r.update(decode_s=min(r["decode_s"], secs), decode_peak_mib=max(r["decode_peak_mib"], mem.peak / 2**20),
                     video=video.cpu())
    decode_diff = (rows["cinegen"]["video"] - rows["diffusers"]["video"]).abs().max().item()

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    tokens = (1 + (frames - 1) // 4) * (height // 16) * (width // 16)
    print(f"Wan2.1 T2V, size {args.size}: {width}x{height}x{frames} ({tokens} tokens), {steps} steps, CFG 5, "
          f"{str(dtype).replace('torch.', '')} transformer, fp32 VAE, on {gpu}; best of {args.repeats}")
    head = f"{'side':10} {'s/step':>8} {'sample peak MiB':>16} {'decode s':>9} {'decode peak MiB':>16}  decode"
    print(head)
    print("-" * len(head))
    how = {"diffusers": "whole video (vae.decode)", "cinegen": "streamed, 1 latent frame per call"}
    for name, r in rows.items():
        print(f"{name:10} {r['s_per_step']:>8.3f} {r['sample_peak_mib']:>16.1f} {r['decode_s']:>9.3f} "
              f"{r['decode_peak_mib']:>16.1f}  {how[name]}")
    ratio = rows["cinegen"]["s_per_step"] / rows["diffusers"]["s_per_step"]
    print(f"cinegen / diffusers time per step: {ratio:.2f}; max |latent difference| {diff:.2e}; "
          f"max |pixel difference| streamed vs whole {decode_diff:.2e}")

    out = Path(args.out or Path(__file__).parent / "results" / f"wan_{args.size}_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "size": args.size, "height": height, "width": width, "frames": frames, "tokens": tokens, "steps": steps,
        "repeats": args.repeats,
        "device": gpu, "dtype": str(dtype), "threads": torch.get_num_threads(),
        "rows": {k: {m: v for m, v in r.items() if m not in ("latents", "video")} for k, r in rows.items()},
        "cinegen_over_diffusers_step": ratio, "max_latent_diff": diff, "max_decode_diff": decode_diff,
    }, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
