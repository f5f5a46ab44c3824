import pytest

from cinegen.common.errors import InputError
from cinegen.pipeline.limits import Geometry, check_request
from cinegen.pipeline.storyboard import parse_inline, parse_storyboard

OK = dict(prompt="a red ball", seconds=2.0, fps=8.0, width=64, height=48, steps=10, guidance=4.0, seed=1)


def test_request_frames_and_latents():
    geo = Geometry(time_factor=4, space_factor=4, latent_channels=8, patch=(1, 4, 4))
    r = check_request(**OK, geometry=geo)
    assert r.n_frames == 16
    assert 1 + 4 * (r.n_latent_frames - 1) >= r.n_frames  # latents cover every asked frame
    assert r.gen_size == (48, 64)
    assert check_request(**{**OK, "width": 50}, geometry=geo).gen_size == (48, 64)  # rounded up to a multiple of 16
    wide = Geometry(time_factor=2, space_factor=8, latent_channels=4, patch=(1, 1, 4))  # multiples of 8 and 32
    assert check_request(**{**OK, "width": 50, "height": 20}, geometry=wide).gen_size == (24, 64)
    assert check_request(**OK, geometry=wide).n_latent_frames == 1 + 8  # 16 frames in pairs after the first
    with pytest.raises(InputError, match="without a model"):
        check_request(**OK).gen_size  # validated only: no model, no sizes


@pytest.mark.parametrize("field,value,needle", [
    ("prompt", "", "prompt is empty"),
    ("prompt", "   ", "prompt is empty"),
    ("prompt", "x" * 5000, "characters"),
    ("width", 0, "width"),
    ("width", -64, "width"),
    ("height", 100000, "height"),
    ("seconds", 0, "seconds"),
    ("seconds", -1, "seconds"),
    ("seconds", 1e9, "seconds"),
    ("seconds", float("nan"), "seconds"),
    ("fps", 0, "fps"),
    ("steps", 0, "steps"),
    ("guidance", -1, "guidance"),
    ("seed", -5, "seed"),
])
def test_bad_requests_name_the_field(field, value, needle):
    with pytest.raises(InputError, match=needle):
        check_request(**{**OK, field: value})


def test_storyboard_yaml_and_errors():
    board = parse_storyboard("subjects: a red ball\nshots:\n  - prompt: it bounces\n    seconds: 2\n"
                             "  - prompt: it rolls left\n    seconds: 3\n    framing: close-up\n")
    assert [s.seconds for s in board.shots] == [2.0, 3.0]
    assert board.shot_prompt(board.shots[1]).startswith("a close-up of a red ball.")
    with pytest.raises(InputError, match=r"storyboard line \d+: not valid"):
        parse_storyboard("shots:\n  - prompt: [unclosed\n")
    with pytest.raises(InputError, match="line 3.*positive duration"):
        parse_storyboard("shots:\n  - seconds: 0\n    prompt: a ball\n")
    with pytest.raises(InputError, match="limit"):
        parse_storyboard("shots:\n  - prompt: a\n    seconds: 100\n  - prompt: b\n    seconds: 100\n")
    assert len(parse_inline("2s: a red ball | 3s close-up: the ball rolls").shots) == 2
    assert board.scene_prompt(board.shots[1]) == "a red ball. it rolls left"  # what the model is asked: no framing


def test_example_storyboard_parses():
    from pathlib import Path

    from cinegen.pipeline.storyboard import load_storyboard

    board = load_storyboard(Path(__file__).parents[2] / "docs" / "examples" / "storyboard.yaml")
    assert [s.framing for s in board.shots] == ["wide", "close-up", "medium"] and board.seconds == 10
    with pytest.raises(InputError):
        parse_inline("a ball without duration")
