"""Issue 6 acceptance: minute-long videos and multi-shot storyboards.

    python benchmarks/bench_long.py [--model DIR] [--only consistency storyboard memory] [--n N]
                                    [--seconds 60] [--window 10] [--json benchmarks/results/long.json]

Parts, metrics and targets (T = target):
  consistency  `--seconds` (60) videos of eval/prompts/long60.txt, default size, seed = prompt index:
      (a) subject identity: the prompt's subjects are matched (eval's Hungarian `match`) to describe()
          tracks of the whole video. A subject keeps its colour and shape when (1) its track is seen in
          the first and in the last `--window` seconds, (2) describe() run on each window alone finds a
          track at the same place (mean centre distance ≤ WINDOW_GATE over the frames both see) whose
          colour equals the whole track's in both windows and whose shape family is the same in both
          (an "unknown" (too small) shape is not compared), and (3) throughout, the whole track has
          colour drift ≤ 0.2 and shape drift ≤ 0.4 (the eval `consistency` rules). T: share ≥ 0.95.
      (b) eval `consistency` of the whole video (no spawning/vanishing in the open). T: mean ≥ 0.95.
      (c) adherence drop: adherence = mean of the eval colour/shape/count/motion/background values
          (those the prompt states) of the first window minus that of the last window. T: mean ≤ 0.05.
  storyboard  eval/prompts/storyboards.jsonl (3-5 shots each), generated with storyboard_frames:
      (a) cuts: a requested cut (each shot boundary) is found when describe() puts a cut within ±2
          frames of it. T: share ≥ 0.9 (extra cuts are reported too).
      (b) per-shot adherence (as above, each shot's frames against its own full prompt, i.e.
          Storyboard.shot_prompt) vs that shot generated alone (a one-shot storyboard: the same
          prompt, length, seed (storyboard seed + shot index) and framing, no memory of other shots).
          T: mean (single - storyboard) ≤ 0.05.
      (c) cross-shot identity: each subject (the storyboard's `subjects`) is matched in every shot;
          it keeps its identity when it is found in every shot with one colour and one shape family
          (unknown shapes not compared). T: share ≥ 0.9.
  memory  peak RSS and wall time of a 60 s vs a 10 s generation, each in a fresh process, by
      benchmarks/bench_generate.py's `run_case` (the same child, watermark and MP4 write included).
      T: RSS ratio ≤ 1.3, time ratio ≤ 6.5.

Outputs are not watermarked where the API allows (mark=False; CINEGEN_WATERMARK=0 around
storyboard_frames, which has no mark flag). Results of the parts that ran are merged into the JSON.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cinegen.eval.describe import Description, ObjectTrack, describe
from cinegen.eval.parse import Expected, parse
from cinegen.eval.score import match, score_description
from cinegen.pipeline import Pipeline
from cinegen.pipeline.storyboard import Storyboard, parse_storyboard, storyboard_frames

from bench_report import load_report, mean_of, print_part, share, write_report  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

ROOT = Path(__file__).resolve().parent.parent
LONG_PROMPTS = ROOT / "eval" / "prompts" / "long60.txt"
STORYBOARDS = ROOT / "eval" / "prompts" / "storyboards.jsonl"
PARTS = ("consistency", "storyboard", "memory")
DEFAULT_N = {"consistency": 30, "storyboard": 20}
ADHERENCE_DIMS = ("colour", "shape", "count", "motion", "background")
WINDOW_GATE = 0.1  # normalised: a window track this close to the whole-video track is the same object
CUT_TOLERANCE = 2  # frames
COLOUR_DRIFT_MAX, SHAPE_DRIFT_MAX = 0.2, 0.4  # as eval score.consistency


# ------------------------------------------------------------------ helpers


def family(shape: str) -> str:
    """A diamond is a turned square (as eval score._family)."""
    return "square" if shape == "diamond" else shape


def adherence(d: Description, e: Expected) -> float | None:
    """Mean of the eval colour/shape/count/motion/background values the prompt states (None: none)."""
    scores = score_description(d, e)
    return mean_of([scores[k].value for k in ADHERENCE_DIMS])


def read_prompts(path: Path) -> list[str]:
    return [s.strip() for s in path.read_text().splitlines() if s.strip() and not s.startswith("#")]


def read_storyboards(path: Path) -> list[Storyboard]:
    return [parse_storyboard(line, f"{path.name}:{i}")
            for i, line in enumerate(path.read_text().splitlines(), 1) if line.strip()]


@contextlib.contextmanager
def no_watermark() -> Iterator[None]:
    old = os.environ.get("CINEGEN_WATERMARK")
    os.environ["CINEGEN_WATERMARK"] = "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("CINEGEN_WATERMARK", None)
        else:
            os.environ["CINEGEN_WATERMARK"] = old


# ------------------------------------------------------------------ (1) minute-long consistency
def window_track(o: ObjectTrack, w: Description, offset: int) -> ObjectTrack | None:
    """The track of window description `w` (frames offset..) nearest the whole-video track `o`."""
    best, best_d = None, WINDOW_GATE
    for q in w.objects:
        vis = o.visible[offset : offset + w.n_frames] & q.visible
        if vis.any():
            dist = float(np.linalg.norm(o.centre[offset : offset + w.n_frames][vis] - q.centre[vis], axis=1).mean())
            if dist <= best_d:
                best, best_d = q, dist
    return best


def subject_identity(o: ObjectTrack, first: Description, last: Description, last_offset: int) -> dict[str, Any]:
    """Whether one subject's track keeps colour and shape (rule in the module docstring), and why not."""
    reasons = []
    if not o.visible[: first.n_frames].any():
        reasons.append("not seen in first window")
    if not o.visible[last_offset:].any():
        reasons.append("not seen in last window")
    seen_both = not reasons
    if o.colour_drift > COLOUR_DRIFT_MAX:
        reasons.append("colour drift")
    if o.shape_per_frame and np.mean([family(s) != family(o.shape) for s in o.shape_per_frame]) > SHAPE_DRIFT_MAX:
        reasons.append("shape drift")
    a = window_track(o, first, 0) if seen_both else None
    b = window_track(o, last, last_offset) if seen_both else None
    if seen_both:
        if a is None or b is None:
            reasons.append("no window track at its place")
        else:
            if not (a.colour == b.colour == o.colour):
                reasons.append(f"colour {a.colour}→{b.colour}")
            if "unknown" not in (a.shape, b.shape) and family(a.shape) != family(b.shape):
                reasons.append(f"shape {a.shape}→{b.shape}")
    return {"colour": o.colour, "shape": o.shape, "kept": not reasons, "why": "; ".join(reasons),
            "first": None if a is None else [a.colour, a.shape], "last": None if b is None else [b.colour, b.shape]}


def run_consistency(pipe: Pipeline, n: int, seconds: float, window_s: float) -> list[dict[str, Any]]:
    """Minute-long videos: subject identity (a), eval consistency (b), first-vs-last window adherence (c)."""
    items = []
    fps = float(pipe.sampling.fps)
    for i, prompt in enumerate(read_prompts(LONG_PROMPTS)[:n]):
        t0 = time.perf_counter()
        frames = pipe(prompt, seconds=seconds, seed=i, mark=False).frames
        gen_s = time.perf_counter() - t0
        m = measure_long(frames, fps, prompt, window_s)
        items.append({"prompt": prompt, "frames": len(frames), "generate_s": gen_s,
                      "eval_s": time.perf_counter() - t0 - gen_s, **m})
    return items


def measure_long(frames: np.ndarray, fps: float, prompt: str, window_s: float) -> dict[str, Any]:
    """(a) subject identity, (b) eval consistency, (c) first/last window adherence of one long video."""
    e = parse(prompt)
    whole = describe(frames, fps)
    w = round(window_s * fps)
    first, last = describe(frames[:w], fps), describe(frames[-w:], fps)
    pairs = match(e.objects, whole.objects)
    subjects = [subject_identity(whole.objects[j], first, last, len(frames) - w) for _, j in pairs if j is not None]
    a_first, a_last = adherence(first, e), adherence(last, e)
    return {"subjects_asked": len(e.objects), "subjects_found": len(subjects), "subjects": subjects,
            "consistency": score_description(whole, e)["consistency"].value,
            "adherence_first": a_first, "adherence_last": a_last,
            "adherence_drop": None if a_first is None or a_last is None else a_first - a_last}


def summarise_consistency(items: list[dict[str, Any]]) -> dict[str, Any]:
    subjects = [s for it in items for s in it["subjects"]]
    why: dict[str, int] = {}
    for s in subjects:
        for r in filter(None, s["why"].split("; ")):
            key = r.split(" ")[0] if r.startswith(("colour ", "shape ")) and "→" in r else r
            why[key] = why.get(key, 0) + 1
    return {
        "identity_kept_share": share([s["kept"] for s in subjects]),
        "subjects_judged": len(subjects),
        "subjects_asked": sum(it["subjects_asked"] for it in items),
        "identity_fail_reasons": why,
        "consistency_mean": mean_of([it["consistency"] for it in items]),
        "consistency_n": sum(it["consistency"] is not None for it in items),
        "adherence_first_mean": mean_of([it["adherence_first"] for it in items]),
        "adherence_last_mean": mean_of([it["adherence_last"] for it in items]),
        "adherence_drop_mean": mean_of([it["adherence_drop"] for it in items]),
        "generate_s_mean": mean_of([it["generate_s"] for it in items]),
        "targets": {"identity_kept_share": 0.95, "consistency_mean": 0.95, "adherence_drop_mean": 0.05},
    }


# ------------------------------------------------------------------ (2) storyboards
def shot_bounds(pipe: Pipeline, board: Storyboard, fps: float) -> list[tuple[int, int]]:
    """(start, end) frame of each shot, as storyboard_frames makes them (each shot req.n_frames long)."""
    out, start = [], 0
    for shot in board.shots:
        k = pipe.request(board.shot_prompt(shot), seconds=shot.seconds, fps=fps).n_frames
        out.append((start, start + k))
        start += k
    return out


def cut_hits(requested: list[int], found: list[int]) -> list[bool]:
    return [any(abs(r - c) <= CUT_TOLERANCE for c in found) for r in requested]


def subject_identity_across(subjects: Expected, shots: list[Description]) -> list[dict[str, Any]]:
    """Per subject: the colour and shape of the track matched to it in each shot, and whether they agree."""
    seen: list[list[tuple[str, str] | None]] = [[] for _ in subjects.objects]
    for d in shots:
        for i, j in match(subjects.objects, d.objects):
            seen[i].append(None if j is None else (d.objects[j].colour, d.objects[j].shape))
    out = []
    for i, per_shot in enumerate(seen):
        found = [p for p in per_shot if p is not None]
        shapes = {family(s) for _, s in found if s != "unknown"}
        kept = len(found) == len(per_shot) and len({c for c, _ in found}) == 1 and len(shapes) <= 1
        o = subjects.objects[i]
        out.append({"subject": f"{o.colour} {o.shape}", "per_shot": per_shot, "found_all": len(found) == len(per_shot),
                    "kept": kept})
    return out


def run_storyboard(pipe: Pipeline, n: int) -> list[dict[str, Any]]:
    """Storyboards: requested cuts found (a), per-shot vs single-shot adherence (b), subject identity (c)."""
    items = []
    for i, board in enumerate(read_storyboards(STORYBOARDS)[:n]):
        fps = float(board.fps or pipe.sampling.fps)
        t0 = time.perf_counter()
        with no_watermark():
            frames = np.concatenate(list(storyboard_frames(pipe, board, seed=i, fps=fps)))
            gen_s = time.perf_counter() - t0
            # The same shot alone (same seed, framing and virtual camera): what the shared memory changes.
            singles = [np.concatenate(list(storyboard_frames(pipe, Storyboard((shot,), board.subjects, board.fps),
                                                             seed=i + k, fps=fps)))
                       for k, shot in enumerate(board.shots)]
        items.append({"shots": len(board.shots), "frames": len(frames), "generate_s": gen_s,
                      **measure_storyboard(frames, fps, board, shot_bounds(pipe, board, fps), singles)})
    return items


def measure_storyboard(frames: np.ndarray, fps: float, board: Storyboard, bounds: list[tuple[int, int]],
                       singles: list[np.ndarray]) -> dict[str, Any]:
    """(a) cuts, (b) per-shot vs single-shot adherence, (c) cross-shot identity of one storyboard video."""
    requested = [s for s, _ in bounds[1:]]
    cuts = describe(frames, fps).cuts
    shots, per_shot = [], []
    for shot, (s, e), single in zip(board.shots, bounds, singles):
        prompt = board.shot_prompt(shot)
        d = describe(frames[s:e], fps)
        shots.append(d)
        a_board, a_single = adherence(d, parse(prompt)), adherence(describe(single, fps), parse(prompt))
        per_shot.append({"prompt": prompt, "adherence_storyboard": a_board, "adherence_single": a_single,
                         "gap": None if a_board is None or a_single is None else a_single - a_board,
                         "identical_frames": bool(np.array_equal(single, frames[s:e]))})
    subjects = parse(board.subjects or board.shots[0].prompt)
    return {"requested_cuts": requested, "found_cuts": cuts, "cuts_hit": cut_hits(requested, cuts),
            "extra_cuts": sum(not any(abs(r - c) <= CUT_TOLERANCE for r in requested) for c in cuts),
            "per_shot": per_shot, "identity": subject_identity_across(subjects, shots)}


def summarise_storyboard(items: list[dict[str, Any]]) -> dict[str, Any]:
    shots = [s for it in items for s in it["per_shot"]]
    ident = [s for it in items for s in it["identity"]]
    return {
        "cuts_found_share": share([h for it in items for h in it["cuts_hit"]]),
        "cuts_requested": sum(len(it["requested_cuts"]) for it in items),
        "extra_cuts": sum(it["extra_cuts"] for it in items),
        "shot_adherence_storyboard_mean": mean_of([s["adherence_storyboard"] for s in shots]),
        "shot_adherence_single_mean": mean_of([s["adherence_single"] for s in shots]),
        "shot_adherence_gap_mean": mean_of([s["gap"] for s in shots]),
        "shots_identical_to_single": share([s["identical_frames"] for s in shots]),
        "identity_kept_share": share([s["kept"] for s in ident]),
        "identity_found_in_every_shot_share": share([s["found_all"] for s in ident]),
        "identity_subjects": len(ident),
        "targets": {"cuts_found_share": 0.9, "shot_adherence_gap_mean": 0.05, "identity_kept_share": 0.9},
    }


# ------------------------------------------------------------------ (3) memory and time
def run_memory(model: str | None, short_s: float, long_s: float) -> dict[str, Any]:
    """Peak RSS and wall time of a long vs a short generation, via bench_generate.run_case (fresh processes)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_generate import run_case
    except ImportError as e:
        return {"skipped": f"cannot import bench_generate.run_case: {e}"}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for s in (short_s, long_s):
            try:
                rows[s] = run_case(model, s, None, Path(tmp) / f"case_{s:g}.mp4", False)
            except (TypeError, SystemExit) as e:
                return {"skipped": f"bench_generate.run_case failed for {s:g} s: {e}"}
    a, b = rows[short_s], rows[long_s]
    return {"short_s": short_s, "long_s": long_s, "peak_rss_mb": [a["peak_rss_mb"], b["peak_rss_mb"]],
            "wall_s": [a["wall_s"], b["wall_s"]], "rss_ratio": b["peak_rss_mb"] / a["peak_rss_mb"],
            "time_ratio": b["wall_s"] / a["wall_s"], "targets": {"rss_ratio": 1.3, "time_ratio": 6.5}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    ap.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run")
    ap.add_argument("--n", type=int, default=None, help=f"prompts / storyboards (default {DEFAULT_N})")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the consistency videos")
    ap.add_argument("--window", type=float, default=10.0, help="first/last window, seconds (≤ half the video)")
    ap.add_argument("--memory-seconds", type=float, nargs=2, default=[10.0, 60.0], metavar=("SHORT", "LONG"))
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "long.json"))
    a = ap.parse_args()
    t0 = time.perf_counter()
    pipe = Pipeline.from_pretrained(a.model) if set(a.only) - {"memory"} else None
    path = Path(a.json)
    report = load_report(path)
    window = min(a.window, a.seconds / 2)
    for name in a.only:
        t = time.perf_counter()
        res: dict[str, Any] = {"model": a.model or "shipped", "when": time.strftime("%Y-%m-%d %H:%M:%S")}
        if name == "consistency":
            n = a.n if a.n is not None else DEFAULT_N[name]
            items = run_consistency(pipe, n, a.seconds, window)
            res.update(n=len(items), seconds=a.seconds, window_s=window, prompts=str(LONG_PROMPTS.relative_to(ROOT)),
                       summary=summarise_consistency(items), items=items)
        elif name == "storyboard":
            n = a.n if a.n is not None else DEFAULT_N[name]
            items = run_storyboard(pipe, n)
            res.update(n=len(items), prompts=str(STORYBOARDS.relative_to(ROOT)), summary=summarise_storyboard(items),
                       items=items)
        else:
            res.update(summary=run_memory(a.model, *a.memory_seconds))
        res["wall_s"] = time.perf_counter() - t
        if res.get("n"):
            res["seconds_per_item"] = res["wall_s"] / res["n"]
        report["parts"][name] = res
        print_part(name, res)
    write_report(path, report, t0, model=a.model or "shipped")


if __name__ == "__main__":
    main()
