import pytest

from cinegen.pipeline.limits import Geometry
from cinegen.pipeline.windows import plan, plan_conditioned, plan_windows


@pytest.mark.parametrize("n", [1, 2, 5, 6, 7, 8, 13, 21, 121])
@pytest.mark.parametrize("window,context", [(5, 2), (5, 1), (3, 1), (7, 3)])
def test_windows_cover_every_frame_once(n, window, context):
    wins = plan_windows(n, window, context)
    made = [i for w in wins for i in w.new]
    assert made == list(range(n))  # each latent frame generated exactly once, in order
    for w in wins:
        assert w.end - w.start <= window
        assert w.start >= 0 and w.end <= n
        if w is not wins[0]:
            assert w.n_context >= context  # every later window sees earlier frames held clean


def test_bad_window():
    with pytest.raises(ValueError):
        plan_windows(10, 3, 3)


@pytest.mark.parametrize("n", [1, 5, 6, 8, 13, 21])
def test_backward_plan_mirrors_forward(n):
    fwd, bwd = plan_windows(n, 5, 2), plan_windows(n, 5, 2, backward=True)
    assert [sorted(w.new) for w in bwd] == [sorted(n - 1 - i for i in w.new) for w in fwd]
    assert bwd[0].end == n  # the first window holds the end of the video
    for w in bwd[1:]:
        assert w.n_context >= 2 and w.end - w.n_context == max(w.new) + 1  # context: made frames after the new ones


def test_plan_follows_the_given_frames():
    def plan(known):
        return [(w.start, w.end, w.backward) for w in plan_conditioned(known, 5, 2)]

    none, first = [False] * 9, [True] + [False] * 8
    assert plan(none) == plan(first) == [(s, e, False) for s, e, _ in plan(none)] and plan(none)[0] == (0, 5, False)
    assert plan([False] * 7 + [True, True])[0] == (4, 9, True)  # extend backward: start at the given end
    assert plan([True, True] + [False] * 4 + [True]) == [(0, 7, False)]  # connect: one window sees both ends
    long = plan([True, True] + [False] * 10 + [True])
    assert len(long) > 1 and long[-1][1] == 13  # too long for one window: left to right, the last holds the end
    for known in ([False] * 7 + [True], [True] * 2 + [False] * 5 + [True], [True] + [False] * 11 + [True]):
        made = sorted(i for w in plan_conditioned(known, 5, 2) for i in w.new)
        assert made == list(range(len(known)))  # every frame planned once (given ones are simply kept)


@pytest.mark.parametrize("time_factor", [1, 2, 4, 8])
@pytest.mark.parametrize("n_frames", [1, 2, 5, 8, 9, 17, 33, 100, 481])
def test_plan_in_frames_covers_every_frame_once_for_any_time_factor(time_factor, n_frames):
    """The windows of a video in frames: every output frame is decided by exactly one window's new latent
    frames, and no window reaches past the latent frames the video needs."""
    geo = Geometry(time_factor, 8, 16, (1, 2, 2))
    wins = plan(n_frames, geo, 5, 2)
    n_latent = geo.latent_frames(n_frames)
    assert n_latent == 1 + -(-(n_frames - 1) // time_factor) and geo.frames_of(n_latent - 1).stop >= n_frames
    made = [f for w in wins for i in w.new for f in geo.frames_of(i)]
    assert made == list(range(geo.frames_of(n_latent - 1).stop))
    assert all(w.end <= n_latent and w.end - w.start <= 5 for w in wins)


def test_plan_with_known_frames_checks_their_count():
    geo = Geometry(4, 8, 16, (1, 2, 2))
    assert plan(9, geo, 5, 2, known=[True, False, True]) == plan_conditioned([True, False, True], 5, 2)
    with pytest.raises(ValueError, match="3 latent frames"):
        plan(9, geo, 5, 2, known=[True, False])
