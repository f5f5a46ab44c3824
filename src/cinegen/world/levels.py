"""A ladder of world slices, easiest first: what a model learns before the whole world.

L1  one object, solid background, static camera; it moves in one of 8 directions or stays still
L2  as L1, with every motion kind (bounce, fall, rotate, grow, shrink, orbit as well)
L3  as L2, with 1–3 objects and every background
L4  the full world: camera pans and zooms, collisions, occlusion (sample_scene unpinned)

A level is a scene sampler (training data) and a prompt set (evaluation): `level_prompts` writes the
level's dev prompts with the caption grammar and its paraphrases with sentence frames the captions
never use, so a model is judged on wording it did not train on as well.
"""
from __future__ import annotations

import numpy as np

from cinegen.common.errors import InputError
from cinegen.world.captions import _article, make_captions
from cinegen.world.scene import sample_scene
from cinegen.world.spec import DIRECTIONS, SceneSpec
from cinegen.world.vocab import (
    BACKGROUND_COLOUR_WORDS,
    COLOUR_WORDS,
    DIRECTION_WORDS,
    MOTION_PRESENT,
    SHAPE_WORDS,
    SIZE_WORDS,
    TURN_WORDS,
)

LEVELS: tuple[str, ...] = ("L1", "L2", "L3", "L4")
FULL = "L4"
LEVEL_STREAM = 7_001  # the level's own draws (motion, object count) never reuse the scene's stream
EVAL_SEED = 90_000_000  # prompt-set scenes: far from every training seed (latent_cache uses 50M + …)


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InputError(f"world must be one of {', '.join(LEVELS)} (L4 is the full world), got {level!r}")
    return level


def sample_level_scene(seed: int, level: str, duration: float) -> SceneSpec:
    """A random scene of `level` for `seed`; L4 is exactly sample_scene(seed, duration)."""
    if check_level(level) == FULL:
        return sample_scene(seed, duration=duration)
    rng = np.random.default_rng([seed, LEVEL_STREAM])
    pins: dict = {"camera": "static"}
    n_objects = 1
    if level == "L1":
        pins["background"] = "solid"
        # 8 directions and still, equally likely (the direction itself is drawn by sample_scene)
        pins["motion"] = "static" if rng.random() < 1 / (len(DIRECTIONS) + 1) else "move"
    elif level == "L2":
        pins["background"] = "solid"
    else:
        n_objects = int(rng.choice([1, 2, 3], p=[0.4, 0.3, 0.3]))
    return sample_scene(seed, duration=duration, n_objects=n_objects, **pins)


# Paraphrase frames: sentence shapes the caption templates never use, with the tables' rarer words.
_FRAMES = (
    "There is {np} that {vp}, against {bg}.",
    "Picture {np}; it {vp}. In the background: {bg}.",
    "Footage of {np} which {vp}, with {bg} as the backdrop.",
    "In this shot {np} {vp} in front of {bg}.",
)
_BG_PARAPHRASE = {"solid": "a flat {c} wall", "sky": "an open sky over grass", "checker": "a chequered floor"}


def _rare(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    """A synonym other than the plain first one, where the table has one."""
    return words[1 + int(rng.integers(len(words) - 1))] if len(words) > 1 else words[0]


def _np(rng: np.random.Generator, obj) -> str:
    text = f"{_rare(rng, SIZE_WORDS[obj.size])} {_rare(rng, COLOUR_WORDS[obj.colour])} {_rare(rng, SHAPE_WORDS[obj.shape])}"
    return f"{_article(text)} {text}"


def _vp(rng: np.random.Generator, obj) -> str:
    verb = _rare(rng, MOTION_PRESENT[obj.motion])
    if obj.motion in ("move", "bounce") and obj.direction in DIRECTION_WORDS:
        return f"{verb} {_rare(rng, DIRECTION_WORDS[obj.direction])}"
    if obj.motion in ("rotate", "orbit") and obj.direction in TURN_WORDS:
        return f"{verb} {_rare(rng, TURN_WORDS[obj.direction])}"
    return verb


def paraphrase(spec: SceneSpec, rng: np.random.Generator) -> str:
    """One sentence for a one-object, static-camera scene in a frame the captions never use."""
    if len(spec.objects) != 1 or spec.camera.motion != "static":
        raise InputError("paraphrase writes one-object, static-camera scenes")
    bg = _BG_PARAPHRASE[spec.background.kind].format(c=_rare(rng, BACKGROUND_COLOUR_WORDS[spec.background.colour]))
    frame = _FRAMES[int(rng.integers(len(_FRAMES)))]
    return frame.format(np=_np(rng, spec.objects[0]), vp=_vp(rng, spec.objects[0]), bg=bg)


def level_prompts(level: str, n: int, paraphrased: bool = False, duration: float = 4.0) -> list[str]:
    """n prompts of `level` (a fixed set: the same n give the same prompts): each states every attribute of
    its scene. Dev prompts are the caption grammar's long captions; paraphrases (one-object levels, and the
    one-object scenes of L3/L4) use the frames above."""
    check_level(level)
    out: list[str] = []
    i = 0
    while len(out) < n:
        seed = EVAL_SEED + 10_000 * LEVELS.index(level) + i
        i += 1
        spec = sample_level_scene(seed, level, duration)
        rng = np.random.default_rng([seed, 1])
        if paraphrased:
            if len(spec.objects) == 1 and spec.camera.motion == "static" and not spec.shots:
                out.append(paraphrase(spec, rng))
        elif not spec.shots:
            caps = make_captions(spec, rng).long
            out.append(caps[int(rng.integers(len(caps)))])
        if i > 100 * n + 1000:
            raise InputError(f"level {level} gave too few prompts of that kind")
    return out
