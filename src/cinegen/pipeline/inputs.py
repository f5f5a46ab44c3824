"""Fitting user images and videos to the size being generated."""
from __future__ import annotations

import numpy as np
from PIL import Image

from cinegen.common.errors import InputError


def fit_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to cover (height, width), keeping the aspect ratio, then centre-crop: (H, W, 3) uint8."""
    if image.ndim != 3 or image.shape[-1] != 3:
        raise InputError(f"image must be (H, W, 3) RGB, got shape {image.shape}")
    h, w = image.shape[:2]
    scale = max(height / h, width / w)
    nh, nw = max(height, round(h * scale)), max(width, round(w * scale))
    img = Image.fromarray(image).resize((nw, nh), Image.LANCZOS)
    top, left = (nh - height) // 2, (nw - width) // 2
    return np.asarray(img)[top : top + height, left : left + width].copy()


def fit_video(frames: np.ndarray, height: int, width: int) -> np.ndarray:
    return np.stack([fit_image(f, height, width) for f in frames])
