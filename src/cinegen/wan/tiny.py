"""A tiny random-weight Wan2.1 text-to-video folder in diffusers' own layout, for tests and benchmarks.

Every part is built with the classes a real `Wan2.1-T2V-*-Diffusers` folder names in its
model_index.json and written by `WanPipeline.save_pretrained`, so cinegen loads exactly what a
user's download looks like: transformer/ (sharded safetensors + index), vae/, text_encoder/
(UMT5), tokenizer/ (a Unigram tokenizer trained here on a few captions, saved as T5's fast
tokenizer), scheduler/ (UniPC with flow sigmas, as Wan ships it).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from cinegen.wan.folder import require_wan_deps

TEXT_DIM = 32  # the UMT5 width, and so the transformer's text_dim
SHARD_SIZE = "60KB"  # small enough that the ~150 KB transformer is written in several shards
FLOW_SHIFT = 3.0  # Wan2.1 at 480p

_CORPUS = [
    "a red ball bounces across a green field",
    "a cat walks slowly along the beach at sunset",
    "the camera pans left over a city at night",
    "two dogs run and jump in the fresh snow",
    "a blue car drives down a long empty road",
    "waves crash on rocks under a grey sky",
    "a small bird flies between the trees in spring",
    "an old man reads a book beside the window",
]


def _tokenizer(folder: Path):
    """A Unigram tokenizer trained on _CORPUS, wrapped as transformers' T5 fast tokenizer (pad 0, eos 1, unk 2)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import T5TokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(_CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    folder.mkdir(parents=True, exist_ok=True)
    tok.save(str(folder / "tokenizer.json"))
    return T5TokenizerFast(tokenizer_file=str(folder / "tokenizer.json"), pad_token="<pad>", eos_token="</s>",
                           unk_token="<unk>", extra_ids=0, model_max_length=512)


def _randomise(module: torch.nn.Module, scale: float) -> None:
    """Perturb every weight, norms included, so no path of the network hides behind a zero or a one."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn_like(p) * scale)


def tiny_components(seed: int = 0) -> dict[str, Any]:
    """The parts of a tiny Wan2.1 T2V pipeline, built with diffusers' and transformers' classes (random weights).

    Sizes: transformer 2 blocks of width 32 (2 heads × 16), VAE base_dim 8 (4× time, 8× space, 16
    latent channels), UMT5 2 layers of width 32. Any 1 + 4k frames at multiples of 16 pixels work.
    """
    require_wan_deps()
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = _tokenizer(Path(tmp))
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=16, in_channels=16, out_channels=16,
        text_dim=TEXT_DIM, freq_dim=32, ffn_dim=64, num_layers=2, cross_attn_norm=True, eps=1e-6,
        rope_max_seq_len=32,
    )
    _randomise(transformer, 0.3)  # large enough that the prompt visibly changes the video
    vae = AutoencoderKLWan(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    _randomise(vae, 0.02)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=len(tokenizer), d_model=TEXT_DIM, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=32, dropout_rate=0.0,
        feed_forward_proj="gated-gelu", pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
    ))
    return {"transformer": transformer.eval(), "vae": vae.eval(), "text_encoder": text_encoder.eval(),
            "tokenizer": tokenizer, "scheduler": wan_scheduler()}


def wan_scheduler(flow_shift: float = FLOW_SHIFT):
    """UniPCMultistepScheduler as Wan2.1's diffusers folders configure it."""
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=flow_shift, num_train_timesteps=1000,
        solver_order=2, solver_type="bh2", predict_x0=True, lower_order_final=True, final_sigmas_type="zero",
        timestep_spacing="linspace",
    )


def make_tiny_wan_folder(path: str | os.PathLike, seed: int = 0) -> Path:
    """Write a tiny random Wan2.1 T2V folder (tiny_components) at `path` with diffusers' save_pretrained; returns it.

    The transformer and the text encoder are written in several shards with an index, as large models are.
    """
    from diffusers import WanPipeline

    path = Path(path)
    parts = tiny_components(seed)
    WanPipeline(**parts).save_pretrained(path, safe_serialization=True)
    for name in ("transformer", "text_encoder"):
        shutil.rmtree(path / name)
        parts[name].save_pretrained(path / name, max_shard_size=SHARD_SIZE, safe_serialization=True)
    return path
