"""`cinegen generate` and `cinegen image`: every prompting mode, streamed to the output file."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import numpy as np
import typer
from rich.console import Console

from cinegen.common.errors import InputError
from cinegen.pipeline.output import check_output, save_image, signed_output
from cinegen.pipeline.limits import EDIT_METHODS

err = Console(stderr=True)


def _load(model: Path | None):
    from cinegen.pipeline import Pipeline

    with err.status("loading model"):
        return Pipeline.from_pretrained(model)


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (FileNotFoundError, IsADirectoryError, UnidentifiedImageError, OSError) as e:
        raise InputError(f"cannot read image {path}: {getattr(e, 'strerror', None) or e}") from None


def _read_video(path: Path, fps: float) -> np.ndarray:
    from cinegen.common.video_io import read_video

    frames, _ = read_video(path, fps=fps)
    if len(frames) == 0:
        raise InputError(f"video {path} has no frames")
    return frames


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


def run_generate(prompt, out, model, seconds, fps, width, height, steps, guidance, seed, negative_prompt, image,
                 extend, direction, connect, loop, edit, strength, source_prompt, edit_method, storyboard, label, no_expand,
                 verbose) -> None:
    from cinegen.pipeline import modes
    from cinegen.pipeline.storyboard import load_storyboard, parse_inline, storyboard_frames

    t0 = time.perf_counter()
    mode = _mode(image, extend, connect, loop, edit, storyboard)
    if prompt is None and mode != "storyboard":
        raise InputError('give a prompt: cinegen generate "a red ball bouncing on a checker floor"')
    if edit is None and (strength is not None or source_prompt is not None or edit_method != EDIT_METHODS[0]):
        raise InputError("--strength, --source-prompt and --edit-method go with --edit")
    if edit_method not in EDIT_METHODS:
        raise InputError(f"--edit-method must be one of {', '.join(EDIT_METHODS)}, got {edit_method!r}")
    if strength is not None and not 0 < strength <= 1:
        raise InputError(f"--strength must be more than 0 and at most 1, got {strength:g}")
    if connect is not None and len(connect) != 2:
        raise InputError(f"--connect takes exactly two videos, got {len(connect)}")
    board = None
    if storyboard is not None:
        board = load_storyboard(storyboard) if Path(storyboard).exists() else parse_inline(storyboard)
    check_output(out)
    still = _read_image(image) if image is not None else None
    pipe = _load(model)
    kw = dict(fps=fps, width=width, height=height, steps=steps, guidance=guidance, seed=seed,
              negative_prompt=negative_prompt)
    if mode != "storyboard":  # check every field before the expensive part
        pipe.request(prompt, seconds=seconds, **kw)
    the_fps = fps or (board.fps if board and board.fps else None) or pipe.defaults["fps"]
    expand = not no_expand
    encoded = prompt
    # the file appears only once it is written and signed (pipeline/output.py signed_output)
    with _bar() as bar, signed_output(out, prompt or "", pipe.name) as target:
        task = bar.add_task("sampling", total=None)
        progress = lambda i, n: bar.update(task, completed=i, total=n)  # noqa: E731
        if mode in ("text", "image"):
            if still is not None:
                w, h = width or pipe.defaults["width"], height or pipe.defaults["height"]
                if still.shape[:2] != (h, w):
                    err.print(f"note: the {still.shape[1]}×{still.shape[0]} image is resized and centre-cropped to {w}×{h}")
            req, encoded, cond = pipe.prepare(prompt, expand=expand, image=still, seconds=seconds, **kw)
            n = _stream_to(target, pipe.frames_stream(req, encoded, cond, progress=progress), req.fps, label, bar, task)
        elif mode == "storyboard":
            n = _stream_to(target, storyboard_frames(pipe, board, seed=seed, expand=expand, progress=progress,
                                                  **{k: v for k, v in kw.items() if k != "seed"}),
                           the_fps, label, bar, task)
        else:
            kw2 = {**kw, "fps": the_fps}
            if mode == "extend":
                res = modes.extend(pipe, prompt, _read_video(extend, the_fps), direction=direction,
                                   seconds=seconds or 2.0, expand=expand, progress=progress, **kw2)
            elif mode == "connect":
                res = modes.connect(pipe, prompt, _read_video(connect[0], the_fps), _read_video(connect[1], the_fps),
                                    seconds=seconds or 2.0, expand=expand, progress=progress, **kw2)
            elif mode == "loop":
                res = modes.loop(pipe, prompt, seconds=seconds or pipe.defaults["seconds"], expand=expand,
                                 progress=progress, **kw2)
            else:
                res = modes.edit(pipe, prompt, _read_video(edit, the_fps), strength=strength, source_prompt=source_prompt,
                                 method=edit_method, expand=expand, progress=progress, **kw2)
            encoded = res.encoded_prompt
            n = _stream_to(target, iter([res.frames]), res.fps, label, bar, task)
    if verbose:
        err.print(f"prompt sent to the text encoder: {encoded}")
        err.print(f"total {time.perf_counter() - t0:.2f}s")
    typer.echo(f"wrote {out} ({n} frames, {n / the_fps:.2f} s at {the_fps:g} fps)")


def run_image(prompt, out, model, width, height, steps, guidance, seed, negative_prompt, no_expand, verbose) -> None:
    check_output(out, image=True)
    pipe = _load(model)
    fps = pipe.defaults["fps"]
    result = pipe(prompt, seconds=1.0 / fps, fps=fps, width=width, height=height, steps=steps, guidance=guidance,
                  seed=seed, negative_prompt=negative_prompt, expand=not no_expand)
    if verbose:
        err.print(f"prompt sent to the text encoder: {result.encoded_prompt}")
    save_image(result.frames[0], out, prompt=result.prompt, model_id=pipe.name)
    h, w = result.frames.shape[1:3]
    typer.echo(f"wrote {out} ({w}×{h})")
