"""Sizes come from the loaded checkpoint: every mode gives the asked frame count and size for models of
other geometries (VAE time and space factors, latent channels, DiT patch), through the API and the CLI."""
import math

import av
import numpy as np
import pytest

from cinegen.pipeline import Pipeline, modes
from cinegen.pipeline.storyboard import parse_inline, storyboard_frames
from cinegen.pipeline.tiny import make_tiny_checkpoint

GEOMETRIES = {
    # an 8×-space, 16-channel VAE with 2×2 patches (as the open models are)
    "space8_patch2": ({"spatial_down": 8, "latent_channels": 16}, {"patch_size": [1, 2, 2]}),
    # a 4×-space VAE with 1×4×4 patches (the shipped model's)
    "space4_patch4": ({"spatial_down": 4, "latent_channels": 8}, {"patch_size": [1, 4, 4]}),
    # 2× time, 8× space, 4 channels, 1×1×2 patches: multiples of 8 high and 16 wide
    "time2_patch12": ({"temporal_down": 2, "spatial_down": 8, "latent_channels": 4}, {"patch_size": [1, 1, 2]}),
}
W, H, FPS, SECONDS = 40, 24, 8.0, 1.0  # 8 frames, a size no geometry divides


@pytest.fixture(scope="module", params=sorted(GEOMETRIES))
def model(request, tmp_path_factory):
    vae, dit = GEOMETRIES[request.param]
    return make_tiny_checkpoint(tmp_path_factory.mktemp(request.param), vae=vae, dit=dit)


def _video(n, h=H, w=W):
    return np.random.default_rng(n).integers(0, 255, (n, h, w, 3), dtype=np.uint8)


def test_geometry_is_read_from_the_checkpoint(model):
    pipe = Pipeline.from_pretrained(model)
    geo = pipe.geometry
    assert (geo.time_factor, geo.space_factor) == (pipe.vae.cfg.temporal_down, pipe.vae.cfg.spatial_down)
    assert geo.patch == pipe.dit.cfg.patch_size and geo.latent_channels == pipe.vae.cfg.latent_channels
    req = pipe.request("a ball", seconds=SECONDS, fps=FPS, width=W, height=H)
    mh, mw = geo.side_multiple
    assert req.gen_size == (mh * math.ceil(H / mh), mw * math.ceil(W / mw))
    assert req.n_latent_frames == 1 + math.ceil((req.n_frames - 1) / geo.time_factor)


def test_every_mode_gives_the_asked_frames_and_size_through_the_api(model):
    pipe = Pipeline.from_pretrained(model)
    f = pipe.geometry.time_factor
    kw = dict(fps=FPS, width=W, height=H, steps=2, expand=False, mark=False)
    n_new = f * math.ceil(SECONDS * FPS / f)
    src = _video(13)
    cases = {
        "text": (pipe("a red ball", seconds=SECONDS, **kw).frames, 8),
        "image": (pipe("a red ball", seconds=SECONDS, image=src[0], **kw).frames, 8),
        "extend forward": (modes.extend(pipe, "a ball", src, seconds=SECONDS, **kw).frames, 13 + n_new),
        "extend backward": (modes.extend(pipe, "a ball", src, direction="backward", seconds=SECONDS, **kw).frames,
                            13 + n_new),
        "connect": (modes.connect(pipe, "a ball", src, _video(9), seconds=SECONDS, **kw).frames, 2 + n_new),
        "loop": (modes.loop(pipe, "a ball", seconds=SECONDS, **kw).frames, f * round(SECONDS * FPS / f)),
        "edit": (modes.edit(pipe, "a blue ball", _video(11), **kw).frames, 11),
        "still": (pipe("a red ball", seconds=1 / FPS, **kw).frames, 1),
    }
    board = parse_inline("1s: a red ball | 1s close-up: the ball rolls left")
    story = np.concatenate(list(storyboard_frames(pipe, board, seed=0, fps=FPS, width=W, height=H, steps=2,
                                                  expand=False)))
    cases["storyboard"] = (story, 16)
    for name, (frames, n) in cases.items():
        assert frames.shape == (n, H, W, 3), (name, frames.shape)


@pytest.mark.parametrize("args, n", [((), 8), (("--loop",), None), (("--edit", "SRC"), 11),
                                     (("--extend", "SRC"), None)])
def test_the_cli_gives_the_same_counts_and_size(model, cli, tmp_path, args, n):
    from cinegen.common.video_io import write_video

    src = write_video(tmp_path / "src.mp4", _video(11), FPS)
    f = Pipeline.from_pretrained(model).geometry.time_factor
    n = n if n is not None else (f * round(SECONDS * FPS / f) if "--loop" in args else 11 + f * math.ceil(SECONDS * FPS / f))
    out = tmp_path / "out.mp4"
    code, _, err = cli("generate", "a red ball", "--model", model, "-o", out, "--seconds", SECONDS, "--fps", FPS,
                       "--width", W, "--height", H, "--steps", 2, "--no-expand",
                       *[str(src) if a == "SRC" else a for a in args])
    assert code == 0, err
    with av.open(str(out)) as c:
        frames = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    assert len(frames) == n and frames[0].shape == (H, W, 3)
