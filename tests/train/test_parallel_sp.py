"""Ulysses sequence parallelism (dit/ulysses.py): a tiny DiT over 2 gloo processes equals one process in
forward, backward (gradients averaged over the ranks, as DDP/FSDP do) and sampling, within 1e-5 (fp32),
for token counts divisible by 2 and not. This file is also the worker script torchrun runs."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cinegen.common.errors import InputError
from cinegen.dit import DiT
from cinegen.dit.config import dit_tiny
from cinegen.dit.ulysses import check_heads, sequence_parallel, shard_sizes
from cinegen.flow import cfg_velocity, sample_euler, time_grid

# name: (latent T, H, W) with patch (1, 2, 2), per-frame t?, a text mask?, memory frame positions?
CASES = {
    "even": ((3, 4, 4), True, True, False),   # 12 tokens: 6 per rank, per-frame modulation
    "odd": ((3, 2, 6), False, False, True),   # 9 tokens: 5 + 4, one shared t, RoPE frame positions
    "odd_frames": ((3, 2, 6), True, True, True),  # 9 tokens, 3 per frame: a shard ends inside a frame
}


def make_dit() -> DiT:
    """Seeded, every weight random (adaLN-Zero's zeros would leave most paths untested)."""
    torch.manual_seed(0)
    dit = DiT(dit_tiny(in_channels=4, text_dim=32, heads=4))
    with torch.no_grad():
        for p in dit.parameters():
            p.normal_(0.0, 0.2)
    return dit


def make_inputs(name: str) -> tuple:
    (nt, h, w), per_frame, masked, positions = CASES[name]
    g = torch.Generator().manual_seed(len(name))
    x = torch.randn(2, 4, nt, h, w, generator=g)
    t = torch.rand(2, nt, generator=g) if per_frame else torch.rand(2, generator=g)
    text = torch.randn(2, 5, 32, generator=g)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool) if masked else None
    pos = torch.tensor([0.0] + [float(i + 3) for i in range(nt - 1)]) if positions else None
    weight = torch.randn(x.shape, generator=g)  # every output element reaches the loss with its own weight
    return x, t, text, mask, pos, weight


def _mean(x: torch.Tensor) -> torch.Tensor:
    """The rank average DDP and FSDP apply to gradients (a no-op for one process)."""
    if torch.distributed.is_initialized():
        x = x.clone()
        torch.distributed.all_reduce(x)
        x /= torch.distributed.get_world_size()
    return x


def run_cases(dit: DiT) -> dict[str, torch.Tensor]:
    out = {}
    for name in CASES:
        x, t, text, mask, pos, weight = make_inputs(name)
        x.requires_grad_(True)
        dit.zero_grad(set_to_none=True)
        v = dit(x, t, text, mask, pos)
        (v * weight).sum().backward()
        out[f"{name}/v"] = v.detach()
        out[f"{name}/dx"] = _mean(x.grad)
        for n, p in dit.named_parameters():
            out[f"{name}/grad/{n}"] = _mean(p.grad)
    # sampling: image-to-video (first frame held clean) with classifier-free guidance, 4 Euler steps
    x, _, text, mask, _, _ = make_inputs("odd")
    g = torch.Generator().manual_seed(7)
    noise, cond = torch.randn(x.shape, generator=g), torch.randn(x.shape, generator=g)
    fn = cfg_velocity(dit, text, mask, torch.zeros(1, 2, 32), None, scale=3.0)
    held = torch.tensor([True] + [False] * (x.shape[2] - 1))
    out["sample"] = sample_euler(fn, noise, time_grid(4, shift=3.0), cond, held)
    return out


def worker(out_dir: Path) -> None:
    torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank()
    dit = make_dit()
    single = dit(*make_inputs("odd")[:5]).detach()
    sp = sequence_parallel(dit)
    res = run_cases(dit)
    res["heads_while_parallel"] = torch.tensor(dit.blocks[0].self_attn.heads)
    sp.remove()  # single-process again, exactly
    res["removed_equal"] = torch.tensor(torch.equal(dit(*make_inputs("odd")[:5]).detach(), single))
    torch.save(res, out_dir / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: threads only fight each other (and the workers) for the cores."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> list[dict[str, torch.Tensor]]:
    out = tmp_path_factory.mktemp("sp")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                        __file__, str(out)], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


def test_sequence_parallel_equals_one_process(two):
    one = run_cases(make_dit())
    for res in two:
        assert one.keys() <= res.keys()
        for k, want in one.items():
            # fp32: equal to 1e-5 of the tensor's scale (sums over ranks are taken in another order)
            err = float((res[k] - want).abs().max()) / max(1.0, float(want.abs().max()))
            assert err < 1e-5, f"{k}: relative error {err:.2e}"
    assert all(torch.equal(two[0][k], two[1][k]) for k in ("even/v", "odd/v", "sample"))  # ranks agree exactly
    assert int(two[0]["heads_while_parallel"]) == 2 and bool(two[0]["removed_equal"])


def test_shards_and_bad_settings():
    assert shard_sizes(9, 2) == [5, 4] and shard_sizes(12, 4) == [3, 3, 3, 3] and sum(shard_sizes(7, 3)) == 7
    check_heads(12, 4)
    with pytest.raises(InputError, match="heads divisible by 2"):
        check_heads(3, 2)
    with pytest.raises(InputError, match="torchrun"):
        sequence_parallel(make_dit())  # no process group in this process


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
