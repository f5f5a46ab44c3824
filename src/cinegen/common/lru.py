"""A least-recently-used cache of per-prompt text states, shared by the text encoders."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import torch


class StatesCache:
    """prompt → states (L_i, D) on the CPU; beyond `size` entries the least recently used goes (0: off)."""

    def __init__(self, size: int):
        self.size = size
        self._d: OrderedDict[str, torch.Tensor] = OrderedDict()

    def __contains__(self, prompt: str) -> bool:
        return prompt in self._d

    def __len__(self) -> int:
        return len(self._d)

    def prompts(self) -> list[str]:
        return list(self._d)

    def get(self, prompt: str) -> torch.Tensor:
        self._d.move_to_end(prompt)
        return self._d[prompt]

    def put(self, prompt: str, states: torch.Tensor) -> None:
        if self.size == 0:
            return
        self._d[prompt] = states
        self._d.move_to_end(prompt)
        while len(self._d) > self.size:
            self._d.popitem(last=False)  # least recently used

    def fetch(self, prompts: list[str], run: Callable[[list[str]], list[torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Every prompt's states: hits from the cache, the rest from one `run` over the missing ones."""
        # look up hits before storing new states: a batch larger than the cache may evict them
        found = {p: self.get(p) for p in prompts if p in self._d}
        missing = list(dict.fromkeys(p for p in prompts if p not in found))
        if missing:
            found.update(zip(missing, run(missing)))
            for p in missing:
                self.put(p, found[p])
        return found
