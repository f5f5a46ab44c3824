"""parse(prompt) → what is asked: expected values per eval dimension.

The grammar itself lives in `cinegen.world.parse` (the pipeline's prompt expansion needs it and
may not import eval); this module turns its ParsedPrompt into the expectations score.py checks.
Unstated attributes stay None and are not scored; words the parser cannot place are reported in
`unknown`, never guessed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cinegen.common.errors import InputError


@dataclass(frozen=True)
class ExpectedObject:
    colour: str | None = None
    shape: str | None = None
    size: str | None = None
    motion: str | None = None
    direction: str | None = None


@dataclass(frozen=True)
class Expected:
    prompt: str
    objects: tuple[ExpectedObject, ...] = ()
    background: str | None = None
    background_colour: str | None = None
    camera_motion: str | None = None
    camera_direction: str | None = None
    shots: int | None = None  # number of shots asked for (multi-shot prompts)
    unknown: tuple[str, ...] = ()
    framings: tuple[str, ...] = ()  # the shots' framings in order, where stated (none: one wide view)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse(prompt: str, shots: int | None = None) -> Expected:
    """What a prompt asks for. `shots`: the storyboard's shot count, when the prompt is one."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise InputError("empty prompt")
    from cinegen.world.parse import parse_prompt

    p = parse_prompt(prompt)
    # Apparent size depends on framing: with no wide shot asked for, size cannot be judged.
    sized = not p.framings or "wide" in p.framings
    objs = tuple(
        ExpectedObject(o.colour, o.shape, o.size if sized else None, o.motion, o.direction) for o in p.objects
    )
    return Expected(
        prompt=prompt,
        objects=objs,
        background=p.background,
        background_colour=p.background_colour,
        camera_motion=p.camera_motion,
        camera_direction=p.camera_direction,
        shots=shots,
        unknown=tuple(p.unknown),
        framings=tuple(p.framings),
    )


def expected_from_spec(spec: Any) -> Expected:
    """The ground-truth expectation of a world SceneSpec (every attribute stated)."""
    sized = not spec.shots or any(s.framing == "wide" for s in spec.shots)  # see parse()
    objs = tuple(
        ExpectedObject(o.colour, o.shape, o.size if sized else None, o.motion,
                       o.direction if o.motion in ("move", "orbit") else None)
        for o in spec.objects
    )
    bg = spec.background
    cam = spec.shots[0].camera if spec.shots else spec.camera
    return Expected(
        prompt="",
        objects=objs,
        background=bg.kind,
        background_colour=bg.colour if bg.kind == "solid" else None,
        camera_motion=cam.motion,
        camera_direction=cam.direction,
        shots=visible_shots(spec),
        framings=tuple(s.framing for s in spec.shots),
    )


def visible_shots(spec: Any) -> int:
    """Shots of a spec that a viewer can tell apart (computed from the spec alone).

    A cut is not visible when the views on both sides nearly coincide: the same framing after a
    still camera, or a short camera move that the cut undoes by a few per cent (a small jerk).
    On a plain background a reframing moves only the objects, which reads as motion, not a cut,
    unless they all grow or shrink a lot at once (the view's scale jumps by 1.3 or more: see
    cuts.REFRAME_AREA).
    """
    import numpy as np

    from cinegen.world.camera import camera_path
    from cinegen.world.physics import object_states

    if len(spec.shots) < 2:
        return 1
    starts = np.cumsum([0.0] + [s.duration for s in spec.shots])
    # Each cut: the last instant of the shot before, and the first of the shot after.
    times = np.array([t for c in starts[1:-1] for t in (c - 1e-6, c)])
    cam, _ = camera_path(spec, times, lambda t: object_states(spec, np.array([t])).centre[0])
    n = 1
    for k, (prev, cur) in enumerate(zip(spec.shots, spec.shots[1:])):
        before, after = cam[2 * k].astype(float), cam[2 * k + 1].astype(float)
        same_view = abs(np.log(after[2] / before[2])) < 0.15 and np.abs(after[:2] - before[:2]).max() < 0.05
        if spec.background.kind == "solid":
            n += abs(np.log(after[2] / before[2])) > np.log(1.3)
        else:
            n += not same_view
    return n


__all__ = ["Expected", "ExpectedObject", "parse", "expected_from_spec", "field"]
