import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Tiny models on a shared 2-core machine: one thread (the fixture lives in tests/conftest.py)."""
    yield


@pytest.fixture(scope="session")
def wan_folder(tmp_path_factory):
    """A tiny random Wan2.1 T2V folder written by diffusers' WanPipeline.save_pretrained."""
    from cinegen.wan.tiny import make_tiny_wan_folder

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return make_tiny_wan_folder(tmp_path_factory.mktemp("wan") / "Wan2.1-T2V-tiny-Diffusers", seed=0)
    finally:
        torch.set_num_threads(n)


@pytest.fixture(scope="session")
def wan_parts(wan_folder):
    from cinegen.wan import load_wan

    return load_wan(wan_folder)


@pytest.fixture(scope="session")
def wan_pipe(wan_folder):
    """diffusers' own pipeline on the same folder: the reference."""
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(str(wan_folder))
    pipe.set_progress_bar_config(disable=True)
    return pipe
