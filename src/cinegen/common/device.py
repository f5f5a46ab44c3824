"""Device and dtype choice: fp32 on CPU (no bf16 units there), bf16 autocast on CUDA."""
from __future__ import annotations

import torch


def pick_device(name: str | None = None) -> torch.device:
    if name and name != "auto":
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 on GPU; None (plain fp32) on CPU, where bf16 is hundreds of times slower."""
    return torch.bfloat16 if device.type == "cuda" else None
