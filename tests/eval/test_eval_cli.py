"""`cinegen eval describe | score | videos | merge` end to end on files written by video_io."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cinegen.cli.eval_cmd import eval_app
from cinegen.common.errors import InputError
from cinegen.common.video_io import write_video
from cinegen.eval.compare import read_report
from cinegen.world.render import render
from cinegen.world.spec import BackgroundSpec, ObjectSpec, SceneSpec


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    spec = SceneSpec(BackgroundSpec("solid", "gray"), (ObjectSpec("circle", "red", "large", "bounce", start=(0.5, 0.3)),))
    folder = tmp_path_factory.mktemp("v")
    return write_video(folder / "0.mp4", render(spec, 64, 64, 8.0).frames, 8.0)


def test_describe_prints_json(video):
    res = CliRunner().invoke(eval_app, ["describe", str(video)])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["objects"][0]["colour"] == "red" and d["objects"][0]["motion"] == "bounce"


def test_score_text_prompt(video):
    res = CliRunner().invoke(eval_app, ["score", str(video), "a red ball bouncing"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)
    assert s["colour"]["passed"] and s["shape"]["passed"] and s["motion"]["passed"]
    res = CliRunner().invoke(eval_app, ["score", str(video), "a blue square sliding to the left"])
    s = json.loads(res.output)
    assert s["colour"]["passed"] is False and s["motion"]["passed"] is False


def test_videos_writes_report(video, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("# one\na red ball bouncing\n")
    res = CliRunner().invoke(eval_app, ["videos", str(video.parent), "--prompts", str(prompts), "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    for name in ("summary.md", "summary.json", "dimensions.png", "videos/0000.json", "sheets/0000.png"):
        assert (tmp_path / "r" / name).is_file()


def test_missing_video_is_input_error(tmp_path):
    res = CliRunner().invoke(eval_app, ["describe", str(tmp_path / "nope.mp4")])
    assert isinstance(res.exception, InputError)


def test_merge_cli_and_its_errors(video, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("a red ball bouncing\n")
    for part in ("a", "b"):
        assert CliRunner().invoke(eval_app, ["videos", str(video.parent), "--prompts", str(prompts),
                                             "--out", str(tmp_path / part)]).exit_code == 0
    res = CliRunner().invoke(eval_app, ["merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    n_a = len(list((tmp_path / "a" / "videos").glob("*.json")))
    assert len(list((tmp_path / "m" / "videos").glob("*.json"))) == 2 * n_a
    res = CliRunner().invoke(eval_app, ["merge", str(tmp_path / "a"), "--out", str(tmp_path / "m")])
    assert isinstance(res.exception, InputError) and "not empty" in str(res.exception)


def test_shards_merged_equal_the_whole_run(tiny_model, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("a red ball\na blue square moves left\na green star grows\n")
    base = ["run", "--model", str(tiny_model), "--prompts", str(prompts), "--seconds", "1"]
    for args, out in ([[], "whole"], [["--shard", "1/2"], "s1"], [["--shard", "2/2"], "s2"]):
        res = CliRunner().invoke(eval_app, base + args + ["--out", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "s1" / "videos").glob("*.json"))) == 1  # [0, 1) of 3, then [1, 3)
    assert CliRunner().invoke(eval_app, ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
                                         "--out", str(tmp_path / "m")]).exit_code == 0
    assert read_report(tmp_path / "m") == read_report(tmp_path / "whole")  # same videos: same seeds
