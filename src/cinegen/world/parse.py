"""Read a prompt back into world attributes: objects, background, camera, shots.

Two passes. First the text is cut into tagged phrases, longest match first, from the tables in
vocab.py ("moving to the left" -> motion move + direction left; "blue sky" -> background sky, so
its "blue" is never taken for an object). Then a small left-to-right grammar attaches
adjectives to the next noun, motions to the current subject (an object or the camera),
directions to the latest motion, and resolves "the red ball" / "it" to objects already
mentioned. Words it cannot place go to `unknown`; nothing is guessed.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from cinegen.world.spec import DIRECTIONS
from cinegen.world.vocab import (
    ARTICLES,
    BACKGROUND_COLOUR_WORDS,
    BACKGROUND_KIND_WORDS,
    BACKGROUND_PHRASES,
    BOUNCE_IN_PLACE,
    CAMERA_NOUNS,
    CAMERA_PAN_WORDS,
    CAMERA_STATIC_PHRASES,
    CAMERA_ZOOM_WORDS,
    COLOUR_WORDS,
    COPULAS,
    COUNT_WORDS,
    DIRECTION_WORDS,
    FILLER_WORDS,
    FRAMING_WORDS,
    GENERIC_NOUNS,
    MOTION_PRENOMINAL,
    MOTION_PRESENT,
    MOTION_PROGRESSIVE,
    MOTION_TAILS,
    PLURALS,
    PRONOUNS,
    SHAPE_WORDS,
    SIZE_WORDS,
    SPEED_WORDS,
    TURN_WORDS,
)

# Which directions each motion takes ("cw"/"ccw" come from TURN_WORDS).
MOTION_DIRECTIONS = {"move": set(DIRECTIONS), "bounce": {"left", "right"}, "rotate": {"cw", "ccw"}, "orbit": {"cw", "ccw"}}
PAN_DIRECTIONS_SET = {"left", "right", "up", "down"}
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*|[.,;:!?]")
MAX_PHRASE = 6


@dataclass
class ParsedObject:
    colour: str | None = None
    shape: str | None = None
    size: str | None = None
    motion: str | None = None
    direction: str | None = None


@dataclass
class ParsedPrompt:
    objects: list[ParsedObject] = field(default_factory=list)
    background: str | None = None  # kind: solid / sky / checker
    background_colour: str | None = None
    camera_motion: str | None = None
    camera_direction: str | None = None
    unknown: list[str] = field(default_factory=list)
    framings: list[str] = field(default_factory=list)  # shot framings in order, when stated


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


@functools.lru_cache(maxsize=1)
def lexicon() -> dict[tuple[str, ...], tuple[str, str | None]]:
    """Phrase (tokens) -> (tag, value). Later entries win, so the most specific tables go last."""
    lex: dict[tuple[str, ...], tuple[str, str | None]] = {}

    def add(phrase: str, tag: str, value: str | None = None) -> None:
        lex[tuple(tokenize(phrase))] = (tag, value)

    for word in FILLER_WORDS | set(SPEED_WORDS):
        add(word, "filler")
    for kind in ("solid", "sky", "checker"):
        for phrase in BACKGROUND_KIND_WORDS[kind]:
            add(phrase, "bg", kind)
    for colour, words in BACKGROUND_COLOUR_WORDS.items():
        for w in words:
            add(w, "bgcolour", colour)
    for colour, words in COLOUR_WORDS.items():
        for w in words:
            add(w, "colour", colour)
    for size, words in SIZE_WORDS.items():
        for w in words:
            add(w, "size", size)
    for shape, words in SHAPE_WORDS.items():
        for w in words:
            add(w, "shape", shape)
    singular = {w: s for s, words in SHAPE_WORDS.items() for w in words}
    for plural, single in PLURALS.items():
        add(plural, "plural", singular.get(single))
    for w in GENERIC_NOUNS:
        add(w, "shape", None)
    for w, n in COUNT_WORDS.items():
        add(w, "count", str(n))
    for w, kind in ARTICLES.items():
        add(w, "article", kind)
    for w in PRONOUNS:
        add(w, "pronoun")
    for w in COPULAS:
        add(w, "copula")
    for table in (MOTION_PRENOMINAL, MOTION_PROGRESSIVE, MOTION_PRESENT):
        for motion, phrases in table.items():
            for p in phrases:
                add(p, "motion", motion)
    for direction, phrases in DIRECTION_WORDS.items():
        for p in phrases:
            add(p, "dir", direction)
    for turn, phrases in TURN_WORDS.items():
        for p in phrases:
            add(p, "dir", turn)
    for phrases in list(MOTION_TAILS.values()) + [BOUNCE_IN_PLACE]:
        for p in phrases:
            add(p, "filler")
    for w in CAMERA_NOUNS:
        add(w, "camera")
    for w in CAMERA_PAN_WORDS:
        add(w, "pan")
    for direction, phrases in CAMERA_ZOOM_WORDS.items():
        for p in phrases:
            add(p, "zoom", direction)
    for p in CAMERA_STATIC_PHRASES:
        add(p, "camstatic")
    for framing, phrases in FRAMING_WORDS.items():
        for p in phrases:
            add(p, "framing", framing)
    for kind, phrases in BACKGROUND_PHRASES.items():
        if kind != "solid":  # solid phrases carry a colour slot; their words are tagged one by one
            for p in phrases:
                add(p.split(" ", 1)[1] if p.split(" ", 1)[0] in ("on", "over", "under", "in", "against") else p, "bg", kind)
    return lex


def tag(text: str) -> list[tuple[str, str | None, str]]:
    """Cut `text` into (tag, value, words) phrases, longest match first."""
    lex = lexicon()
    tokens = tokenize(text)
    out = []
    i = 0
    while i < len(tokens):
        for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
            hit = lex.get(tuple(tokens[i : i + n]))
            if hit is not None:
                out.append((hit[0], hit[1], " ".join(tokens[i : i + n])))
                i += n
                break
        else:
            tok = tokens[i]
            out.append(("punct" if tok in ".,;:!?" else "word", tok, tok))
            i += 1
    return out


class _Reader:
    """The attachment grammar over tagged phrases; one instance per prompt."""

    def __init__(self) -> None:
        self.p = ParsedPrompt()
        self.subject: list[int] | str | None = None  # object indices, "camera" or None
        self.pending: dict[str, tuple[str | None, str]] = {}  # colour/size/bgcolour/count/motion -> (value, words)
        self.article: str | None = None
        self.last_motion: tuple[list[int] | str, str] | None = None  # (owner, motion)
        self.after_copula = False

    def unknown(self, words: str) -> None:
        self.p.unknown.extend(words.split())

    def flush(self) -> None:
        for key, (value, words) in self.pending.items():
            if key == "motion" and isinstance(self.subject, list):
                self.set_motion(self.subject, value)
            elif key == "bgcolour":
                self.p.background_colour = value
            else:
                self.unknown(words)
        self.pending = {}

    def noun(self, shape: str | None, plural: bool) -> None:
        colour = self.pending.get("colour", (None, ""))[0]
        size = self.pending.get("size", (None, ""))[0]
        count = int(self.pending["count"][0]) if "count" in self.pending else (2 if plural else 1)
        if "bgcolour" in self.pending:  # "a white ball": not an object colour, never guessed
            self.unknown(self.pending["bgcolour"][1])
        match = None
        if self.article != "indefinite" and count == 1 and self.p.objects:
            for i in reversed(range(len(self.p.objects))):
                o = self.p.objects[i]
                if all(want is None or got is None or want == got for want, got in ((shape, o.shape), (colour, o.colour), (size, o.size))):
                    match = i
                    break
        if match is not None:
            o = self.p.objects[match]
            o.shape, o.colour, o.size = o.shape or shape, o.colour or colour, o.size or size
            self.subject = [match]
        else:
            start = len(self.p.objects)
            self.p.objects.extend(ParsedObject(colour=colour, shape=shape, size=size) for _ in range(count))
            self.subject = list(range(start, start + count))
        if "motion" in self.pending:
            self.set_motion(self.subject, self.pending["motion"][0])
        self.pending = {}
        self.article = None

    def set_motion(self, owner: list[int] | str, motion: str | None) -> None:
        if owner == "camera":
            if motion in ("move", "static"):
                self.p.camera_motion = self.p.camera_motion or ("pan" if motion == "move" else "static")
                self.last_motion = ("camera", self.p.camera_motion)
            return
        for i in owner:
            if self.p.objects[i].motion is None:
                self.p.objects[i].motion = motion
        self.last_motion = (owner, motion)

    def direction(self, value: str, words: str) -> None:
        if self.last_motion is None:
            return self.unknown(words)
        owner, motion = self.last_motion
        if owner == "camera":
            if motion == "pan" and value in PAN_DIRECTIONS_SET and self.p.camera_direction is None:
                self.p.camera_direction = value
                return None
            return self.unknown(words)
        if value not in MOTION_DIRECTIONS.get(motion, set()):
            return self.unknown(words)
        for i in owner:
            if self.p.objects[i].motion == motion and self.p.objects[i].direction is None:
                self.p.objects[i].direction = value
        return None

    def read(self, tags: list[tuple[str, str | None, str]]) -> ParsedPrompt:
        for k, (kind, value, words) in enumerate(tags):
            nxt = tags[k + 1][0] if k + 1 < len(tags) else None
            copula, self.after_copula = self.after_copula, kind == "copula" or (self.after_copula and kind == "filler")
            if kind == "punct":
                self.flush()
                self.article = None
                if value != ",":
                    self.last_motion = None
            elif kind == "article":
                self.article = value
            elif kind == "bgcolour" and nxt not in ("shape", "plural"):
                self.p.background_colour = self.p.background_colour or value  # "on a black background"
            elif kind in ("colour", "size", "count", "bgcolour"):
                if copula and isinstance(self.subject, list) and kind in ("colour", "size"):
                    for i in self.subject:  # "the ball is red"
                        o = self.p.objects[i]
                        if getattr(o, kind) is None:
                            setattr(o, kind, value)
                elif kind in self.pending:
                    self.unknown(words)
                else:
                    self.pending[kind] = (value, words)
            elif kind in ("shape", "plural"):
                self.noun(value, kind == "plural")
            elif kind == "motion":
                prenominal = nxt in ("colour", "size", "shape", "plural", "camera", "bgcolour")
                if prenominal or self.subject is None:
                    self.pending["motion"] = (value, words)
                else:
                    self.set_motion(self.subject, value)
            elif kind == "dir":
                self.direction(value, words)
            elif kind == "camera":
                for key, (v, w) in list(self.pending.items()):
                    if key == "motion" and v in ("static",):
                        self.p.camera_motion = self.p.camera_motion or "static"
                    else:
                        self.unknown(w)
                self.pending = {}
                self.subject = "camera"
            elif kind == "pan":
                self.p.camera_motion = self.p.camera_motion or "pan"
                self.subject = "camera"
                self.last_motion = ("camera", "pan")
            elif kind == "zoom":
                if self.p.camera_motion in (None, "zoom"):
                    self.p.camera_motion, self.p.camera_direction = "zoom", value
                self.subject = "camera"
            elif kind == "camstatic":
                self.p.camera_motion = self.p.camera_motion or "static"
                self.subject = "camera"
            elif kind == "bg":
                if value != "solid" or self.p.background is None:
                    self.p.background = value
            elif kind == "framing":
                self.p.framings.append(value)
            elif kind == "pronoun":
                if self.p.objects:
                    last = self.subject if isinstance(self.subject, list) else [len(self.p.objects) - 1]
                    self.subject = last
            elif kind == "word":
                self.unknown(words)
        self.flush()
        if self.p.background_colour is not None and self.p.background is None:
            self.p.background = "solid"
        return self.p


def parse_prompt(text: str) -> ParsedPrompt:
    """Objects, background and camera stated in `text`; None where a prompt says nothing."""
    return _Reader().read(tag(text))
