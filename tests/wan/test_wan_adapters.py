"""The VAE and text adapters against WanPipeline's own steps: same latents, pixels and text states."""
import torch

from cinegen.wan import initial_noise, latent_shape


def test_text_states_equal_wanpipelines(wan_parts, wan_pipe):
    prompts = ["a red ball bounces across a field", ""]
    emb, mask = wan_parts.text.encode(prompts)
    assert emb.shape == (2, 512, wan_parts.text.dim) and emb.dtype == torch.float32
    assert mask.dtype == torch.bool and bool(mask.all())  # Wan attends to the zero padding too
    with torch.no_grad():
        pos, neg = wan_pipe.encode_prompt(prompts[0], prompts[1], max_sequence_length=512, device="cpu")
    assert torch.allclose(emb[:1], pos, atol=1e-6) and torch.allclose(emb[1:], neg, atol=1e-6)
    n = int((emb[0].abs().sum(-1) > 0).sum())
    assert 1 < n < 512 and bool((emb[0, n:] == 0).all())
    assert wan_parts.text.model_calls == 1
    wan_parts.text.encode([prompts[0]])
    assert wan_parts.text.model_calls == 1  # cached


def test_prompt_cleaning_is_wanpipelines(wan_parts):
    a, _ = wan_parts.text.encode(["a  red &amp;amp; blue\n ball "])
    b, _ = wan_parts.text.encode(["a red & blue ball"])
    assert torch.equal(a, b)


def test_noise_is_prepare_latents(wan_parts, wan_pipe):
    shape = latent_shape(wan_parts, 9, 32, 48)
    assert shape == (16, 3, 4, 6)
    ref = wan_pipe.prepare_latents(1, 16, 32, 48, 9, torch.float32, torch.device("cpu"),
                                   torch.Generator("cpu").manual_seed(7))
    assert torch.equal(initial_noise(shape, 7), ref)


def test_vae_decode_and_encode_are_wanpipelines(wan_parts, wan_pipe):
    vae, ref = wan_parts.vae, wan_pipe.vae
    z = torch.randn(1, 16, 3, 4, 6, generator=torch.Generator().manual_seed(0))
    mean = torch.tensor(ref.config.latents_mean).view(1, 16, 1, 1, 1)
    inv_std = 1.0 / torch.tensor(ref.config.latents_std).view(1, 16, 1, 1, 1)
    with torch.no_grad():
        want = ref.decode(z / inv_std + mean, return_dict=False)[0]  # WanPipeline's de-normalisation
        x = vae.decode(z)
        assert x.shape == (1, 3, 9, 32, 48) and torch.equal(x, want)
        z2 = vae.encode(x)
        want_z = (ref.encode(x).latent_dist.mode() - mean) * inv_std  # the image-to-video pipeline's
    assert z2.shape == z.shape and torch.allclose(z2, want_z, atol=1e-6)


def test_vae_streams_equal_whole_calls(wan_parts):
    vae = wan_parts.vae
    z = torch.randn(1, 16, 4, 4, 6, generator=torch.Generator().manual_seed(1))
    whole = vae.decode(z)
    pieces, caches = [], [None]
    for sl in (slice(0, 1), slice(1, 3), slice(3, 4)):  # 1 frame, then 2 latent frames, then 1
        x, cache = vae.decode_chunk(z[:, :, sl], caches[-1])
        pieces.append(x)
        caches.append(cache)
    assert [p.shape[2] for p in pieces] == [1, 8, 4]
    assert torch.allclose(torch.cat(pieces, 2), whole, atol=1e-6)
    again, _ = vae.decode_chunk(z[:, :, 3:4], caches[2])
    assert torch.equal(again, pieces[-1])  # a cache is not changed by the call that uses it
    enc = vae.encode(whole)
    zs, cache = [], None
    for sl in (slice(0, 5), slice(5, 13)):  # 1 + 4 frames, then 8
        zc, cache = vae.encode_chunk(whole[:, :, sl], cache)
        zs.append(zc)
    assert torch.allclose(torch.cat(zs, 2), enc, atol=1e-5)


def test_an_offloaded_text_encoder_gives_the_same_states_and_waits_on_the_cpu(wan_folder, wan_parts):
    from cinegen.wan.text import WanTextEncoder

    text = WanTextEncoder.from_folder(wan_folder, "cpu", offload=True)
    emb, _ = text.encode(["a blue cube slides left"])
    ref, _ = wan_parts.text.encode(["a blue cube slides left"])
    assert torch.equal(emb, ref)
    assert all(p.device.type == "cpu" for p in text.model.parameters())
