"""The procedural world: seeded scenes -> frames, captions and per-frame ground truth (numpy only)."""
from cinegen.world.captions import Captions, make_captions
from cinegen.world.expand import expand_prompt
from cinegen.world.parse import ParsedObject, ParsedPrompt, parse_prompt
from cinegen.world.render import Clip, ObjectTruth, render
from cinegen.world.scene import sample_scene
from cinegen.world.spec import SceneSpec

__all__ = [
    "Captions", "Clip", "ObjectTruth", "ParsedObject", "ParsedPrompt", "SceneSpec",
    "expand_prompt", "make_captions", "parse_prompt", "render", "sample_scene",
]
