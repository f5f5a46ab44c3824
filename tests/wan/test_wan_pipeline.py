"""A diffusers Wan folder through cinegen's own paths: Pipeline.from_pretrained, every mode, the CLI, bad folders."""
import json
import shutil
import sys

import av
import numpy as np
import pytest
import torch

from cinegen.common.errors import CheckpointError
from cinegen.pipeline import Pipeline, VideoRequest
from cinegen.pipeline.storyboard import parse_inline

PROMPT = "a red ball bounces across a green field"
H, W, FRAMES, STEPS, GUIDANCE = 32, 48, 9, 4, 5.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def pipe(wan_folder):
    return Pipeline.from_pretrained(wan_folder)


def test_the_folder_loads_with_diffusers_defaults_and_its_geometry(pipe):
    geo, s = pipe.geometry, pipe.sampling
    assert (geo.time_factor, geo.space_factor, geo.latent_channels, geo.patch) == (4, 8, 16, (1, 2, 2))
    assert (s.sampler, s.steps, s.guidance, s.fps, s.width, s.height, s.condition) == \
        ("unipc", 50, 5.0, 16.0, 832, 480, "replace")
    assert pipe.request(PROMPT).n_frames == 81 and s.flow_shift is not None


@pytest.mark.parametrize("seed", [0, 1])
def test_text_to_video_equals_wanpipeline(pipe, wan_pipe, seed):
    ours = pipe(PROMPT, num_frames=FRAMES, width=W, height=H, steps=STEPS, guidance=GUIDANCE, seed=seed,
                negative_prompt="", mark=False).frames
    ref = wan_pipe(prompt=PROMPT, negative_prompt="", num_inference_steps=STEPS, guidance_scale=GUIDANCE,
                   height=H, width=W, num_frames=FRAMES, generator=torch.Generator("cpu").manual_seed(seed),
                   output_type="np").frames[0]
    ref = (ref * 255).round().astype(np.uint8)
    assert ours.shape == ref.shape == (FRAMES, H, W, 3) and ref.std() > 5
    assert psnr(ours, ref) >= 40.0
    other = pipe(PROMPT, num_frames=FRAMES, width=W, height=H, steps=STEPS, guidance=GUIDANCE, seed=seed + 10,
                 mark=False).frames
    assert psnr(ours, other) < 35  # a changed seed changes the video


def _video(n: int) -> np.ndarray:
    return np.random.default_rng(n).integers(0, 255, (n, H, W, 3), dtype=np.uint8)


def test_every_mode_runs_with_latent_replacement(pipe):
    """Wan2.1 never saw clean frames: given frames are re-noised to the current t at every step."""
    src, src_b = _video(13), _video(9)
    f = pipe.geometry.time_factor
    cases = {"text": ({}, FRAMES), "image": ({"image": src[0]}, FRAMES), "extend": ({"video": src}, 13 + 8),
             "connect": ({"video": src, "video_b": src_b}, 2 + 8), "loop": ({}, 8), "edit": ({"video": src}, 13),
             "still": ({}, 1), "storyboard": ({"storyboard": parse_inline("0.5s: a red ball | 0.5s close-up: it rolls")},
                                             16)}
    for mode, (extra, n) in cases.items():
        length = {"frames": FRAMES if mode in ("text", "image") else 8} if mode in ("text", "image", "extend",
                                                                                   "connect", "loop") else {}
        req = VideoRequest(mode=mode, prompt=None if mode == "storyboard" else PROMPT, width=W, height=H, steps=2,
                           fps=16.0, **length, **extra)
        frames = pipe.generate(req, mark=False).frames
        assert frames.shape == (n, H, W, 3), (mode, frames.shape)
        assert f == 4
    # image-to-video: the image is the first frame; extend keeps the given frames
    still = pipe.generate(VideoRequest(mode="image", prompt=PROMPT, image=src[0], frames=FRAMES, width=W, height=H,
                                       steps=2, fps=16.0), mark=False).frames
    assert np.array_equal(still[0], src[0])



def test_offload_gives_the_same_video_with_each_part_placed_before_it_runs(pipe, wan_folder):
    """With offload the DiT and the VAE wait on the CPU and are brought to the device one at a time: every DiT
    call finds the DiT placed, every VAE call the VAE, and they alternate across windows (extend: DiT windows
    and VAE chunks interleave). On this CPU-only machine the device is the CPU, so what is checked here is the
    placement order and an unchanged video; the GPU memory it saves is bench_wan's to measure on a GPU."""
    off = Pipeline.from_pretrained(wan_folder, offload=True)
    assert off.offload and off.text.offload  # the text encoder waits on the CPU as well
    seen = []
    dit_forward, vae_decode, vae_encode = off.dit.forward, off.vae.decode_chunk, off.vae.encode

    def spy(name, fn):
        def call(*a, **k):
            seen.append((name, off._resident))
            return fn(*a, **k)
        return call

    off.dit.forward = spy("dit", dit_forward)
    off.vae.decode_chunk, off.vae.encode = spy("vae", vae_decode), spy("vae", vae_encode)
    req = VideoRequest(mode="extend", prompt=PROMPT, video=_video(13), frames=96, width=W, height=H, steps=2,
                       fps=16.0)
    got = off.generate(req, mark=False).frames
    assert np.array_equal(got, pipe.generate(req, mark=False).frames)
    assert seen and all(name == resident for name, resident in seen)
    switches = sum(a[0] != b[0] for a, b in zip(seen, seen[1:]))
    assert switches >= 3, seen  # encode the source, then DiT windows and VAE chunks take turns (two windows)


def test_bf16_runs_on_the_cpu_close_to_float32(pipe, wan_folder):
    """The GPU's dtype path (bf16 weights, autocast, float32 time features and solver) run here on the CPU."""
    low = Pipeline.from_wan(wan_folder, device="cpu", dtype=torch.bfloat16)
    assert next(low.dit.parameters()).dtype == torch.bfloat16
    kw = dict(num_frames=FRAMES, width=W, height=H, steps=STEPS, guidance=GUIDANCE, seed=0, mark=False)
    a, b = pipe(PROMPT, **kw).frames, low(PROMPT, **kw).frames
    assert a.shape == b.shape and psnr(a, b) >= 40.0  # 51.7 dB when written

def test_the_cli_generates_from_a_wan_folder(cli, wan_folder, tmp_path):
    out = tmp_path / "wan.mp4"
    code, _, err = cli("generate", PROMPT, "--model", wan_folder, "-o", out, "--frames", FRAMES, "--width", W,
                       "--height", H, "--steps", 2)
    assert code == 0, err
    with av.open(str(out)) as c:
        frames = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    assert len(frames) == FRAMES and frames[0].shape == (H, W, 3)
    code, _, err = cli("generate", PROMPT, "--model", wan_folder, "-o", tmp_path / "off.mp4", "--frames", FRAMES,
                       "--width", W, "--height", H, "--steps", 2, "--offload")
    assert code == 0, err
    with av.open(str(tmp_path / "off.mp4")) as c:
        assert np.array_equal(np.stack([fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]), np.stack(frames))


def _one_line_exit_2(cli, model, tmp_path, needle):
    out = tmp_path / "x.mp4"
    code, _, err = cli("generate", PROMPT, "--model", model, "-o", out, "--frames", FRAMES, "--steps", 1)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_bad_folders_are_one_line_errors(cli, wan_folder, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line_exit_2(cli, empty, tmp_path, "config.json")  # neither a cinegen nor a diffusers Wan checkpoint
    broken = tmp_path / "broken"
    shutil.copytree(wan_folder, broken)
    shutil.rmtree(broken / "vae")
    _one_line_exit_2(cli, broken, tmp_path, "vae")
    other = tmp_path / "other"
    other.mkdir()
    (other / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    _one_line_exit_2(cli, other, tmp_path, "config.json")
    with pytest.raises(CheckpointError):
        Pipeline.from_pretrained(broken)
    third = tmp_path / "third-order"  # a scheduler the pipeline does not run as diffusers would
    shutil.copytree(wan_folder, third)
    sched = third / "scheduler" / "scheduler_config.json"
    sched.write_text(json.dumps({**json.loads(sched.read_text()), "solver_order": 3}))
    _one_line_exit_2(cli, third, tmp_path, "solver_order 3")


def test_without_the_wan_extra_the_error_says_how_to_install(cli, wan_folder, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers now fails, as when it is not installed
    _one_line_exit_2(cli, wan_folder, tmp_path, 'pip install "cinegen[wan]"')


CLI_MODES = {"image": ("--image", "IMG"), "extend": ("--extend", "SRC"), "connect": ("--connect", "SRC", "--connect",
             "SRC2"), "loop": ("--loop",), "edit": ("--edit", "SRC"),
             "storyboard": ("--storyboard", "0.5s: a red ball | 0.5s close-up: it rolls")}


@pytest.mark.parametrize("mode", sorted(CLI_MODES))
def test_every_mode_runs_through_the_cli(cli, wan_folder, tmp_path, mode):
    from PIL import Image

    from cinegen.common.video_io import write_video

    files = {"SRC": write_video(tmp_path / "src.mp4", _video(13), 16.0),
             "SRC2": write_video(tmp_path / "src2.mp4", _video(9), 16.0), "IMG": tmp_path / "img.png"}
    Image.fromarray(_video(1)[0]).save(files["IMG"])
    out = tmp_path / "out.mp4"
    prompt = () if mode == "storyboard" else (PROMPT,)
    length = () if mode in ("edit", "storyboard") else ("--frames", 8 if mode != "image" else FRAMES)
    code, _, err = cli("generate", *prompt, "--model", wan_folder, "-o", out, "--width", W, "--height", H,
                       "--steps", 2, *length, *[str(files.get(a, a)) for a in CLI_MODES[mode]])
    assert code == 0, err
    with av.open(str(out)) as c:
        frames = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    want = {"image": FRAMES, "extend": 13 + 8, "connect": 2 + 8, "loop": 8, "edit": 13, "storyboard": 16}[mode]
    assert len(frames) == want and frames[0].shape == (H, W, 3)
