"""Prompt sets: one prompt per line (`#` comments), or JSONL with {"prompt": ..., "seconds": ...}."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cinegen.common.errors import InputError


@dataclass(frozen=True)
class PromptItem:
    prompt: str
    seconds: float | None = None
    shots: int | None = None  # storyboards: number of shots


def load_prompts(path: str | Path) -> list[PromptItem]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"prompt file {path} does not exist")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(f"{path}:{n}: invalid JSON") from None
            if "prompt" not in d and "shots" not in d:
                raise InputError(f"{path}:{n}: a JSON line needs a 'prompt'")
            shots = d.get("shots")
            prompt = d.get("prompt") or " ".join(s["prompt"] for s in shots)
            items.append(PromptItem(prompt, d.get("seconds"), len(shots) if shots else None))
        else:
            items.append(PromptItem(line))
    if not items:
        raise InputError(f"prompt file {path} has no prompts")
    return items
