"""Visible label: small corner text on every frame (off by default)."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cinegen.common.errors import InputError


def add_label(frames: np.ndarray, text: str = "AI-generated", corner: str = "bottom-right") -> np.ndarray:
    """Draw `text` in a corner of every frame (T, H, W, 3) uint8, on a dark box so it reads anywhere."""
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise InputError(f"add_label needs uint8 frames (T, H, W, 3), got {getattr(frames, 'shape', None)}")
    if corner not in ("top-left", "top-right", "bottom-left", "bottom-right"):
        raise InputError(f"corner must be top-left, top-right, bottom-left or bottom-right, got {corner!r}")
    _, h, w, _ = frames.shape
    size = max(6, h // 12)  # small: about a twelfth of the height
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        font = ImageFont.load_default()
    # Draw once on a transparent overlay, then blend that into every frame.
    overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    tw, th, pad = x1 - x0, y1 - y0, 1
    x = pad if "left" in corner else w - tw - 2 * pad
    y = pad if "top" in corner else h - th - 2 * pad
    draw.rectangle((x - pad, y - pad, x + tw + pad, y + th + pad), fill=(0, 0, 0, 140))
    draw.text((x - x0, y - y0), text, font=font, fill=(255, 255, 255, 230))
    rgba = np.asarray(overlay, dtype=np.float32) / 255.0  # (H, W, 4)
    alpha = rgba[..., 3:4]
    out = frames.astype(np.float32) * (1 - alpha) + rgba[..., :3] * 255.0 * alpha
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
