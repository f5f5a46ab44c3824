"""validate.observable: what a render cannot show is left out of the expectation, from the spec
and the render's truth alone, and only then."""
from __future__ import annotations

from cinegen.eval.validate import observable
from cinegen.world.render import render
from cinegen.world.spec import BackgroundSpec, ObjectSpec, SceneSpec


def _orbit(speed: float, duration: float):
    obj = ObjectSpec("square", "red", "medium", "orbit", "cw", (0.8, 0.5), speed)
    return render(SceneSpec(BackgroundSpec("solid", "gray"), (obj,), duration=duration), 64, 64, 8.0)


def test_short_orbit_arc_is_left_out_and_a_long_one_kept():
    e, why = observable(_orbit(1.0, 0.5))  # half a radian of arc
    assert e.objects[0].motion is None and why == ["motion: orbit arc in view too short"]
    e, why = observable(_orbit(2.0, 1.5))  # three radians
    assert e.objects[0].motion == "orbit" and e.objects[0].direction == "cw" and why == []


def test_bounce_without_a_rebound_in_view_is_left_out():
    obj = ObjectSpec("circle", "blue", "medium", "bounce", start=(0.5, 0.2))
    short = render(SceneSpec(BackgroundSpec("solid", "white"), (obj,), duration=0.4), 64, 64, 8.0)
    assert observable(short)[1] == ["motion: no rebound in view"]
    long = render(SceneSpec(BackgroundSpec("solid", "white"), (obj,), duration=1.5), 64, 64, 8.0)
    assert observable(long)[1] == [] and observable(long)[0].objects[0].motion == "bounce"


def test_mover_deflected_at_once_is_left_out_but_a_free_one_kept():
    free = ObjectSpec("square", "red", "medium", "move", "right", (0.3, 0.5), 0.3)
    clip = render(SceneSpec(BackgroundSpec("solid", "gray"), (free,), duration=1.0), 64, 64, 8.0)
    assert observable(clip)[1] == []
    # A heavy mover hits it in the first frames and knocks it back.
    hit = ObjectSpec("circle", "blue", "large", "move", "left", (0.62, 0.5), 0.4)
    clip = render(SceneSpec(BackgroundSpec("solid", "gray"), (free, hit), duration=1.0), 64, 64, 8.0)
    assert "motion: deflected before its direction shows" in observable(clip)[1]
