"""`cinegen generate` end to end with a tiny random checkpoint, and every bad input's error."""
import json
import os
import subprocess
import sys

import av
import pytest


def _decode(path):
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return frames


def test_generate_writes_requested_frames_and_size(cli, tiny_model, tmp_path):
    out = tmp_path / "clip.mp4"
    code, stdout, err = cli("generate", "a red ball bouncing", "--model", tiny_model, "-o", out,
                            "--seconds", "1.5", "--fps", "8", "--width", "48", "--height", "32", "--seed", "3")
    assert code == 0, err
    frames = _decode(out)
    assert len(frames) == 12 and frames[0].shape == (32, 48, 3)
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain open() makes it, not mkstemp's 0600


def test_same_seed_same_video(tiny_pipe):
    import numpy as np

    a = tiny_pipe("a blue square", seconds=1, seed=5, mark=False).frames
    b = tiny_pipe("a blue square", seconds=1, seed=5, mark=False).frames
    c = tiny_pipe("a blue square", seconds=1, seed=6, mark=False).frames
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # marked too: the watermark's generation id is a digest of the request, not a random number
    ma = tiny_pipe("a blue square", seconds=1, seed=5).frames
    mb = tiny_pipe("a blue square", seconds=1, seed=5).frames
    assert np.array_equal(ma, mb) and not np.array_equal(ma, a)


@pytest.mark.parametrize("args,needle", [
    (["generate", ""], "prompt is empty"),
    (["generate", "x" * 3000], "characters"),
    (["generate", "a ball", "--width", "0"], "width"),
    (["generate", "a ball", "--height", "-8"], "height"),
    (["generate", "a ball", "--width", "100000"], "width"),
    (["generate", "a ball", "--seconds", "0"], "seconds"),
    (["generate", "a ball", "--seconds", "-2"], "seconds"),
    (["generate", "a ball", "--seconds", "99999"], "seconds"),
    (["generate", "a ball", "--fps", "0"], "fps"),
    (["generate", "a ball", "--steps", "0"], "steps"),
    (["generate", "a ball", "-o", "out.avi"], "cannot write"),
    (["generate", "a ball", "--loop", "--connect", "a.mp4", "--connect", "b.mp4"], "cannot be used together"),
    (["generate", "a ball", "--strength", "0.5"], "go with an edit"),
    (["generate", "a ball", "--source-prompt", "a red ball"], "go with an edit"),
    (["generate", "a ball", "--edit", "clip.mp4", "--edit-method", "inpaint"], "--edit-method"),
    (["generate", "a ball", "--edit", "clip.mp4", "--strength", "1.5"], "--strength"),
    (["generate", "a ball", "--sampler", "heun"], "sampler"),
    (["generate", "a ball", "--frames", "9", "--seconds", "1"], "not both"),
    (["generate", "a ball", "--frames", "0"], "frame count"),
])
def test_bad_input_is_one_line_exit_2(cli, tiny_model, tmp_path, args, needle):
    args = [a if a != "out.avi" else str(tmp_path / "out.avi") for a in args]
    code, out, err = cli(*args, "--model", tiny_model)
    assert code == 2, (out, err)
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_checkpoints(cli, tiny_model, tmp_path):
    out = str(tmp_path / "o.mp4")
    code, _, err = cli("generate", "a ball", "--model", tmp_path / "missing", "-o", out)
    assert code == 2 and "does not exist" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((tiny_model / "config.json").read_text())
    code, _, err = cli("generate", "a ball", "--model", broken, "-o", out)
    assert code == 2 and "no vae.safetensors" in err
    (broken / "vae.safetensors").write_bytes(b"garbage")
    code, _, err = cli("generate", "a ball", "--model", broken, "-o", out)
    assert code == 2 and "corrupt" in err
    cfg = json.loads((tiny_model / "config.json").read_text())
    cfg["dit"]["dim"] = cfg["dit"]["dim"] * 2
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "config.json").write_text(json.dumps(cfg))
    for f in tiny_model.glob("*.safetensors"):
        (wrong / f.name).write_bytes(f.read_bytes())
    code, _, err = cli("generate", "a ball", "--model", wrong, "-o", out)
    assert code == 2 and "do not fit" in err
    assert not os.path.exists(out)


def test_unwritable_output_and_kept_file(cli, tiny_model, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: use a path under a file instead
            target = tmp_path / "afile"
            target.write_text("keep me")
            code, _, err = cli("generate", "a ball", "--model", tiny_model, "-o", target / "x.mp4")
            assert target.read_text() == "keep me"
        else:
            code, _, err = cli("generate", "a ball", "--model", tiny_model, "-o", locked / "x.mp4")
        assert code == 2 and len(err.strip().splitlines()) == 1
    finally:
        locked.chmod(0o700)


def test_real_process_exit_code(tiny_model, tmp_path):
    """The installed entry point, as a user runs it: exit 2 and one line, no traceback."""
    r = subprocess.run([sys.executable, "-m", "cinegen.cli.main", "generate", "a ball", "--model",
                        str(tmp_path / "nope")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "does not exist" in r.stderr


@pytest.mark.parametrize("broken", ["watermark", "c2pa"])
def test_marking_that_fails_stops_generation_and_writes_nothing(cli, tiny_model, tmp_path, monkeypatch, broken):
    """Marks on and one of them cannot be applied: a one-line error, exit 2, no file, the old file kept."""
    import cinegen.provenance as prov
    from cinegen.common.errors import OutputError

    def fail(*_a, **_k):
        if broken == "c2pa":
            raise OutputError("C2PA signing of the video failed: no signer")
        raise RuntimeError("the embedder broke")

    monkeypatch.setattr(prov, "embed_watermark" if broken == "watermark" else "sign_file", fail)
    out = tmp_path / "clip.mp4"
    code, _, err = cli("generate", "a red ball", "--model", tiny_model, "-o", out, "--seconds", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert ("watermark could not be applied" if broken == "watermark" else "C2PA signing") in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    out.write_bytes(b"the user's file")
    code, _, _ = cli("generate", "a red ball", "--model", tiny_model, "-o", out, "--seconds", "1")
    assert code == 2 and out.read_bytes() == b"the user's file"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_marks_off_only_by_the_documented_settings(cli, tiny_model, tmp_path, monkeypatch):
    import cinegen.provenance as prov

    monkeypatch.setattr(prov, "embed_watermark", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("broken")))
    monkeypatch.setattr(prov, "sign_file", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("broken")))
    monkeypatch.setenv("CINEGEN_WATERMARK", "0")
    monkeypatch.setenv("CINEGEN_C2PA", "0")
    out = tmp_path / "clip.mp4"
    code, _, err = cli("generate", "a red ball", "--model", tiny_model, "-o", out, "--seconds", "1")
    assert code == 0, err
    assert out.exists()


def test_frames_gives_an_exact_count_and_unipc_samples_differently(cli, tiny_model, tmp_path):
    outs = {}
    for sampler in ("euler", "unipc"):
        out = tmp_path / f"{sampler}.mp4"
        code, _, err = cli("generate", "a red ball", "--model", tiny_model, "-o", out, "--frames", "11",
                           "--sampler", sampler, "--seed", "2")
        assert code == 0, err
        outs[sampler] = _decode(out)
    import numpy as np

    assert len(outs["euler"]) == len(outs["unipc"]) == 11
    assert not np.array_equal(np.stack(outs["euler"]), np.stack(outs["unipc"]))
