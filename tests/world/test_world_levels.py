"""The ladder of world slices: each level's scenes are what it promises, and its prompts read back as such."""
from collections import Counter

import pytest

from cinegen.common.errors import InputError
from cinegen.world import parse_prompt, sample_scene
from cinegen.world.levels import LEVELS, level_prompts, sample_level_scene
from cinegen.world.spec import DIRECTIONS


def test_each_level_samples_what_it_promises():
    l1 = [sample_level_scene(s, "L1", 3.0) for s in range(300)]
    assert all(len(x.objects) == 1 and x.background.kind == "solid" and x.camera.motion == "static" for x in l1)
    motions = Counter(x.objects[0].direction if x.objects[0].motion == "move" else x.objects[0].motion for x in l1)
    assert set(motions) == set(DIRECTIONS) | {"static"}  # 8 directions and still, nothing else
    assert min(motions.values()) > 300 / 9 / 2
    l2 = [sample_level_scene(s, "L2", 3.0) for s in range(300)]
    assert all(len(x.objects) == 1 and x.background.kind == "solid" and x.camera.motion == "static" for x in l2)
    assert {x.objects[0].motion for x in l2} >= {"bounce", "fall", "rotate", "grow", "shrink", "orbit", "move"}
    l3 = [sample_level_scene(s, "L3", 3.0) for s in range(300)]
    assert {len(x.objects) for x in l3} == {1, 2, 3} and {x.background.kind for x in l3} == {"solid", "sky", "checker"}
    assert all(x.camera.motion == "static" for x in l3)
    assert all(sample_level_scene(s, "L4", 3.0) == sample_scene(s, duration=3.0) for s in range(20))


def test_level_prompts_are_fixed_parse_fully_and_paraphrases_use_other_frames():
    for level in LEVELS:
        for para in (False, True):
            prompts = level_prompts(level, 24, para)
            assert prompts == level_prompts(level, 24, para) and len(set(prompts)) == 24
            assert all(not parse_prompt(p).unknown and parse_prompt(p).objects for p in prompts)
    dev, para = level_prompts("L1", 48), level_prompts("L1", 48, True)
    assert all(p.startswith(("There is", "Picture", "Footage of", "In this shot")) for p in para)
    assert not any(p.startswith(("There is", "Picture", "Footage of", "In this shot")) for p in dev)
    parsed = [parse_prompt(p).objects for p in dev + para]
    assert all(len(o) == 1 and o[0].motion in ("move", "static") for o in parsed)


def test_unknown_level_is_an_input_error():
    with pytest.raises(InputError, match="L1, L2, L3, L4"):
        sample_level_scene(0, "L5", 2.0)
