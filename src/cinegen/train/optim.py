"""The optimizer of a run: AdamW, or Muon for the DiT blocks' weight matrices with AdamW for the rest.

Muon (torch.optim.Muon) orthogonalises each matrix's momentum by Newton–Schulz iterations; with
`adjust_lr_fn="match_rms_adamw"` (Moonshot's scaling) its updates have AdamW's RMS, so the run's
learning rate and weight decay carry over. It is made for the hidden matrices of a transformer; the
embeddings, the output projection, norms, biases and modulation stay on AdamW, as in the Muon papers.
torch runs the Newton–Schulz iterations in bf16, which a CPU without bf16 units runs hundreds of times
slower; on a CPU, `Muon32` runs the same update with the iterations in fp32 (one step of the small DiT on
one thread: AdamW 0.10 s, Muon32 1.25 s, torch's Muon 36 s; benchmarks/bench_optim.py).
"""
from __future__ import annotations

import torch

from cinegen.train.config import TrainConfig


class Optimizers:
    """Several optimizers stepped as one: the training loop sees one set of param groups (the lr schedule
    sets each), one step, and one state dict for checkpoints."""

    def __init__(self, *opts: torch.optim.Optimizer):
        self.opts = opts

    @property
    def param_groups(self) -> list[dict]:
        return [g for o in self.opts for g in o.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for o in self.opts:
            o.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for o in self.opts:
            o.step()

    def state_dict(self) -> dict:
        return {"optimizers": [o.state_dict() for o in self.opts]}

    def load_state_dict(self, state: dict) -> None:
        for o, s in zip(self.opts, state["optimizers"], strict=True):
            o.load_state_dict(s)


def orthogonalise(m: torch.Tensor, steps: int, coefficients: tuple[float, float, float], eps: float) -> torch.Tensor:
    """torch's quintic Newton–Schulz iteration (`torch.optim._muon`), in the matrix's own dtype."""
    a, b, c = coefficients
    x = m.T if m.size(0) > m.size(1) else m
    x = x / x.norm().clamp(min=eps)  # spectral norm at most 1
    for _ in range(steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if m.size(0) > m.size(1) else x


class Muon32(torch.optim.Muon):
    """torch's Muon with its Newton–Schulz iterations in fp32: the CPU's arithmetic (bf16 is ~500× slower
    there). Same settings, state and update; only the precision of the orthogonalisation differs."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for g in self.param_groups:  # torch.optim.Muon.__init__ has checked adjust_lr_fn
            for p in g["params"]:
                if p.grad is None:
                    continue
                buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p.grad))
                buf.lerp_(p.grad, 1 - g["momentum"])
                update = p.grad.lerp(buf, g["momentum"]) if g["nesterov"] else buf
                update = orthogonalise(update.float(), g["ns_steps"], g["ns_coefficients"], g["eps"])
                rows, cols = p.shape
                scale = 0.2 * max(rows, cols) ** 0.5 if g["adjust_lr_fn"] == "match_rms_adamw" else max(1, rows / cols) ** 0.5
                p.mul_(1 - g["lr"] * g["weight_decay"])
                p.add_(update.to(p.dtype), alpha=-g["lr"] * scale)
        return loss


def muon_matrices(model: torch.nn.Module) -> set[int]:
    """ids of the parameters Muon takes: the 2D weights inside the transformer blocks."""
    return {id(p) for name, p in model.named_parameters() if name.startswith("blocks.") and p.ndim == 2}


def make_optimizer(cfg: TrainConfig, model: torch.nn.Module, params: list[torch.nn.Parameter],
                   muon_cls: type[torch.optim.Muon] | None = None):
    """`params` are what the run trains (the model's, and an auxiliary head's). `muon_cls` is the Muon
    class for optimizer=muon; by default torch's on a GPU and Muon32 elsewhere."""
    def adamw(ps: list[torch.nn.Parameter]) -> torch.optim.AdamW:
        return torch.optim.AdamW(ps, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))

    if cfg.optimizer == "adamw":
        return adamw(params)
    take = muon_matrices(model)
    if muon_cls is None:
        muon_cls = torch.optim.Muon if any(p.is_cuda for p in params) else Muon32  # bf16 only where it is fast
    muon = muon_cls([p for p in params if id(p) in take], lr=cfg.lr, weight_decay=cfg.weight_decay,
                    adjust_lr_fn="match_rms_adamw")
    return Optimizers(muon, adamw([p for p in params if id(p) not in take]))
