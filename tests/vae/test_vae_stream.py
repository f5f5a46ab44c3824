"""Streaming with an explicit cache equals the whole-video pass, and nothing looks ahead in time."""
import pytest
import torch

from cinegen.common.errors import InputError
from cinegen.vae import VideoVAE, vae_tiny


@pytest.fixture(scope="module")
def vae() -> VideoVAE:
    torch.manual_seed(0)
    vae = VideoVAE(vae_tiny()).eval()
    # Fresh time convs are the identity; randomise them so the tests see real temporal mixing.
    with torch.no_grad():
        for name, p in vae.named_parameters():
            if ".time." in name:
                p.normal_(0, 0.2)
    return vae


def _video(t: int, h: int = 16, w: int = 24, b: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, t, h, w, generator=g) * 2 - 1


@torch.no_grad()
def test_chunked_encode_equals_whole(vae):
    x = _video(13)
    whole = vae.encode(x)
    for cuts in ([1, 5, 9, 13], [5, 13], [1, 13]):
        zs, cache, start = [], None, 0
        for end in cuts:
            z, cache = vae.encode_chunk(x[:, :, start:end], cache)
            zs.append(z)
            start = end
        assert torch.allclose(torch.cat(zs, dim=2), whole, atol=1e-5), cuts


@torch.no_grad()
def test_chunked_decode_equals_whole(vae):
    z = torch.randn(2, 16, 5, 2, 3, generator=torch.Generator().manual_seed(1))
    whole = vae.decode(z)
    for chunk in (1, 2, 4):
        pieces = list(vae.decode_stream(z, chunk=chunk))
        assert [p.shape[2] for p in pieces][0] == 1
        assert torch.allclose(torch.cat(pieces, dim=2), whole, atol=1e-5), chunk
    x, cache = vae.decode_chunk(z[:, :, :3], None)  # a first chunk may hold several latent frames
    y, _ = vae.decode_chunk(z[:, :, 3:], cache)
    assert x.shape[2] == 9 and y.shape[2] == 8
    assert torch.allclose(torch.cat([x, y], dim=2), whole, atol=1e-5)


@torch.no_grad()
def test_encode_stream_regroups_any_pieces(vae):
    x = _video(17)
    pieces = [x[:, :, a:b] for a, b in [(0, 3), (3, 4), (4, 11), (11, 17)]]
    zs = list(vae.encode_stream(pieces))
    assert [z.shape[2] for z in zs] == [1, 1, 1, 1, 1]
    assert torch.allclose(torch.cat(zs, dim=2), vae.encode(x), atol=1e-5)
    with pytest.raises(InputError, match="1 \\+ 4k"):
        list(vae.encode_stream([x[:, :, :7]]))


@torch.no_grad()
def test_encoder_is_causal(vae):
    x = _video(13, b=1)
    base = vae.encode(x)
    for k in (1, 4, 5, 9, 12):
        y = x.clone()
        y[:, :, k] = -y[:, :, k]
        changed = vae.encode(y)
        first_hit = (k + 3) // 4  # latent j holds frames 4j-3 .. 4j
        assert torch.equal(changed[:, :, :first_hit], base[:, :, :first_hit]), k
        assert not torch.allclose(changed[:, :, first_hit], base[:, :, first_hit]), k


@torch.no_grad()
def test_decoder_is_causal(vae):
    z = torch.randn(1, 16, 4, 2, 3, generator=torch.Generator().manual_seed(2))
    base = vae.decode(z)
    for j in (1, 2, 3):
        y = z.clone()
        y[:, :, j] += 1.0
        changed = vae.decode(y)
        first_hit = 1 + 4 * (j - 1)  # latent j decodes to frames 4j-3 .. 4j
        assert torch.equal(changed[:, :, :first_hit], base[:, :, :first_hit]), j
        assert not torch.allclose(changed[:, :, first_hit], base[:, :, first_hit]), j


@torch.no_grad()
def test_cache_is_explicit_and_bounded(vae):
    x = _video(25, b=1)
    z, c0 = vae.encode_chunk(x[:, :, :1], None)
    before = {k: v.clone() for k, v in c0.frames.items()}
    _, c1 = vae.encode_chunk(x[:, :, 1:5], c0)
    # The given cache is not modified, and replaying it gives the same result.
    assert all(torch.equal(before[k], c0.frames[k]) for k in before)
    again, _ = vae.encode_chunk(x[:, :, 1:5], c0)
    assert torch.equal(again, vae.encode_chunk(x[:, :, 1:5], c0)[0])
    # Cache size does not grow with length or chunk size.
    _, c2 = vae.encode_chunk(x[:, :, 5:25], c1)
    size = lambda c: sum(v.numel() for v in c.frames.values())  # noqa: E731
    assert size(c1) == size(c2) > 0
    assert c2.n_in == 25


def test_wrong_cache_or_chunk_length_is_rejected(vae):
    with torch.no_grad():
        _, dec_cache = vae.decode_chunk(torch.zeros(1, 16, 1, 2, 2), None)
        _, enc_cache = vae.encode_chunk(torch.zeros(1, 3, 1, 16, 16), None)
        with pytest.raises(InputError, match="cache"):
            vae.encode_chunk(torch.zeros(1, 3, 4, 16, 16), dec_cache)
        with pytest.raises(InputError, match="multiple of 4"):
            vae.encode_chunk(torch.zeros(1, 3, 3, 16, 16), enc_cache)
        with pytest.raises(InputError, match="first chunk"):
            vae.encode_chunk(torch.zeros(1, 3, 4, 16, 16), None)
