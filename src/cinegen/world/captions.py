"""Captions for a scene: short user-style prompts and long descriptive captions.

The same scene is described many ways: templates and synonyms (vocab.py) are drawn from `rng`.
Long captions state every attribute (size, colour, shape, motion and its direction, background,
camera, shots); short prompts state colour and shape always and other attributes sometimes,
so a model learns from both terse and detailed text. Every word comes from vocab.py, which
is what lets parse.py read each caption back exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cinegen.world.camera import shots_of
from cinegen.world.spec import CameraSpec, ObjectSpec, SceneSpec
from cinegen.world.vocab import (
    BACKGROUND_COLOUR_WORDS,
    BACKGROUND_PHRASES,
    BOUNCE_IN_PLACE,
    CAMERA_PAN_SENTENCES,
    CAMERA_STATIC_PHRASES,
    CAMERA_ZOOM_WORDS,
    COLOUR_WORDS,
    DIRECTION_WORDS,
    FRAMING_WORDS,
    MOTION_PRENOMINAL,
    MOTION_PRESENT,
    MOTION_PROGRESSIVE,
    MOTION_TAILS,
    PAN_DIRECTION_WORDS,
    SHAPE_WORDS,
    SIZE_WORDS,
    SPEED_WORDS,
    TURN_WORDS,
)

OPENERS = ("{objs} {bg}.", "The scene shows {objs} {bg}.", "We see {objs} {bg}.", "A video of {objs} {bg}.", "This clip shows {objs} {bg}.")
JOINERS = (", while ", "; ", " and ", ". ")


@dataclass(frozen=True)
class Captions:
    short: list[str]  # user-style prompts: "a red ball bouncing"
    long: list[str]  # 2-4 descriptive sentences


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _noun_phrase(rng: np.random.Generator, obj: ObjectSpec, size: bool, article: str | None = "a") -> str:
    words = ([_pick(rng, SIZE_WORDS[obj.size])] if size else []) + [_pick(rng, COLOUR_WORDS[obj.colour]), _pick(rng, SHAPE_WORDS[obj.shape])]
    text = " ".join(words)
    if article == "a":
        return f"{_article(text)} {text}"
    return f"{article} {text}" if article else text


def _speed(rng: np.random.Generator) -> str:
    return _pick(rng, SPEED_WORDS) + " " if rng.random() < 0.25 else ""


def _verb_phrase(rng: np.random.Generator, obj: ObjectSpec, forms: dict[str, tuple[str, ...]]) -> str:
    """Motion of `obj` with its direction, e.g. 'sliding to the left', 'spins clockwise'."""
    verb = _pick(rng, forms[obj.motion])
    if obj.motion == "move":
        return f"{verb} {_speed(rng)}{_pick(rng, DIRECTION_WORDS[obj.direction])}"
    if obj.motion == "bounce":
        if obj.direction in ("left", "right"):
            return f"{verb} {_pick(rng, DIRECTION_WORDS[obj.direction])}"
        return f"{verb} {_pick(rng, BOUNCE_IN_PLACE + MOTION_TAILS['bounce'][-2:-1])}"
    if obj.motion in ("rotate", "orbit") and obj.direction in TURN_WORDS:
        return f"{verb} {_pick(rng, TURN_WORDS[obj.direction])}"
    if obj.motion == "fall" and rng.random() < 0.5:
        return f"{verb} {_pick(rng, MOTION_TAILS['fall'])}"
    return verb


def _background(rng: np.random.Generator, spec: SceneSpec) -> str:
    phrase = _pick(rng, BACKGROUND_PHRASES[spec.background.kind])
    return phrase.replace("{c}", _pick(rng, BACKGROUND_COLOUR_WORDS[spec.background.colour]))


def _camera(rng: np.random.Generator, camera: CameraSpec, short: bool) -> str:
    if camera.motion == "pan":
        d = _pick(rng, PAN_DIRECTION_WORDS[camera.direction])
        if short:
            return _pick(rng, (f"camera pans {d}", f"panning {d}", f"the camera sweeps {d}"))
        return _pick(rng, CAMERA_PAN_SENTENCES).replace("{d}", d)
    if camera.motion == "zoom":
        # Present tense only ("zooms in", "pulls back"): "the camera zoom in" reads wrong.
        zoom = _pick(rng, [z for z in CAMERA_ZOOM_WORDS[camera.direction] if z.split()[0].endswith("s")])
        return _pick(rng, ("camera", "the camera")) + " " + zoom if short or rng.random() < 0.8 else f"the view {zoom}"
    if short:
        return _pick(rng, CAMERA_STATIC_PHRASES[:5])
    return _pick(rng, CAMERA_STATIC_PHRASES[5:])


def _listing(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


def _short(rng: np.random.Generator, spec: SceneSpec) -> str:
    objs = spec.objects
    article = _pick(rng, ("a", "a", None))
    parts = []
    for obj in objs:
        size = rng.random() < 0.4
        pre = MOTION_PRENOMINAL.get(obj.motion)
        directed = obj.motion == "move" or (obj.motion in ("bounce", "rotate", "orbit") and obj.direction)
        style = rng.random()
        if pre and not directed and style < 0.3:
            np_ = _noun_phrase(rng, obj, size, None)
            word = _pick(rng, pre)
            parts.append(f"{_article(word)} {word} {np_}" if article else f"{word} {np_}")
        elif style < 0.85 or obj.motion != "static":
            parts.append(f"{_noun_phrase(rng, obj, size, article)} {_verb_phrase(rng, obj, MOTION_PROGRESSIVE)}")
        else:
            parts.append(_noun_phrase(rng, obj, size, article))
    text = " and ".join(parts)
    if rng.random() < 0.5:
        text += " " + _background(rng, spec)
    if spec.camera.motion != "static" and rng.random() < 0.7 or rng.random() < 0.15:
        text += ", " + _camera(rng, spec.camera, short=True)
    return text


def _long(rng: np.random.Generator, spec: SceneSpec) -> str:
    objs = spec.objects
    intro = _pick(rng, OPENERS).format(objs=_listing([_noun_phrase(rng, o, True) for o in objs]), bg=_background(rng, spec))
    motions = []
    for obj in objs:
        if len(objs) == 1 and rng.random() < 0.6:
            subject = "it"
        else:  # a definite reference by colour and shape, possibly with other synonyms
            subject = _noun_phrase(rng, obj, False, "the")
        motions.append(f"{subject} {_verb_phrase(rng, obj, MOTION_PRESENT)}")
    joiner = _pick(rng, JOINERS)
    body = _sentence(joiner.join(motions)) if joiner != ". " else ". ".join(_sentence(m) for m in motions)
    sentences = [_sentence(intro), body + ".", _sentence(_camera(rng, spec.camera, short=False)) + "."]
    shots = shots_of(spec)
    if len(shots) > 1:
        names = [_pick(rng, FRAMING_WORDS[s.framing]) for s in shots]
        names = [f"{_article(n)} {n}" for n in names]
        sentences.append(_pick(rng, ("The video cuts from ", "It cuts from ", "The shots go from ")) + " to ".join(names) + ".")
    return " ".join(sentences)


def make_captions(spec: SceneSpec, rng: np.random.Generator, n_short: int = 4, n_long: int = 3) -> Captions:
    """Several distinct short prompts and long captions of `spec`, drawn with `rng`."""
    short: list[str] = []
    long: list[str] = []
    for out, make, n in ((short, _short, n_short), (long, _long, n_long)):
        for _ in range(4 * n):
            text = make(rng, spec)
            if text not in out:
                out.append(text)
            if len(out) == n:
                break
    return Captions(short=short, long=long)
