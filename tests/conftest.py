import os
import tempfile

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Start-up caches (the traced text encoder) go to a folder of this test session, not the user's.
os.environ.setdefault("CINEGEN_CACHE_DIR", tempfile.mkdtemp(prefix="cinegen-test-cache-"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A random tiny checkpoint folder (32×32, 8 fps, 4 steps)."""
    from cinegen.pipeline.tiny import make_tiny_checkpoint

    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_pipe(tiny_model):
    from cinegen.pipeline import Pipeline

    return Pipeline.from_pretrained(tiny_model)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `cinegen ARGS` in-process; returns (exit code, stdout, stderr)."""
    import sys

    from cinegen.cli.main import main

    def run(*args: str):
        monkeypatch.setattr(sys, "argv", ["cinegen", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def one_thread():
    """Tiny tensors on a shared 2-core machine: a second OpenMP thread only spins and waits."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
