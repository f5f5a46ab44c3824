"""`cinegen eval`: describe, score, run (generate + score a prompt set, or one shard of it), videos (score files),
merge (shards of one run), compare (two reports)."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import Progress

from cinegen.common.errors import InputError

eval_app = typer.Typer(help="Measure what a video shows and how well it follows a prompt.")

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".gif")


def _read(path: Path):
    from cinegen.common.video_io import read_video

    if not path.exists():
        raise InputError(f"video {path} does not exist")
    return read_video(path)


@eval_app.command("describe")
def describe_cmd(video: Path, json_out: bool = typer.Option(True, "--json/--no-json")) -> None:
    """Print what VIDEO shows as JSON."""
    from cinegen.eval.describe import describe

    frames, fps = _read(video)
    typer.echo(json.dumps(describe(frames, fps).to_dict(), indent=1 if json_out else None))


@eval_app.command("score")
def score_cmd(video: Path, prompt: str) -> None:
    """Score VIDEO against PROMPT, per dimension, as JSON."""
    from cinegen.eval.report import evaluate_video

    frames, fps = _read(video)
    typer.echo(json.dumps(evaluate_video(frames, fps, prompt)["scores"], indent=1))


@eval_app.command("run")
def run_cmd(
    prompts: Path = typer.Option(..., "--prompts"),
    out: Path = typer.Option(..., "--out"),
    model: Path | None = typer.Option(None, "--model", help="checkpoint folder (default: the shipped model)"),
    seconds: float | None = typer.Option(None, help="video length (default: the model's)"),
    fps: float | None = typer.Option(None, help="frame rate (default: the model's)"),
    width: int | None = typer.Option(None, help="width (default: the model's)"),
    height: int | None = typer.Option(None, help="height (default: the model's)"),
    steps: int | None = typer.Option(None, help="sampling steps (default: the model's)"),
    guidance: float | None = typer.Option(None, help="guidance scale (default: the model's)"),
    sampler: str | None = typer.Option(None, help="euler or unipc (default: the model's)"),
    seed: int = 0,
    limit: int | None = typer.Option(None, "--limit", help="use N prompts spread evenly over the file"),
    expand: bool = typer.Option(True, "--expand/--no-expand", help="expand short prompts (the default) or not"),
    shard: str | None = typer.Option(None, "--shard", help="K/N: only the K-th of N equal runs of the prompts, "
                                     "with their own seeds (run the N side by side, then `eval merge`)"),
) -> None:
    """Generate a video per prompt with MODEL and write a report folder to OUT."""
    from cinegen.eval.prompts import load_prompts
    from cinegen.eval.report import evaluate_video, write_report
    from cinegen.pipeline import Pipeline

    items = load_prompts(prompts)
    if limit:
        items = items[:: max(1, len(items) // limit)][:limit]
    first, last = _shard_range(shard, len(items))
    pipe = Pipeline.from_pretrained(model)
    results, sheets = [], []
    with Progress() as bar:
        task = bar.add_task("generating", total=last - first)
        for i, it in enumerate(items[first:last], start=first):  # seed by place in the whole set
            res = pipe(it.prompt, seconds=it.seconds or seconds, fps=fps, width=width, height=height, steps=steps,
                       guidance=guidance, seed=seed + i, expand=expand, sampler=sampler)
            results.append(evaluate_video(res.frames, res.fps, it.prompt, it.shots))
            sheets.append(res.frames)
            bar.advance(task)
    _print_summary(write_report(out, results, sheets))


def _shard_range(shard: str | None, n: int) -> tuple[int, int]:
    """The prompts [first, last) of shard "K/N" (K from 1): N nearly equal runs in order."""
    if shard is None:
        return 0, n
    try:
        k, parts = (int(x) for x in shard.split("/"))
    except ValueError:
        raise InputError(f"--shard takes K/N (e.g. 1/2), got {shard!r}") from None
    if not 1 <= k <= parts:
        raise InputError(f"--shard {shard}: K must be from 1 to N")
    return (k - 1) * n // parts, k * n // parts


@eval_app.command("merge")
def merge_cmd(parts: list[Path] = typer.Argument(..., metavar="REPORT", help="report folders, in shard order"),
              out: Path = typer.Option(..., "--out", help="a new folder for the merged report")) -> None:
    """Merge report folders (the shards of one `eval run --shard K/N`, given in order K = 1..N) into OUT."""
    from cinegen.eval.report import merge_reports

    _print_summary(merge_reports(out, parts))


@eval_app.command("videos")
def videos_cmd(folder: Path, prompts: Path = typer.Option(..., "--prompts"), out: Path | None = typer.Option(None, "--out")) -> None:
    """Score the videos in FOLDER (sorted by name) against the prompts, in order."""
    from cinegen.eval.prompts import load_prompts
    from cinegen.eval.report import evaluate_video, write_report

    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    items = load_prompts(prompts)
    if not files:
        raise InputError(f"no videos in {folder}")
    if len(items) < len(files):
        raise InputError(f"{len(files)} videos but only {len(items)} prompts")
    results, sheets = [], []
    with Progress() as bar:
        task = bar.add_task("scoring", total=len(files))
        for f, it in zip(files, items):
            frames, fps = _read(f)
            results.append(evaluate_video(frames, fps, it.prompt, it.shots))
            sheets.append(frames)
            bar.advance(task)
    _print_summary(write_report(out or folder / "eval", results, sheets))


@eval_app.command("compare")
def compare_cmd(a: Path, b: Path, json_out: Path | None = typer.Option(None, "--json", help="also write the table as JSON")) -> None:
    """Paired change per dimension from report A to report B (made on the same prompts and seeds)."""
    from dataclasses import asdict

    from cinegen.common.atomic import write_text_atomic
    from cinegen.eval.compare import compare_results, format_table, read_report

    changes = compare_results(read_report(a), read_report(b))
    typer.echo(format_table(changes, a.name, b.name))
    if json_out is not None:
        write_text_atomic(json_out, json.dumps({"a": str(a), "b": str(b), "dimensions": [asdict(c) for c in changes]}, indent=1))


def _print_summary(summary: dict) -> None:
    for dim, s in summary.items():
        if s["n"]:
            typer.echo(f"{dim:12s} {s['mean']:.3f}  [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]  n={s['n']}")
