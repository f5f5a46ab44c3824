"""render_samples writes playable clips with captions and spec + truth."""
import json

import av

from cinegen.world.cli import render_samples
from cinegen.world.spec import SceneSpec


def test_render_samples_writes_mp4_txt_json(tmp_path):
    paths = render_samples(2, tmp_path, width=33, height=24, fps=8.0, seconds=1.0, seed=5)
    assert [p.name for p in paths] == ["world_00005.mp4", "world_00006.mp4"]
    for p in paths:
        with av.open(str(p)) as f:
            frames = list(f.decode(video=0))
        assert len(frames) == 9
        assert p.with_suffix(".txt").read_text().strip()
        record = json.loads(p.with_suffix(".json").read_text())
        spec = SceneSpec.from_dict(record["spec"])
        assert len(record["truth"]) == len(spec.objects) and len(record["truth"][0]["centre"]) == 9
