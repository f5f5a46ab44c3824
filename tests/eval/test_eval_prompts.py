"""Prompt sets: paraphrases use wording outside the caption templates, and still parse."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cinegen.eval.parse import parse
from cinegen.eval.prompts import load_prompts
from cinegen.world.captions import make_captions
from cinegen.world.parse import tokenize
from cinegen.world.scene import sample_scene

PROMPTS = Path(__file__).resolve().parents[2] / "eval" / "prompts"


def _caption_words() -> set[str]:
    """Every word the caption writer produced for many scenes (short and long, all templates)."""
    words: set[str] = set()
    for seed in range(300):
        spec = sample_scene(seed, n_shots=2 if seed % 5 == 0 else 0)
        c = make_captions(spec, np.random.default_rng(seed), n_short=4, n_long=3)
        for text in c.short + c.long:
            words.update(tokenize(text))
    return words


def test_paraphrases_leave_the_caption_templates_and_parse():
    caption_words = _caption_words()
    items = load_prompts(PROMPTS / "paraphrase.txt")
    assert len(items) >= 60
    for it in items:
        new = set(tokenize(it.prompt)) - caption_words - set(".,;:!?")
        assert new, f"paraphrase uses only caption wording: {it.prompt!r}"
        e = parse(it.prompt)
        assert e.objects and any(o.colour or o.shape for o in e.objects), it.prompt
