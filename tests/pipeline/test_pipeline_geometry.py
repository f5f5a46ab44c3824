"""Sizes come from the loaded checkpoint: every mode gives the asked frame count and size for models of
other geometries (VAE time and space factors, latent channels, DiT patch), through the API and the CLI."""
import math

import av
import numpy as np
import pytest

from cinegen.pipeline import Pipeline, VideoRequest
from cinegen.pipeline.storyboard import parse_inline
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
    src, src_b = _video(11), _video(9)
    inputs = {"text": {}, "image": {"image": src[0]}, "extend": {"video": src},
              "extend-backward": {"video": src, "direction": "backward"}, "connect": {"video": src, "video_b": src_b},
              "loop": {}, "edit": {"video": src}, "still": {},
              "storyboard": {"storyboard": parse_inline("1s: a red ball | 1s close-up: the ball rolls left")}}
    for mode, extra in inputs.items():
        req = VideoRequest(mode=mode.split("-")[0], prompt=None if mode == "storyboard" else "a red ball",
                           seconds=None if mode in ("edit", "still", "storyboard") else SECONDS, fps=FPS, width=W,
                           height=H, steps=2, expand=False, **extra)
        frames = pipe.generate(req, mark=False).frames
        assert frames.shape == (_expected(mode, f), H, W, 3), (mode, frames.shape)


def _expected(mode: str, f: int) -> int:
    """Frames each mode gives here: 8 asked (1 s at 8 fps), sources of 11 and 9 frames."""
    new = f * math.ceil(SECONDS * FPS / f)
    return {"text": 8, "image": 8, "extend": 11 + new, "extend-backward": 11 + new, "connect": 2 + new,
            "loop": f * round(SECONDS * FPS / f), "edit": 11, "storyboard": 16, "still": 1}[mode]


CLI_ARGS = {"text": (), "image": ("--image", "IMG"), "extend": ("--extend", "SRC"),
            "extend-backward": ("--extend", "SRC", "--direction", "backward"),
            "connect": ("--connect", "SRC", "--connect", "SRC2"), "loop": ("--loop",), "edit": ("--edit", "SRC"),
            "storyboard": ("--storyboard", "1s: a red ball | 1s close-up: the ball rolls left")}


@pytest.mark.parametrize("mode", sorted(CLI_ARGS) + ["still"])
def test_every_mode_gives_the_asked_frames_and_size_through_the_cli(model, cli, tmp_path, mode):
    from PIL import Image

    from cinegen.common.video_io import write_video

    files = {"SRC": write_video(tmp_path / "src.mp4", _video(11), FPS),
             "SRC2": write_video(tmp_path / "src2.mp4", _video(9), FPS), "IMG": tmp_path / "img.png"}
    Image.fromarray(_video(1, 30, 50)[0]).save(files["IMG"])
    f = Pipeline.from_pretrained(model).geometry.time_factor
    size = ("--width", W, "--height", H, "--steps", 2, "--no-expand")
    if mode == "still":
        out = tmp_path / "out.png"
        code, _, err = cli("image", "a red ball", "--model", model, "-o", out, *size)
        assert code == 0, err
        assert np.asarray(Image.open(out)).shape == (H, W, 3)
        return
    out = tmp_path / "out.mp4"
    prompt = () if mode == "storyboard" else ("a red ball",)
    code, _, err = cli("generate", *prompt, "--model", model, "-o", out, "--seconds", SECONDS, "--fps", FPS, *size,
                       *[str(files.get(a, a)) for a in CLI_ARGS[mode]])
    assert code == 0, err
    with av.open(str(out)) as c:
        frames = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    assert len(frames) == _expected(mode, f) and frames[0].shape == (H, W, 3)
