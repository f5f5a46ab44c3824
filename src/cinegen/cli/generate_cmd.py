"""`cinegen generate` and `cinegen image`: every prompting mode, streamed to the output file."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import numpy as np
import typer
from rich.console import Console

from cinegen.common.errors import InputError
from cinegen.pipeline.output import check_output, save_image, signed_output

err = Console(stderr=True)


def _load(model: Path | None, offload: bool = False):
    from cinegen.pipeline import Pipeline

    with err.status("loading model"):
        return Pipeline.from_pretrained(model, offload=offload)


def _bar():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


def _mode(image, extend, connect, loop, edit, storyboard) -> str:
    chosen = [name for name, on in (("--image", image), ("--extend", extend), ("--connect", connect),
                                    ("--loop", loop), ("--edit", edit), ("--storyboard", storyboard)) if on]
    if len(chosen) > 1:
        raise InputError(f"{' and '.join(chosen)} cannot be used together: pick one mode")
    return chosen[0][2:] if chosen else "text"


def _stream_to(out: Path, chunks: Iterator[np.ndarray], fps: float, label: bool, bar, task) -> int:
    """Write chunks as they are decoded (a long video can be watched before it is done)."""
    from cinegen.common.video_io import write_video

    n = 0

    def counted() -> Iterator[np.ndarray]:
        nonlocal n
        for chunk in chunks:
            if label:
                from cinegen.provenance import add_label

                chunk = add_label(chunk)
            n += len(chunk)
            bar.update(task, description=f"{n / fps:.1f} s of video done")
            yield chunk

    write_video(out, counted(), fps)
    return n


def run_generate(prompt, out, model, offload, seconds, frames, fps, width, height, steps, guidance, sampler, seed, negative_prompt,
                 image, extend, direction, connect, loop, edit, strength, source_prompt, edit_method, storyboard, label,
                 no_expand, verbose) -> None:
    from cinegen.pipeline.run import VideoRequest, check, read_image, read_source, run
    from cinegen.pipeline.storyboard import load_storyboard, parse_inline

    t0 = time.perf_counter()
    mode = _mode(image, extend, connect, loop, edit, storyboard)
    if connect is not None and len(connect) != 2:
        raise InputError(f"--connect takes exactly two videos, got {len(connect)}")
    board = None
    if storyboard is not None:
        board = load_storyboard(storyboard) if Path(storyboard).exists() else parse_inline(storyboard)
    fields = dict(mode=mode, prompt=prompt, seconds=seconds, frames=frames, fps=fps, width=width, height=height,
                  steps=steps, guidance=guidance, sampler=sampler, seed=seed, negative_prompt=negative_prompt or "",
                  expand=not no_expand, direction=direction, strength=strength, source_prompt=source_prompt,
                  edit_method=edit_method, storyboard=board)
    draft = VideoRequest(**fields, **_placeholders(mode))  # every check that needs no model or file, first
    check_output(out)
    still = read_image(image) if image is not None else None
    d, pipe = _load_on_ranks(model, offload)
    check(pipe, draft)
    the_fps = draft.fps_for(pipe)  # given videos are read at the fps the output will have
    if still is not None:
        w, h = width or pipe.sampling.width, height or pipe.sampling.height
        if still.shape[:2] != (h, w):
            err.print(f"note: the {still.shape[1]}×{still.shape[0]} image is resized and centre-cropped to {w}×{h}")
    source = extend or edit or (connect[0] if connect else None)
    req = replace(draft, image=still, video=read_source(source, the_fps) if source else None,
                  video_b=read_source(connect[1], the_fps) if connect else None)
    if not d.main:  # the other ranks take part in every DiT call (collectives) and write nothing
        for _ in run(pipe, req).chunks:
            pass
        _leave_ranks(d)
        return
    # the file appears only once it is written and signed (pipeline/output.py signed_output)
    with _bar() as bar, signed_output(out, prompt or "", pipe.name) as target:
        task = bar.add_task("sampling", total=None)
        progress = lambda i, n: bar.update(task, completed=i, total=n)  # noqa: E731
        gen = run(pipe, req, progress=progress)
        n = _stream_to(target, gen.chunks, gen.fps, label, bar, task)
    _leave_ranks(d)
    if verbose:
        err.print(f"prompt sent to the text encoder: {gen.encoded_prompt}")
        err.print(f"total {time.perf_counter() - t0:.2f}s")
    typer.echo(f"wrote {out} ({n} frames, {n / gen.fps:.2f} s at {gen.fps:g} fps)")


def _load_on_ranks(model: Path | None, offload: bool = False):
    """(ranks, pipeline). Under `torchrun --nproc-per-node N -m cinegen generate` every process joins the group
    (gloo on CPU, NCCL on GPUs) and holds a share of each window's tokens (Ulysses, dit/ulysses.py); a plain
    run is rank 0 of 1."""
    from cinegen.common.device import pick_device
    from cinegen.train import parallel

    d = parallel.setup(pick_device(None))
    pipe = _load(model, offload)
    if d.world_size > 1:
        from cinegen.dit.ulysses import sequence_parallel

        sequence_parallel(pipe.dit)  # a head count the world size does not divide: a one-line error
    return d, pipe


def _leave_ranks(d) -> None:
    from cinegen.train import parallel

    parallel.barrier(d)
    parallel.teardown(d)


def _placeholders(mode: str) -> dict:
    """Stand-ins for the inputs a mode needs, so its request can be checked before the files are read."""
    one = np.zeros((1, 1, 1, 3), np.uint8)
    return {"image": one[0] if mode == "image" else None, "video": one if mode in ("extend", "edit", "connect") else None,
            "video_b": one if mode == "connect" else None}


def run_image(prompt, out, model, offload, width, height, steps, guidance, seed, negative_prompt, no_expand, verbose) -> None:
    from cinegen.pipeline.run import VideoRequest, run

    req = VideoRequest(mode="still", prompt=prompt, width=width, height=height, steps=steps, guidance=guidance,
                       seed=seed, negative_prompt=negative_prompt or "", expand=not no_expand)
    check_output(out, image=True)
    d, pipe = _load_on_ranks(model, offload)
    result = run(pipe, req).result(prompt)
    _leave_ranks(d)
    if not d.main:
        return
    if verbose:
        err.print(f"prompt sent to the text encoder: {result.encoded_prompt}")
    save_image(result.frames[0], out, prompt=result.prompt, model_id=pipe.name)
    h, w = result.frames.shape[1:3]
    typer.echo(f"wrote {out} ({w}×{h})")
