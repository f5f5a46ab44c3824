"""Writing results: video or image file, written atomically, then signed (C2PA) when enabled."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import numpy as np

from cinegen.common.atomic import atomic_path, check_writable
from cinegen.common.errors import OutputError

SIGNABLE = (".mp4", ".png")  # the formats a C2PA manifest is embedded in
VIDEO_SUFFIXES = (".mp4", ".gif", ".webp")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def check_output(path: Path, image: bool = False) -> Path:
    """Refuse an output we could not write, before any generation work starts."""
    suffixes = IMAGE_SUFFIXES if image else VIDEO_SUFFIXES
    if path.suffix.lower() not in suffixes and not (not image and path.suffix == ""):
        kinds = ", ".join(suffixes) + ("" if image else ", or a folder for PNG frames")
        raise OutputError(f"cannot write {path}: use {kinds}")
    if path.suffix == "":
        if path.exists() and not path.is_dir():
            raise OutputError(f"{path} exists and is not a folder")
        return path
    return check_writable(path)


@contextlib.contextmanager
def signed_output(path: Path, prompt: str = "", model_id: str = "cinegen", sign: bool = True) -> Iterator[Path]:
    """Yield the path to write a result to. For a file C2PA can carry (MP4, PNG), that is a temporary file,
    signed and only then renamed onto `path`: a failed signature leaves no unsigned file (and whatever was
    at `path` before is untouched). Other outputs (GIF, WebP, JPEG, a folder of frames) are written as they are."""
    path = Path(path)
    if not sign or path.suffix.lower() not in SIGNABLE:
        yield path
        return
    with atomic_path(path) as tmp:
        yield tmp
        sign_output(tmp, prompt, model_id, title=path.name)


def save_video(frames: np.ndarray, fps: float, path: Path, prompt: str = "", model_id: str = "cinegen",
               sign: bool = True) -> Path:
    from cinegen.common.video_io import write_video

    with signed_output(path, prompt, model_id, sign) as target:
        write_video(target, frames, fps)
    return Path(path)


def save_image(frame: np.ndarray, path: Path, prompt: str = "", model_id: str = "cinegen", sign: bool = True) -> Path:
    from PIL import Image

    with signed_output(path, prompt, model_id, sign) as target, atomic_path(target, suffix=Path(path).suffix) as tmp:
        Image.fromarray(frame).save(tmp, format=_pil_format(Path(path)))
    return Path(path)


def _pil_format(path: Path) -> str:
    return {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}[path.suffix.lower()]


def sign_output(path: Path, prompt: str, model_id: str, title: str | None = None) -> None:
    """Embed a signed C2PA manifest in an MP4 or PNG (CINEGEN_C2PA=0 turns it off); a failure raises."""
    if path.suffix.lower() not in SIGNABLE:
        return
    from cinegen.provenance import ProvenanceSettings, sign_file

    settings = ProvenanceSettings.from_env()
    if settings.c2pa:
        sign_file(path, model_id=model_id, prompt=prompt, settings=settings, title=title)
