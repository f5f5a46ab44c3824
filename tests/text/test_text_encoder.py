"""Text encoder: shapes, mask, determinism, cache, paraphrase geometry, the T5 path."""
from __future__ import annotations

import shutil

import pytest
import torch

from cinegen.common.errors import CheckpointError, InputError
from cinegen.text import TextEncoder, mean_pool, resolve_encoder_path


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    return TextEncoder(cache_size=8)


def test_shapes_mask_and_empty_prompt(minilm):
    emb, mask = minilm.encode(["a red ball bounces on the floor", "", "blue square"])
    assert minilm.dim == 384 and minilm.name == "minilm"
    assert emb.dtype == torch.float32 and mask.dtype == torch.bool
    assert emb.shape[:2] == mask.shape and emb.shape[0] == 3 and emb.shape[2] == 384
    lengths = mask.sum(1).tolist()
    assert lengths[0] == emb.shape[1] > lengths[2] > lengths[1] >= 1  # padded to the longest
    assert mask[1, : lengths[1]].all() and not mask[1, lengths[1]:].any()  # mask is a prefix
    assert torch.all(emb[~mask] == 0) and torch.isfinite(emb).all()
    assert not emb.requires_grad
    with pytest.raises(InputError):
        minilm.encode("not a list")


def test_truncation_to_max_length():
    enc = TextEncoder(max_length=6, cache_size=0)
    emb, mask = enc.encode(["one two three four five six seven eight nine ten"])
    assert emb.shape[1] == 6 and mask.all()


def test_deterministic_and_cached(minilm):
    prompts = ["a green triangle moves left", "a green triangle moves left", "a cat"]
    calls = minilm.model_calls
    emb1, mask1 = minilm.encode(prompts)
    assert minilm.model_calls == calls + 1  # the duplicate prompt is encoded once
    assert torch.equal(emb1[0], emb1[1])
    emb2, mask2 = minilm.encode(list(reversed(prompts)))
    assert minilm.model_calls == calls + 1  # all from the cache
    assert torch.equal(emb2.flip(0), emb1) and torch.equal(mask2.flip(0), mask1)
    fresh = TextEncoder(cache_size=0)
    emb3, _ = fresh.encode(prompts)
    assert torch.allclose(emb3, emb1, atol=1e-4)


def test_lru_eviction_and_cache_file(minilm, tmp_path):
    small = TextEncoder(cache_size=2)
    small.encode(["a", "b"])
    small.encode(["a"])  # touch a: b becomes least recent
    small.encode(["c"])
    assert small.cached_prompts() == ["a", "c"]
    small.save_cache(tmp_path / "text.safetensors")

    other = TextEncoder(cache_size=2)
    assert other.load_cache(tmp_path / "text.safetensors") == 2
    calls = other.model_calls
    emb, _ = other.encode(["c", "a"])
    assert other.model_calls == calls
    ref, _ = small.encode(["c", "a"])
    assert torch.equal(emb, ref)

    short = TextEncoder(max_length=8)
    with pytest.raises(CheckpointError, match="max_length"):
        short.load_cache(tmp_path / "text.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(CheckpointError):
        other.load_cache(tmp_path / "junk.safetensors")


def test_paraphrases_are_closer_than_unrelated(minilm):
    prompts = [
        "a red ball bounces on the floor",
        "a crimson sphere bouncing on the ground",
        "the stock market fell sharply today",
        "a blue square slides to the left",
        "a small azure box moving leftward",
        "she baked bread for the whole village",
    ]
    emb, mask = minilm.encode(prompts)
    v = torch.nn.functional.normalize(mean_pool(emb, mask), dim=-1)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[0, 1] > sim[1, 2] + 0.2
    assert sim[3, 4] > sim[3, 5] + 0.2 and sim[3, 4] > sim[4, 5] + 0.2


def test_tiny_t5_encoder_decoder_folder(tmp_path):
    from transformers import T5Config, T5ForConditionalGeneration

    src = resolve_encoder_path("minilm")  # borrow its WordPiece tokenizer: no sentencepiece file offline
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(src / name, tmp_path / name)
    torch.manual_seed(0)
    config = T5Config(vocab_size=30522, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=1,
                      num_heads=4, pad_token_id=0, decoder_start_token_id=0)
    T5ForConditionalGeneration(config).save_pretrained(tmp_path)

    enc = TextEncoder(str(tmp_path))
    assert enc.dim == 32 and enc.name == str(tmp_path)
    assert not hasattr(enc.model, "decoder")  # only the encoder is loaded
    emb, mask = enc.encode(["a red ball", "", "a purple star spins slowly"])
    assert emb.shape == (3, mask.shape[1], 32) and mask.sum(1).tolist()[2] == mask.shape[1]
    assert torch.isfinite(emb).all() and emb[0, 0].abs().sum() > 0


def test_unknown_encoder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="local model folder"):
        TextEncoder(str(tmp_path / "nowhere"))


def test_traced_start_up_path_matches_transformers(tmp_path, monkeypatch):
    """The second load uses the saved trace and `tokenizers` (no transformers) and gives the same states."""
    monkeypatch.setenv("CINEGEN_CACHE_DIR", str(tmp_path))
    first = TextEncoder(cache_size=0, max_length=12)
    assert first.backend == "transformers" and list(tmp_path.rglob("*.pt"))
    second = TextEncoder(cache_size=0, max_length=12)
    assert second.backend == "trace" and second.dim == first.dim == 384
    prompts = ["a red ball", "", "A medium pink hexagon falls on a checkered floor. The camera zooms out slowly.", "x"]
    e1, m1 = first.encode(prompts)
    e2, m2 = second.encode(prompts)
    assert torch.equal(m1, m2) and m1.shape[1] == 12  # same tokens, same truncation
    assert torch.allclose(e1, e2, atol=1e-5)


def test_trace_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("CINEGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CINEGEN_TEXT_CACHE", "0")
    TextEncoder(cache_size=0)
    assert TextEncoder(cache_size=0).backend == "transformers" and not list(tmp_path.rglob("*.pt"))


def test_broken_trace_falls_back_to_transformers(tmp_path, monkeypatch):
    from cinegen.text import compiled

    monkeypatch.setenv("CINEGEN_CACHE_DIR", str(tmp_path))
    path = compiled.trace_path(resolve_encoder_path("minilm"))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a torchscript file")
    enc = TextEncoder(cache_size=0)
    assert enc.backend == "transformers" and enc.encode(["a cat"])[0].shape[-1] == 384


def test_an_fp16_copy_named_by_env_stands_in_for_the_wheel(tmp_path, monkeypatch, minilm):
    """CINEGEN_MINILM_DIR (a GPU machine without the wheel): an fp16 copy loads as fp32, name stays
    'minilm', states within fp16 rounding of the wheel's; a folder that is not a model is one clear error."""
    from safetensors.torch import load_file, save_file

    src, copy = resolve_encoder_path("minilm"), tmp_path / "minilm16"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("model.safetensors", "*.bin", "onnx", "openvino"))
    state = load_file(str(src / "model.safetensors"))
    save_file({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, str(copy / "model.safetensors"))
    monkeypatch.setenv("CINEGEN_MINILM_DIR", str(copy))
    monkeypatch.setenv("CINEGEN_TEXT_CACHE", "0")
    enc = TextEncoder(cache_size=0)
    assert enc.name == "minilm" and resolve_encoder_path("minilm") == copy
    prompts = ["A large red circle bounces on a checkered floor.", ""]
    (e16, m16), (e32, m32) = enc.encode(prompts), minilm.encode(prompts)
    assert e16.dtype == torch.float32 and torch.equal(m16, m32)
    assert 0 < (e16 - e32).abs().max() < 2e-2 * e32.abs().max()  # fp16 weights: close, not identical
    monkeypatch.setenv("CINEGEN_MINILM_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="CINEGEN_MINILM_DIR"):
        TextEncoder()
