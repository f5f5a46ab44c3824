"""Captions, prompt parsing and prompt expansion."""
import numpy as np

from cinegen.world import expand_prompt, make_captions, parse_prompt, sample_scene


def _expected(spec):
    return [(o.colour, o.shape, o.size, o.motion, o.direction) for o in spec.objects]


def _agrees(parsed, spec, full: bool) -> bool:
    want = _expected(spec)
    got = [(o.colour, o.shape, o.size, o.motion, o.direction) for o in parsed.objects]
    if len(got) != len(want) or parsed.unknown:
        return False
    for g, w in zip(got, want):
        if g[:2] != w[:2]:  # colour and shape are always stated
            return False
        for x, y in zip(g[2:], w[2:]):
            if (x is None and full and y is not None) or (x is not None and x != y):
                return False
    bg, cam = spec.background, spec.camera
    checks = [(parsed.background, bg.kind), (parsed.camera_motion, cam.motion), (parsed.camera_direction, cam.direction)]
    if bg.kind == "solid":
        checks.append((parsed.background_colour, bg.colour))
    for x, y in checks:
        if (x is None and full and y is not None) or (x is not None and x != y):
            return False
    return True


def test_captions_deterministic_and_varied():
    spec = sample_scene(9)
    a = make_captions(spec, np.random.default_rng(1))
    b = make_captions(spec, np.random.default_rng(1))
    c = make_captions(spec, np.random.default_rng(2))
    assert a == b and a != c
    assert len(set(a.short)) == len(a.short) >= 3 and len(set(a.long)) == len(a.long) >= 2
    for text in a.long:
        assert 2 <= text.count(".") <= 5


def test_parse_recovers_sampled_captions():
    rng = np.random.default_rng(0)
    ok = total = 0
    for seed in range(400):
        spec = sample_scene(seed, n_shots=2 if seed % 10 == 0 else 0)
        caps = make_captions(spec, rng)
        for text, full in [(t, False) for t in caps.short] + [(t, True) for t in caps.long]:
            total += 1
            ok += _agrees(parse_prompt(text), spec, full)
    assert total > 2000 and ok / total >= 0.99


def test_parse_free_phrasing():
    p = parse_prompt("Two little crimson spheres hopping to the left against a white backdrop, the camera zooms out")
    assert [(o.colour, o.shape, o.size, o.motion, o.direction) for o in p.objects] == [("red", "circle", "small", "bounce", "left")] * 2
    assert (p.background, p.background_colour, p.camera_motion, p.camera_direction) == ("solid", "white", "zoom", "out")
    p = parse_prompt("a spinning teal cube and a big star that is falling. The box turns anticlockwise.")
    assert [(o.colour, o.shape, o.motion, o.direction) for o in p.objects] == [("cyan", "square", "rotate", "ccw"), (None, "star", "fall", None)]
    assert p.unknown == [] and p.objects[1].size == "large"
    p = parse_prompt("a purple dog running under a blue sky")
    assert p.objects == [] and p.background == "sky" and sorted(p.unknown) == ["dog", "purple", "running"]


def test_expand_keeps_stated_attributes_and_fills_the_rest():
    for prompt in ["a red ball bouncing", "small blue square moving up-left on a checker floor, camera pans right", "a green star and an orange hexagon spinning clockwise"]:
        short = parse_prompt(prompt)
        for seed in range(3):
            text = expand_prompt(prompt, seed)
            assert text == expand_prompt(prompt, seed)
            long = parse_prompt(text)
            assert len(long.objects) == len(short.objects) and not long.unknown
            for s, l in zip(short.objects, long.objects):
                for k in ("colour", "shape", "size", "motion", "direction"):
                    assert getattr(s, k) is None or getattr(s, k) == getattr(l, k)
                assert None not in (l.colour, l.shape, l.size, l.motion)
            for k in ("background", "background_colour", "camera_motion", "camera_direction"):
                assert getattr(short, k) is None or getattr(short, k) == getattr(long, k)
            assert long.background is not None and long.camera_motion is not None
    assert expand_prompt("a red ball", 0) != expand_prompt("a red ball", 1)
