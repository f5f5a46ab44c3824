"""Shot framing as a virtual camera: a tighter framing is a zoomed view of the wide shot.

Storyboard shots are generated in the wide view (where the memory frame keeps the subjects the same
objects) and reframed here, the way the world's camera frames its shots (world/camera.py): zoom by
FRAMING_ZOOM, centred on the subjects at the start of the shot, clamped so the view stays in frame.
The zoomed view is upsampled from fewer pixels, so close-ups are softer than wide shots.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cinegen.world.camera import FRAMING_ZOOM

FOREGROUND_LEVEL = 40  # grey levels from the frame's median colour that make a pixel a subject's


def subject_centre(frame: np.ndarray) -> tuple[float, float]:
    """Normalised (y, x) centre of the pixels unlike the frame's median colour; the frame centre if none."""
    f = frame.astype(np.int16)
    fg = np.abs(f - np.median(f.reshape(-1, 3), axis=0)).max(-1) > FOREGROUND_LEVEL
    if not fg.any() or fg.mean() > 0.5:  # nothing stands out, or a textured background: keep the centre
        return 0.5, 0.5
    ys, xs = np.nonzero(fg)
    h, w = fg.shape
    return float((ys.mean() + 0.5) / h), float((xs.mean() + 0.5) / w)


def crop_box(shape: tuple[int, int], centre: tuple[float, float], zoom: float) -> tuple[float, float, float, float]:
    """(top, left, height, width) in pixels of the view `zoom`× tighter, centred on `centre`, kept in frame."""
    h, w = shape
    ch, cw = h / zoom, w / zoom
    top = min(max(centre[0] * h - ch / 2, 0.0), h - ch)
    left = min(max(centre[1] * w - cw / 2, 0.0), w - cw)
    return top, left, ch, cw


def reframe(frames: np.ndarray, framing: str, centre: tuple[float, float]) -> np.ndarray:
    """uint8 (T, H, W, 3) → the same frames seen with `framing` (wide: unchanged)."""
    zoom = FRAMING_ZOOM[framing]
    if zoom == 1.0 or len(frames) == 0:
        return frames
    t, h, w, _ = frames.shape
    top, left, ch, cw = crop_box((h, w), centre, zoom)
    # Sample the box on an exact grid (grid_sample), not a rounded crop: sub-pixel placement.
    ys = top + (torch.arange(h, dtype=torch.float32) + 0.5) * ch / h
    xs = left + (torch.arange(w, dtype=torch.float32) + 0.5) * cw / w
    gy, gx = torch.meshgrid(ys / h * 2 - 1, xs / w * 2 - 1, indexing="ij")
    grid = torch.stack([gx, gy], dim=-1)[None].expand(t, h, w, 2)
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return y.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
