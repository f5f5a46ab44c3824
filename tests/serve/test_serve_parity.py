"""One entry for every mode: the CLI, the Python API and the server give the same frames for the same request.

Each mode runs three ways with the same seed and settings: `cinegen generate` (in-process), the Python API
(`run(pipe, VideoRequest(...))`), and a live server (HTTP form fields, files uploaded). The CLI's and the
server's MP4 files must decode to the same frames, and so must the API's frames written by the same writer.
"""
from __future__ import annotations

import io

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from cinegen.common.video_io import write_video
from cinegen.pipeline.run import VideoRequest, read_image, read_source, run
from cinegen.pipeline.storyboard import parse_inline

SEED, STEPS, FPS, SIZE = 7, 2, 8.0, (32, 32)
BOARD = "1s: a red ball rolls | 1s close-up: the ball stops"
COMMON = ["--seed", str(SEED), "--steps", str(STEPS), "--fps", "8", "--width", "32", "--height", "32"]
FORM = {"seed": str(SEED), "steps": str(STEPS), "size": "32x32"}

# mode: (CLI arguments, API request fields, server endpoint, server form fields, server files)
CASES = {
    "text": (["--seconds", "1"], dict(seconds=1.0), "/videos", {"seconds": "1", "fps": "8"}, {}),
    "image": (["--seconds", "1", "--image", "{img}"], dict(seconds=1.0, image="img"), "/videos",
              {"seconds": "1", "fps": "8"}, {"input_reference": "img"}),
    "extend": (["--seconds", "1", "--extend", "{src}"], dict(seconds=1.0, video="src"), "/videos/extensions",
               {"seconds": "1", "fps": "8"}, {"video": "src"}),
    "extend-backward": (["--seconds", "1", "--extend", "{src}", "--direction", "backward"],
                        dict(seconds=1.0, video="src", direction="backward"), "/videos/extensions",
                        {"seconds": "1", "fps": "8", "direction": "backward"}, {"video": "src"}),
    "connect": (["--seconds", "1", "--connect", "{src}", "--connect", "{src2}"],
                dict(seconds=1.0, video="src", video_b="src2"), "/videos/connections",
                {"seconds": "1", "fps": "8"}, {"video_a": "src", "video_b": "src2"}),
    "loop": (["--seconds", "1", "--loop"], dict(seconds=1.0), "/videos", {"seconds": "1", "fps": "8", "loop": "true"},
             {}),
    "edit": (["--edit", "{src}"], dict(video="src"), "/videos/edits", {}, {"video": "src"}),
    "storyboard": (["--storyboard", BOARD], dict(storyboard=BOARD), "/videos", {"storyboard": BOARD, "fps": "8"}, {}),
}
PROMPT = "a blue ball moves to the left"


def _decode(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("parity-inputs")
    rng = np.random.default_rng(0)
    write_video(d / "src.mp4", [rng.integers(0, 255, (11, 32, 32, 3), dtype=np.uint8)], FPS)
    write_video(d / "src2.mp4", [rng.integers(0, 255, (9, 32, 32, 3), dtype=np.uint8)], FPS)
    Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(d / "img.png")
    return {"src": d / "src.mp4", "src2": d / "src2.mp4", "img": d / "img.png"}


def _server_frames(server, key, endpoint, form, files, inputs) -> np.ndarray:
    headers = {"Authorization": f"Bearer {key}"}
    up = {name: (inputs[what].name, inputs[what].read_bytes()) for name, what in files.items()}
    data = {**FORM, **form, "prompt": PROMPT}
    r = httpx.post(server.url + "/v1" + endpoint, data=data, files=up or None, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    vid = r.json()["id"]
    job = server.finished(vid, headers)
    assert job["status"] == "completed", job
    return _decode(httpx.get(f"{server.url}/v1/videos/{vid}/content", headers=headers, timeout=30).content)


@pytest.mark.parametrize("mode", sorted(CASES))
def test_cli_api_and_server_give_the_same_frames(mode, cli, tiny_model, tiny_pipe, server, owner_key, inputs,
                                                 tmp_path):
    cli_args, api_fields, endpoint, form, files = CASES[mode]
    # the CLI
    out = tmp_path / "cli.mp4"
    args = [a.format(**inputs) for a in cli_args]
    prompt = [] if mode == "storyboard" else [PROMPT]
    code, _, err = cli("generate", *prompt, *args, *COMMON, "--model", tiny_model, "-o", out)
    assert code == 0, err
    by_cli = _decode(out.read_bytes())
    # the Python API
    fields = dict(api_fields)
    for name in ("video", "video_b"):
        if name in fields:
            fields[name] = read_source(inputs[fields[name]], FPS)
    if "image" in fields:
        fields["image"] = read_image(inputs["img"])
    if "storyboard" in fields:
        fields["storyboard"] = parse_inline(fields["storyboard"])
    api_mode = "extend" if mode.startswith("extend") else mode
    req = VideoRequest(mode=api_mode, prompt=None if mode == "storyboard" else PROMPT, seed=SEED, steps=STEPS,
                       fps=FPS, width=SIZE[1], height=SIZE[0], **fields)
    gen = run(tiny_pipe, req)
    api = np.concatenate(list(gen.chunks))
    write_video(tmp_path / "api.mp4", [api], gen.fps)
    by_api = _decode((tmp_path / "api.mp4").read_bytes())
    # the server
    by_server = _server_frames(server, owner_key, endpoint, form, files, inputs)

    assert api.shape[1:3] == SIZE
    assert len(by_cli) == len(api) == len(by_server), (len(by_cli), len(api), len(by_server))
    assert np.array_equal(by_cli, by_api), "the CLI's frames differ from the API's"
    assert np.array_equal(by_cli, by_server), "the CLI's frames differ from the server's"


def test_still_is_the_same_through_the_cli_and_the_api(cli, tiny_model, tiny_pipe, tmp_path):
    out = tmp_path / "still.png"
    code, _, err = cli("image", PROMPT, "--model", tiny_model, "-o", out, "--seed", str(SEED), "--steps", str(STEPS))
    assert code == 0, err
    api = run(tiny_pipe, VideoRequest(mode="still", prompt=PROMPT, seed=SEED, steps=STEPS)).result().frames
    assert len(api) == 1 and np.array_equal(np.asarray(Image.open(out).convert("RGB")), api[0])
