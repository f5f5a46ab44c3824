"""Issue 5 acceptance: prompting with images and videos (image-to-video, extend, loop, connect, edit, stills).

Every source image/video is a render of the procedural world at the model's default size and fps
(`cinegen.world`), and every prompt is one of that scene's own captions or a dev prompt, so nothing
here depends on a hand-picked example. Each part runs alone with `--only PART` and scales with `--n`:

    python benchmarks/bench_modes.py [--model DIR] [--only i2v extend loop connect edit still]
                                     [--n N] [--seconds 2] [--steps S] [--json benchmarks/results/modes.json]

Parts, metrics and targets (T = target):
  i2v      PSNR(first output frame, input image) ≥ 28 dB (mean, min, pass share); eval motion mean ≥ 0.8.
           For context: the VAE round-trip PSNR of the image (an upper bound while frame 0 is decoded from
           latents) and the frame 0 → 1 step over the median step of the rest (no target).
  extend   forward and backward: seam ratio = |seam step| / median step of the generated part ≤ 1.5
           (pass share, median ratio); eval consistency of the whole output ≥ 0.95. For context:
           `vae_floor_ratio`, the step from the source's edge frame to its VAE round trip over the same
           median step (roughly what a perfect continuation decoded by the VAE would still show).
  loop     last→first step / median step ≤ 1.5. For context: the largest step of the loop on repeat and
           the step across its latent wrap, each over the median step (see run_loop).
  connect  PSNR at the two seams ≥ 28 dB; track continuity at both seams (see `seam_continuity`).
  edit     eval score of the changed attribute (colour or background) ≥ 0.8; mean distance of the
           edited video's object tracks from the source's ≤ 0.10 of the frame. Side by side: FlowEdit
           given the source's caption, FlowEdit without it, SDEdit (--edit-variant, --edit-strength).
  still    1-frame outputs vs 2 s videos of the same prompts: colour/shape/count, still ≥ video. For
           context: the video's own first frame scored as a still is (`video_frame0`): how much of the gap
           is the evidence one frame gives the eval, against the many frames a video's scores pool.

A "step" is the mean absolute difference of two consecutive frames, in [0, 1]. Steps below STEP_FLOOR
are raised to it before dividing, so a frozen output does not turn a tiny seam into a huge ratio.
Outputs are not watermarked (mark=False): the watermark is not what is measured. Results of the
parts that ran are merged into the JSON file (other parts' earlier results are kept).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cinegen.eval.describe import describe
from cinegen.eval.parse import parse
from cinegen.eval.report import evaluate_video
from cinegen.pipeline import Pipeline, modes
from cinegen.pipeline.limits import EDIT_STRENGTH, SDEDIT_STRENGTH, edit_strength
from cinegen.world import make_captions, render, sample_scene
from cinegen.world.spec import BACKGROUND_COLOURS, COLOURS, BackgroundSpec, SceneSpec

from bench_report import load_report, mean_of, print_part, share, write_report  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

ROOT = Path(__file__).resolve().parent.parent
DEV_PROMPTS = ROOT / "eval" / "prompts" / "dev.txt"
PARTS = ("i2v", "extend", "loop", "connect", "edit", "still")
DEFAULT_N = {"i2v": 50, "extend": 20, "loop": 20, "connect": 20, "edit": 20, "still": 50}
SEED_BASE = {"i2v": 10_000, "extend": 20_000, "loop": 30_000, "connect": 40_000, "edit": 50_000, "still": 60_000}
PSNR_TARGET = 28.0
RATIO_TARGET = 1.5
STEP_FLOOR = 1.0 / 255.0  # one grey level: a step below this counts as this (see the module docstring)
PSNR_CAP = 99.0  # identical frames: PSNR is infinite; reported as this
ADHERENCE_DIMS = ("colour", "shape", "count")


# ------------------------------------------------------------------ frame measures
def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (PSNR_CAP when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10 * math.log10(255.0**2 / mse))


def step(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 frames, in [0, 1]."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean() / 255.0)


def median_step(frames: np.ndarray) -> float:
    """Median frame-to-frame step inside `frames`, floored at STEP_FLOOR."""
    if len(frames) < 2:
        return STEP_FLOOR
    return max(STEP_FLOOR, float(np.median([step(frames[i], frames[i + 1]) for i in range(len(frames) - 1)])))


def seam_ratio(before: np.ndarray, after: np.ndarray, generated: np.ndarray) -> float:
    """Step across a seam (frame `before` → frame `after`) over the median step of `generated`."""
    return step(before, after) / median_step(generated)


def score_value(result: dict[str, Any], dim: str) -> float | None:
    return result["scores"][dim]["value"]


def all_judged(flags: list[bool | None]) -> bool | None:
    """True when every judged flag is true; None when none is judged."""
    judged = [f for f in flags if f is not None]
    return all(judged) if judged else None


# ------------------------------------------------------------------ sources from the world
@dataclasses.dataclass
class Source:
    spec: SceneSpec
    frames: np.ndarray  # (T, H, W, 3) uint8 at the model's size and fps
    prompt: str  # one of the scene's short captions


def world_source(pipe: Pipeline, seed: int, seconds: float, n_frames: int | None = None) -> Source:
    """A random world scene rendered at the model's default size and fps, with a short caption."""
    spec = sample_scene(seed, duration=seconds)
    d = pipe.sampling
    clip = render(spec, d.width, d.height, d.fps, n_frames=n_frames)
    return Source(spec, clip.frames, make_captions(spec, np.random.default_rng(seed)).short[0])


def dev_prompts(n: int) -> list[str]:
    """n prompts spread evenly over eval/prompts/dev.txt (every motion, pairs, camera moves)."""
    lines = [s.strip() for s in DEV_PROMPTS.read_text().splitlines() if s.strip() and not s.startswith("#")]
    idx = np.linspace(0, len(lines) - 1, min(n, len(lines))).round().astype(int)
    return [lines[i] for i in idx]


# ------------------------------------------------------------------ parts
def run_i2v(pipe: Pipeline, n: int, seconds: float, steps: int | None) -> list[dict[str, Any]]:
    """Image-to-video: first output frame vs the image (PSNR ≥ 28 dB); eval motion of the output (≥ 0.8)."""
    items = []
    for i in range(n):
        src = world_source(pipe, SEED_BASE["i2v"] + i, seconds)
        image = src.frames[0]
        out = pipe(src.prompt, seconds=seconds, image=image, seed=i, steps=steps, mark=False).frames
        ev = evaluate_video(out, pipe.sampling.fps, src.prompt)
        p = psnr(out[0], image)
        items.append({"prompt": src.prompt, "psnr_first": p, "psnr_pass": p >= PSNR_TARGET,
                      "vae_roundtrip_psnr": psnr(vae_roundtrip(pipe, image), image),
                      "frame0_seam_ratio": seam_ratio(out[0], out[1], out[1:]) if len(out) > 2 else None,
                      "motion": score_value(ev, "motion")})
    return items


def vae_roundtrip(pipe: Pipeline, image: np.ndarray) -> np.ndarray:
    """The image encoded and decoded by the model's VAE: the best frame 0 that i2v through latents can give."""
    z = pipe.encode_frames(image[None])
    return next(iter(pipe.decode_stream(iter([z[:, 0]]))))[0]


def summarise_i2v(items: list[dict[str, Any]]) -> dict[str, Any]:
    p = [it["psnr_first"] for it in items]
    return {"psnr_mean": mean_of(p), "psnr_min": min(p), "psnr_pass_share": share([it["psnr_pass"] for it in items]),
            "vae_roundtrip_psnr_mean": mean_of([it["vae_roundtrip_psnr"] for it in items]),
            "frame0_seam_ratio_median": float(np.median([it["frame0_seam_ratio"] for it in items
                                                         if it["frame0_seam_ratio"] is not None] or [np.nan])),
            "motion_mean": mean_of([it["motion"] for it in items]),
            "motion_n": sum(it["motion"] is not None for it in items),
            "targets": {"psnr_db": PSNR_TARGET, "motion_mean": 0.8}}


def run_extend(pipe: Pipeline, n: int, seconds: float, steps: int | None) -> list[dict[str, Any]]:
    """Extend forward and backward: seam ratio (≤ 1.5) and eval consistency of the whole output (≥ 0.95)."""
    items = []
    fps = pipe.sampling.fps
    for i in range(n):
        src = world_source(pipe, SEED_BASE["extend"] + i, seconds)
        for direction in ("forward", "backward"):
            out = modes.extend(pipe, src.prompt, src.frames, direction=direction, seconds=seconds, seed=i,
                               steps=steps, mark=False).frames
            k = len(src.frames)
            if direction == "forward":  # source frames, then new ones
                new, edge = out[k:], out[k - 1]
                ratio = seam_ratio(edge, out[k], new)
            else:  # new frames, then the source
                new, edge = out[: len(out) - k], out[len(out) - k]
                ratio = seam_ratio(new[-1], edge, new)
            ev = evaluate_video(out, fps, src.prompt)
            items.append({"prompt": src.prompt, "direction": direction, "new_frames": len(new),
                          "seam_ratio": ratio, "seam_pass": ratio <= RATIO_TARGET,
                          "vae_floor_ratio": seam_ratio(edge, vae_roundtrip(pipe, edge), new),
                          "consistency": score_value(ev, "consistency")})
    return items


def summarise_extend(items: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for direction in ("forward", "backward"):
        its = [it for it in items if it["direction"] == direction]
        if not its:
            continue
        out[direction] = {"n": len(its), "seam_pass_share": share([it["seam_pass"] for it in its]),
                          "seam_ratio_median": float(np.median([it["seam_ratio"] for it in its])),
                          "vae_floor_ratio_median": float(np.median([it["vae_floor_ratio"] for it in its])),
                          "consistency_mean": mean_of([it["consistency"] for it in its]),
                          "consistency_n": sum(it["consistency"] is not None for it in its)}
    out["targets"] = {"seam_ratio": RATIO_TARGET, "consistency_mean": 0.95}
    return out


def run_loop(pipe: Pipeline, n: int, seconds: float, steps: int | None) -> list[dict[str, Any]]:
    """Loop: step from the last frame back to the first over the video's median step (≤ 1.5).

    For context, two measures that do not depend on where the file starts: the largest step of the
    loop played on repeat (the wrap included) over its median step, and the step across the loop's
    latent wrap (the last 4-frame latent group into the first, modes.LOOP_PHASE frames before the end)
    over the median step. The VAE decodes each group's first frame a little apart from the one before,
    so steps at group boundaries run larger than the median even inside a plain generated clip.
    """
    items = []
    for i, prompt in enumerate(dev_prompts(n)):
        out = modes.loop(pipe, prompt, seconds=seconds, seed=i, steps=steps, mark=False).frames
        ratio = seam_ratio(out[-1], out[0], out)
        played = np.concatenate([out, out[:1]])
        steps_all = [step(played[k], played[k + 1]) for k in range(len(out))]
        b = len(out) - getattr(modes, "LOOP_PHASE", 0)  # first frame of the loop's first latent group
        items.append({"prompt": prompt, "frames": len(out), "wrap_ratio": ratio, "wrap_pass": ratio <= RATIO_TARGET,
                      "max_step_ratio": max(steps_all) / median_step(out),
                      "latent_wrap_ratio": seam_ratio(played[b - 1], played[b], out)})
    return items


def summarise_loop(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"wrap_pass_share": share([it["wrap_pass"] for it in items]),
            "wrap_ratio_median": float(np.median([it["wrap_ratio"] for it in items])),
            "max_step_ratio_median": float(np.median([it["max_step_ratio"] for it in items])),
            "latent_wrap_ratio_median": float(np.median([it["latent_wrap_ratio"] for it in items])),
            "targets": {"wrap_ratio": RATIO_TARGET}}


def seam_continuity(frames: np.ndarray, fps: float, seams: list[int]) -> dict[str, Any]:
    """Track continuity at the steps `seams` (step t: frame t → t + 1) of a joined video.

    Rule: describe() the joined video. For each track seen in both frames of a seam step, its centre
    may move at most 3 × its median per-frame step (pixels, over its other steps with both frames
    seen) + 2 px. A track seen on one side of the seam only (in the frame right next to it), and not
    touching the frame border there, is broken. A seam passes when no track jumps or breaks; it is
    None (not judged) when no track is near it.
    """
    d = describe(frames, fps)
    scale = np.array([d.width, d.height], dtype=np.float64)
    per_seam: list[bool | None] = []
    worst, jumps, breaks = [], 0, 0
    for t in seams:
        checked, ok = 0, True
        for o in d.objects:
            a, b = bool(o.visible[t]), bool(o.visible[t + 1])
            if a and b:
                steps_px = np.linalg.norm(np.diff(o.centre, axis=0) * scale, axis=1)  # (T-1,), NaN where unseen
                both = o.visible[:-1] & o.visible[1:]
                both[seams] = False
                speed = float(np.median(steps_px[both])) if both.any() else 0.0
                jump = float(steps_px[t])
                checked += 1
                worst.append(jump / (3 * speed + 2))
                ok &= jump <= 3 * speed + 2
                jumps += jump > 3 * speed + 2
            elif a != b:
                edge = bool(o.touches_border[t] if a else o.touches_border[t + 1])
                checked += 1
                ok &= edge
                breaks += not edge
        per_seam.append(ok if checked else None)
    return {"seams_ok": per_seam, "n_tracks": len(d.objects), "jumps": int(jumps), "breaks": int(breaks),
            "worst_jump_over_allowed": max(worst) if worst else None}


def run_connect(pipe: Pipeline, n: int, seconds: float, steps: int | None) -> list[dict[str, Any]]:
    """Connect A → B where A and B are the start and end of one world scene with a `seconds` gap.

    PSNR (≥ 28 dB) of the transition's endpoints vs A's last / B's first frame, and of its first /
    last generated frame vs the same (with the ground truth's own step across the gap for reference);
    track continuity at the two seams of A + transition + B (`seam_continuity`).
    """
    items = []
    fps = float(pipe.sampling.fps)
    k = round(seconds * fps)  # frames per part: A = [0, k], B = [2k, 3k]
    for i in range(n):
        src = world_source(pipe, SEED_BASE["connect"] + i, 3 * seconds, n_frames=3 * k + 1)
        a, b = src.frames[: k + 1], src.frames[2 * k :]
        out = modes.connect(pipe, src.prompt, a, b, seconds=seconds, seed=i, steps=steps, mark=False).frames
        middle = out[1:-1]
        joined = np.concatenate([a, middle, b])
        seams = [len(a) - 1, len(a) + len(middle) - 1]
        cont = seam_continuity(joined, fps, seams)
        items.append({
            "prompt": src.prompt, "transition_frames": len(out),
            "psnr_start": psnr(out[0], a[-1]), "psnr_end": psnr(out[-1], b[0]),
            "psnr_first_generated": psnr(middle[0], a[-1]), "psnr_last_generated": psnr(middle[-1], b[0]),
            "truth_psnr_next": psnr(src.frames[k + 1], a[-1]), "truth_psnr_prev": psnr(src.frames[2 * k - 1], b[0]),
            **cont, "continuity_pass": all_judged(cont["seams_ok"]),
        })
    return items


def summarise_connect(items: list[dict[str, Any]]) -> dict[str, Any]:
    ends = [min(it["psnr_start"], it["psnr_end"]) for it in items]
    gen = [min(it["psnr_first_generated"], it["psnr_last_generated"]) for it in items]
    return {"endpoint_psnr_min": min(ends), "endpoint_pass_share": share([p >= PSNR_TARGET for p in ends]),
            "generated_psnr_mean": mean_of(gen), "generated_psnr_min": min(gen),
            "generated_pass_share": share([p >= PSNR_TARGET for p in gen]),
            "truth_step_psnr_mean": mean_of([min(it["truth_psnr_next"], it["truth_psnr_prev"]) for it in items]),
            "continuity_pass_share": share([it["continuity_pass"] for it in items]),
            "continuity_judged": sum(it["continuity_pass"] is not None for it in items),
            "seam_jumps": sum(it["jumps"] for it in items), "seam_breaks": sum(it["breaks"] for it in items),
            "targets": {"psnr_db": PSNR_TARGET, "continuity_pass_share": None}}


def edited_spec(spec: SceneSpec, i: int) -> tuple[SceneSpec, str]:
    """Change one attribute: the first object's colour (even i) or the background (odd i)."""
    if i % 2 == 0:
        used = {o.colour for o in spec.objects}
        free = [c for c in COLOURS if c not in used]
        new = dataclasses.replace(spec.objects[0], colour=free[i // 2 % len(free)])
        return dataclasses.replace(spec, objects=(new,) + spec.objects[1:]), "colour"
    options = [BackgroundSpec("solid", c) for c in BACKGROUND_COLOURS] + [BackgroundSpec("sky"), BackgroundSpec("checker")]
    cur = spec.background
    options = [o for o in options if o.kind != cur.kind or (o.kind == "solid" and o.colour != cur.colour)]
    return dataclasses.replace(spec, background=options[i // 2 % len(options)]), "background"


def edit_prompt(spec: SceneSpec, attr: str, seed: int) -> str:
    """A short caption of the edited spec that states the changed attribute (else its first long caption)."""
    caps = make_captions(spec, np.random.default_rng(seed), n_short=8)
    for text in caps.short:
        e = parse(text)
        if attr == "colour" and e.objects and all(o.colour for o in e.objects):
            return text
        if attr == "background" and e.background is not None:
            return text
    return caps.long[0]


LOST_DISTANCE = 0.5  # a source object with no counterpart: about the mean distance of two random points


def track_distance(src: np.ndarray, out: np.ndarray, fps: float) -> dict[str, Any]:
    """Mean distance of the edited video's tracks from the source's (fraction of the frame).

    describe() both; pair source and output tracks one-to-one (Hungarian) by their mean centre
    distance over frames where both are seen (normalised x/width, y/height). A source track with
    no partner (or never seen together with it) counts as LOST_DISTANCE. Colour is ignored: the
    edit may change it.
    """
    from scipy.optimize import linear_sum_assignment

    ds, do = describe(src, fps), describe(out, fps)
    if not ds.objects:
        return {"distance": None, "matched": 0, "source_tracks": 0}
    cost = np.full((len(ds.objects), max(1, len(do.objects))), LOST_DISTANCE)
    for r, s in enumerate(ds.objects):
        for c, o in enumerate(do.objects):
            both = s.visible & o.visible
            if both.any():
                cost[r, c] = min(LOST_DISTANCE, float(np.linalg.norm(s.centre[both] - o.centre[both], axis=1).mean()))
    rows, cols = linear_sum_assignment(cost)
    dist = {int(r): float(cost[r, c]) for r, c in zip(rows, cols)}
    per = [dist.get(r, LOST_DISTANCE) for r in range(len(ds.objects))]
    return {"distance": float(np.mean(per)), "matched": sum(v < LOST_DISTANCE for v in per),
            "source_tracks": len(ds.objects)}


EDIT_VARIANTS = ("flowedit", "flowedit-nosource", "sdedit")  # FlowEdit given the source's caption / the empty prompt


def run_edit(pipe: Pipeline, n: int, seconds: float, steps: int | None,
             variants: tuple[str, ...] = EDIT_VARIANTS,
             strengths: tuple[float | None, ...] = (None,),
             guidances: tuple[tuple[float | None, float | None], ...] = ((None, None),),
             seed_offset: int = 0) -> list[dict[str, Any]]:
    """Edit by each variant at each strength (None: the method's default) and each (target, source) guidance
    (None: the model's; a source None follows the target), side by side on the same sources: eval of the
    changed attribute (≥ 0.8), track distance (≤ 0.10). seed_offset picks other sources (a split to tune on
    that the reported one never saw)."""
    fps = float(pipe.sampling.fps)
    default = float(pipe.sampling.guidance)
    guidances = tuple((default if tg is None else tg, (default if tg is None else tg) if sg is None else sg)
                      for tg, sg in guidances)
    sources = []  # the same sources, edits and prompts for every setting
    for i in range(n):
        seed = SEED_BASE["edit"] + seed_offset + i
        src = world_source(pipe, seed, seconds)
        new_spec, attr = edited_spec(src.spec, i)
        sources.append((src, attr, edit_prompt(new_spec, attr, seed)))
    items = []
    for variant, strength, (tg, sg) in itertools.product(variants, strengths, guidances):
        method = variant.split("-")[0]
        used = edit_strength(method, strength)
        for i, (src, attr, prompt) in enumerate(sources):
            source = src.prompt if variant == "flowedit" else None
            res = modes.edit(pipe, prompt, src.frames, strength=used, source_prompt=source, method=method,
                             seed=i, steps=steps, mark=False, guidance=tg, source_guidance=sg)
            out = res.frames
            ev = evaluate_video(out, fps, prompt)
            dist = track_distance(src.frames[: len(out)], out, fps)
            items.append({"prompt": prompt, "source_prompt": source, "variant": variant, "strength": used,
                          "guidance": [tg, sg], "attribute": attr, "source_background": src.spec.background.kind,
                          "attribute_score": score_value(ev, attr), "seconds": res.timings["total"], **dist})
    return items


def _summarise_edit_at(items: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"attribute_score_mean": mean_of([it["attribute_score"] for it in items])}
    for attr in ("colour", "background"):
        out[f"{attr}_score_mean"] = mean_of([it["attribute_score"] for it in items if it["attribute"] == attr])
    bg = [it for it in items if it["attribute"] == "background"]
    for name, kinds in (("solid", ("solid",)), ("textured", ("checker", "sky"))):  # a textured source is harder
        out[f"background_from_{name}_score_mean"] = mean_of([it["attribute_score"] for it in bg
                                                             if it["source_background"] in kinds])
    out["track_distance_mean"] = mean_of([it["distance"] for it in items])
    out["track_distance_n"] = sum(it["distance"] is not None for it in items)
    out["seconds_mean"] = mean_of([it["seconds"] for it in items])
    return out


def _edit_key(it: dict[str, Any]) -> tuple[str, float, tuple[float, ...]]:
    return it["variant"], it["strength"], tuple(it["guidance"])


def summarise_edit(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The first variant at its first strength and guidance at the top (the CLI's default); every one
    under variant@strength (and /target-source guidance when more than one was run)."""
    keys = list(dict.fromkeys(_edit_key(it) for it in items))
    at = {k: _summarise_edit_at([it for it in items if _edit_key(it) == k]) for k in keys}
    out: dict[str, Any] = {"variant": keys[0][0], "strength": keys[0][1], **at[keys[0]]}
    guided = len({k[2] for k in keys}) > 1
    if len(keys) > 1:
        out.update({f"{v}@{st:g}" + (f"/g{g[0]:g}-{g[1]:g}" if guided else ""): r for (v, st, g), r in at.items()})
    out["targets"] = {"attribute_score_mean": 0.8, "track_distance_mean": 0.10}
    return out


STILL_REPEAT = 3  # describe() keeps tracks of ≥ 2 frames only, so a still is scored as a 3-frame static clip


def run_still(pipe: Pipeline, n: int, seconds: float, steps: int | None) -> list[dict[str, Any]]:
    """1-frame outputs vs `seconds` videos of the same prompts and seeds: colour/shape/count (still ≥ video)."""
    items = []
    fps = float(pipe.sampling.fps)
    for i, prompt in enumerate(dev_prompts(n)):
        still = pipe(prompt, seconds=1.0 / fps, seed=i, steps=steps, mark=False).frames
        video = pipe(prompt, seconds=seconds, seed=i, steps=steps, mark=False).frames
        es = evaluate_video(np.repeat(still[:1], STILL_REPEAT, axis=0), fps, prompt)
        ev = evaluate_video(video, fps, prompt)
        e0 = evaluate_video(np.repeat(video[:1], STILL_REPEAT, axis=0), fps, prompt)
        items.append({"prompt": prompt, "still_frames": len(still),
                      **{f"still_{d}": score_value(es, d) for d in ADHERENCE_DIMS},
                      **{f"video_{d}": score_value(ev, d) for d in ADHERENCE_DIMS},
                      **{f"video_frame0_{d}": score_value(e0, d) for d in ADHERENCE_DIMS}})
    return items


def summarise_still(items: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in ADHERENCE_DIMS:
        s, v = mean_of([it[f"still_{d}"] for it in items]), mean_of([it[f"video_{d}"] for it in items])
        out[d] = {"still": s, "video": v, "still_ge_video": None if s is None or v is None else s >= v,
                  "video_frame0": mean_of([it[f"video_frame0_{d}"] for it in items])}
    out["targets"] = {"still_ge_video": True}
    return out


RUNNERS: dict[str, tuple[Callable, Callable]] = {
    "i2v": (run_i2v, summarise_i2v), "extend": (run_extend, summarise_extend), "loop": (run_loop, summarise_loop),
    "connect": (run_connect, summarise_connect), "edit": (run_edit, summarise_edit),
    "still": (run_still, summarise_still),
}


def _guidance_pair(text: str) -> tuple[float, float]:
    tg, _, sg = text.partition("/")
    return float(tg), float(sg or tg)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run")
    ap.add_argument("--n", type=int, default=None, help=f"items per part (default {DEFAULT_N})")
    ap.add_argument("--seconds", type=float, default=2.0, help="length of sources and generated parts")
    ap.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    ap.add_argument("--edit-variant", nargs="+", choices=EDIT_VARIANTS, default=list(EDIT_VARIANTS),
                    help="edit methods compared (flowedit: given the source's caption; -nosource: not)")
    ap.add_argument("--edit-strength", type=float, nargs="+", default=[None],
                    help=f"edit strengths swept (default: the method's, {EDIT_STRENGTH} FlowEdit, {SDEDIT_STRENGTH} SDEdit)")
    ap.add_argument("--edit-guidance", nargs="+", default=None, metavar="T[/S]",
                    help="FlowEdit guidance swept: target T, source S (default S = T; default T: the model's)")
    ap.add_argument("--edit-seed-offset", type=int, default=0, help="edit other sources (a tuning split)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "modes.json"))
    a = ap.parse_args()
    t0 = time.perf_counter()
    pipe = Pipeline.from_pretrained(a.model)
    load_s = time.perf_counter() - t0
    path = Path(a.json)
    report = load_report(path)
    for name in a.only:
        run, summarise = RUNNERS[name]
        if name == "edit":
            guidances = tuple(_guidance_pair(g) for g in a.edit_guidance) if a.edit_guidance else ((None, None),)
            run = functools.partial(run_edit, variants=tuple(a.edit_variant), strengths=tuple(a.edit_strength),
                                    guidances=guidances, seed_offset=a.edit_seed_offset)
        n = a.n if a.n is not None else DEFAULT_N[name]
        t = time.perf_counter()
        items = run(pipe, n, a.seconds, a.steps)
        wall = time.perf_counter() - t
        res = {"n": n, "seconds": a.seconds, "steps": a.steps or pipe.sampling.steps, "model": a.model or "shipped",
               "wall_s": wall, "seconds_per_item": wall / max(1, n), "summary": summarise(items), "items": items,
               "when": time.strftime("%Y-%m-%d %H:%M:%S")}
        report["parts"][name] = res
        print_part(name, res)
    write_report(path, report, t0, model=a.model or "shipped", model_name=pipe.name, load_s=load_s,
                 size=[pipe.sampling.width, pipe.sampling.height], fps=pipe.sampling.fps)


if __name__ == "__main__":
    main()
