import pytest

from cinegen.pipeline.windows import plan_windows


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
