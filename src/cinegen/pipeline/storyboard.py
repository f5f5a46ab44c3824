"""Storyboards: several shots joined by hard cuts, with the same subjects throughout.

A storyboard file (YAML or JSON):

    subjects: a small red ball and a large blue square   # optional, carried into every shot
    fps: 8
    shots:
      - prompt: the ball bounces on a checker floor
        seconds: 4
        framing: wide          # wide | medium | close-up
      - prompt: the square slides to the left
        seconds: 3
        framing: close-up

Inline form: "4s: a red ball bouncing | 3s close-up: the ball rolls left".
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import yaml

from cinegen.common.errors import InputError
from cinegen.pipeline.framing import reframe, subject_centre
from cinegen.pipeline.inputs import fit_video
from cinegen.pipeline.limits import MAX_SECONDS
from cinegen.pipeline.modes import _prefix_latents, context_frames
from cinegen.pipeline.pipeline import Condition

FRAMINGS = ("wide", "medium", "close-up")
FRAMING_WORDS = {"wide": "a wide shot of", "medium": "a medium shot of", "close-up": "a close-up of"}


@dataclass(frozen=True)
class Shot:
    prompt: str
    seconds: float
    framing: str = "wide"


@dataclass(frozen=True)
class Storyboard:
    shots: tuple[Shot, ...]
    subjects: str = ""
    fps: float | None = None

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.shots)

    def shot_prompt(self, shot: Shot) -> str:
        """What one shot shows, in words: framing, the shared subjects, then the shot's own words."""
        return f"{FRAMING_WORDS[shot.framing]} {self.scene_prompt(shot)}"

    def scene_prompt(self, shot: Shot) -> str:
        """What the model is asked for one shot: the shared subjects and the shot's own words, in the
        wide view (the framing is a virtual camera applied afterwards: framing.py)."""
        return f"{self.subjects.rstrip('. ')}. {shot.prompt}" if self.subjects else shot.prompt


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    return 0


def parse_storyboard(text: str, source: str = "storyboard") -> Storyboard:
    """Parse YAML/JSON text; errors name the line where that can be known."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{source}{where}: not valid YAML/JSON ({getattr(e, 'problem', e)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("shots"), list) or not data["shots"]:
        raise InputError(f"{source}: expected a mapping with a non-empty 'shots' list")
    shots = []
    for i, raw in enumerate(data["shots"], 1):
        if not isinstance(raw, dict):
            raise InputError(f"{source}: shot {i} must be a mapping with prompt and seconds")
        prompt = raw.get("prompt")
        line = _line_of(text, str(prompt)) if prompt else 0
        at = f"{source} line {line}" if line else f"{source} shot {i}"
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError(f"{at}: shot {i} has no prompt")
        seconds = raw.get("seconds", raw.get("duration"))
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not seconds > 0:
            raise InputError(f"{at}: shot {i} needs a positive duration in seconds, got {seconds!r}")
        framing = raw.get("framing", "wide")
        if framing not in FRAMINGS:
            raise InputError(f"{at}: shot {i} framing must be one of {', '.join(FRAMINGS)}, got {framing!r}")
        shots.append(Shot(prompt.strip(), float(seconds), framing))
    board = Storyboard(tuple(shots), str(data.get("subjects") or ""), data.get("fps"))
    if board.seconds > MAX_SECONDS:
        raise InputError(f"{source}: shots add up to {board.seconds:g} s; the limit is {MAX_SECONDS:g} s")
    return board


def parse_inline(text: str) -> Storyboard:
    """'4s: a red ball | 3s close-up: the ball rolls left'."""
    shots = []
    for i, part in enumerate(text.split("|"), 1):
        m = re.match(r"\s*([\d.]+)\s*s(?:\s+(wide|medium|close-up))?\s*:\s*(.+)", part)
        if not m:
            raise InputError(f"inline storyboard shot {i}: expected 'SECONDS s [framing]: prompt', got {part.strip()!r}")
        seconds = float(m.group(1))
        if seconds <= 0:
            raise InputError(f"inline storyboard shot {i}: duration must be positive")
        shots.append(Shot(m.group(3).strip(), seconds, m.group(2) or "wide"))
    board = Storyboard(tuple(shots))
    if board.seconds > MAX_SECONDS:
        raise InputError(f"storyboard shots add up to {board.seconds:g} s; the limit is {MAX_SECONDS:g} s")
    return board


def load_storyboard(path: str | Path) -> Storyboard:
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read storyboard {path}: {getattr(e, 'strerror', None) or e}") from None
    if path.suffix == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path} line {e.lineno}: not valid JSON ({e.msg})") from None
    return parse_storyboard(text, source=str(path))


def storyboard_frames(pipe, board: Storyboard, seed: int = 0, expand: bool = True, progress=None, mark: bool = True,
                      **kw) -> Iterator[np.ndarray]:
    """Frame chunks shot after shot, joined by hard cuts.

    Shot k is generated in the wide view from seed + k and reframed by a virtual camera centred on
    the subjects at its start (framing.py). From the second shot on, the first shot's opening frame,
    as a clean latent, is every window's memory frame (Condition.memory), so the subjects stay the
    same objects across cuts (models trained without memory batches get independent shots).

    A cut to another framing cuts on the action: the new shot continues the wide view where the shot
    before it ended (its last 1 + f frames held clean, f the model's time factor, as extend-forward does), so the
    subjects at the cut are the very objects just seen, only framed anew. A cut between two shots of
    the same framing is a jump in time: a new take beside the memory frame, so the cut shows.
    """
    fps = kw.pop("fps", None) or board.fps or pipe.sampling.fps
    reqs = [pipe.request(board.scene_prompt(shot), seconds=shot.seconds, fps=fps, seed=seed + k, **kw)
            for k, shot in enumerate(board.shots)]
    # the checked requests, every default filled in: the same video however the defaults were given
    marker = pipe.marker((repr(board), expand, reqs)) if mark else None
    sent = 0
    memory = None
    n_tail = context_frames(pipe.geometry.time_factor)
    tail = None  # the last n_tail frames of the shot before, wide view, at the generated size
    for k, (shot, req) in enumerate(zip(board.shots, reqs)):
        text = pipe.expand(req.prompt, req.seed) if expand else req.prompt
        if tail is not None and shot.framing != board.shots[k - 1].framing:
            stream = _continued(pipe, req, text, tail, memory, progress)
        else:
            cond = Condition(memory=memory) if memory is not None else None
            stream = pipe.frames_stream(req, text, cond, progress=progress, mark=False)
        centre = None
        seen: list[np.ndarray] = []  # the last chunks, as asked (the wide view, cropped)
        for chunk in stream:
            seen = (seen + [chunk])[-n_tail:]
            if centre is None:
                centre = subject_centre(chunk[0])
                if k == 0 and len(board.shots) > 1:
                    memory = pipe.encode_frames(_generated_size(chunk[:1], req))[:, 0]
            chunk = reframe(chunk, shot.framing, centre)
            if marker is not None:
                chunk = marker(chunk, sent)
            sent += len(chunk)
            yield chunk
        tail = _generated_size(np.concatenate(seen)[-n_tail:], req)


def _generated_size(frames: np.ndarray, req) -> np.ndarray:
    """Frames cropped to the asked size, back at the generated size for the VAE."""
    return fit_video(frames, *req.gen_size) if frames.shape[1:3] != req.gen_size else frames


def _continued(pipe, req, text: str, tail: np.ndarray, memory, progress) -> Iterator[np.ndarray]:
    """req.n_frames frames that follow `tail` (wide view): its last 1 + f·k frames' latents held clean (k ≤ 1;
    a shot under 1 + f frames gives 1), their decode dropped."""
    z, skip = _prefix_latents(pipe, tail, groups=1)
    n_ctx = z.shape[1]
    cond = Condition(latents=z, index=list(range(n_ctx)), memory=memory)
    n_latent = n_ctx + math.ceil(req.n_frames / pipe.geometry.time_factor)
    left = req.n_frames
    for chunk in pipe.frames_stream(req, text, cond, n_latent=n_latent, progress=progress, mark=False):
        drop = min(skip, len(chunk))
        chunk, skip = chunk[drop:], skip - drop
        chunk = chunk[:left]
        if len(chunk):
            left -= len(chunk)
            yield chunk
