"""The official `openai` client against a live server: the Videos API as old Sora code uses it."""
from __future__ import annotations

import io

import av
import httpx
import numpy as np
import openai
import pytest
from PIL import Image

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the client marks the Sora API deprecated
FAST = {"steps": 2}  # cinegen extras ride along as extra form fields


def client_for(server, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def key(owner_key):
    return owner_key


@pytest.fixture(scope="module")
def client(server, key):
    return client_for(server, key)


@pytest.fixture(scope="module")
def done(done_video):
    return done_video


def decode_mp4(data: bytes) -> tuple[int, int, int, float]:
    """(frames, width, height, fps) of an MP4, decoded with PyAV."""
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        return len(frames), frames[0].shape[1], frames[0].shape[0], float(s.average_rate)


def test_create_and_poll_completes(done, client):
    assert done.status == "completed" and done.progress == 100 and done.error is None
    assert done.model == "cinegen-tiny"  # sora-2 is an alias of the served model
    assert (done.seconds, done.size) == ("1", "32x32")
    assert done.expires_at > done.completed_at >= done.created_at
    again = client.videos.retrieve(done.id)
    assert again.id == done.id and again.status == "completed"


def test_download_all_variants(done, client):
    n, w, h, fps = decode_mp4(client.videos.download_content(done.id).read())
    assert (w, h) == (32, 32) and n / fps == pytest.approx(1.0)
    thumb = Image.open(io.BytesIO(client.videos.download_content(done.id, variant="thumbnail").read()))
    assert thumb.format == "WEBP" and thumb.size == (32, 32)
    sheet = Image.open(io.BytesIO(client.videos.download_content(done.id, variant="spritesheet").read()))
    assert sheet.format == "JPEG" and sheet.size[0] >= 32 and sheet.size[1] >= 32


def test_content_range_requests(done, server, key):
    url, auth = f"{server.url}/v1/videos/{done.id}/content", {"Authorization": f"Bearer {key}"}
    full = httpx.get(url, headers=auth).content
    part = httpx.get(url, headers={**auth, "Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == full[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(full)}"


def test_list_pagination_and_delete(client):
    made = [client.videos.create(prompt=f"a blue square number {i}", seconds="0.5", extra_body=FAST).id
            for i in range(3)]
    first = client.videos.list(limit=2)
    assert len(first.data) == 2 and first.has_more and first.data[0].id == made[-1]  # newest first
    everything = [v.id for v in client.videos.list(limit=2)]  # the client follows `after` page by page
    assert everything[:3] == made[::-1] and len(everything) == len(set(everything))
    ascending = [v.id for v in client.videos.list(limit=100, order="asc")]
    assert ascending == everything[::-1]
    for vid in made:  # deleting queued or running jobs cancels them
        deleted = client.videos.delete(vid)
        assert deleted.deleted and deleted.id == vid and deleted.object == "video.deleted"
        with pytest.raises(openai.NotFoundError):
            client.videos.retrieve(vid)
    assert not set(made) & {v.id for v in client.videos.list(limit=100)}


def test_remix(done, client):
    remix = client.videos.poll(client.videos.remix(done.id, prompt="a green ball bouncing").id, poll_interval_ms=100)
    assert remix.status == "completed", remix.error
    assert remix.remixed_from_video_id == done.id and remix.seconds == "1" and remix.size == "32x32"
    n, w, h, fps = decode_mp4(client.videos.download_content(remix.id).read())
    assert (n, w, h) == (8, 32, 32)


def test_extend_an_uploaded_video(done, client, tmp_path):
    src = tmp_path / "src.mp4"
    src.write_bytes(client.videos.download_content(done.id).read())
    with open(src, "rb") as f:
        ext = client.videos.extend(video=f, prompt="the ball keeps bouncing", seconds="1", extra_body=FAST)
    ext = client.videos.poll(ext.id, poll_interval_ms=100)
    assert ext.status == "completed", ext.error
    assert ext.seconds == "2"  # the stitched total
    n, w, h, fps = decode_mp4(client.videos.download_content(ext.id).read())
    assert (n, w, h) == (16, 32, 32)


def test_edit_a_completed_video_by_id(done, client):
    # The client can only upload files for `video`; a reference to a stored video goes in as video[id].
    edit = client.videos.edit(video=openai.omit, prompt="a yellow ball", extra_body={"video": {"id": done.id}, **FAST})
    edit = client.videos.poll(edit.id, poll_interval_ms=100)
    assert edit.status == "completed", edit.error
    assert edit.remixed_from_video_id == done.id
    n, w, h, fps = decode_mp4(client.videos.download_content(edit.id).read())
    assert (n, w, h) == (8, 32, 32)  # an edit keeps the source's length


def test_image_to_video_uses_the_image(done, client):
    img = np.zeros((48, 64, 3), np.uint8)
    img[:, :, 0] = 255  # a red image, not the tiny model's size: it is fitted to 32x32
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    v = client.videos.create_and_poll(prompt=done.prompt, seconds="1", size="32x32", poll_interval_ms=100,
                                      input_reference=("red.png", buf.getvalue(), "image/png"), extra_body={"seed": 1})
    assert v.status == "completed", v.error

    def first_frame(vid: str) -> np.ndarray:
        with av.open(io.BytesIO(client.videos.download_content(vid).read())) as c:
            return next(c.decode(video=0)).to_ndarray(format="rgb24").astype(float)

    # Same prompt and seed as `done`: only the image condition differs (the tiny VAE is random, so the
    # image itself does not come back out, but it must change what is generated).
    assert np.abs(first_frame(v.id) - first_frame(done.id)).mean() > 10


def test_errors_arrive_as_client_exceptions(server, client):
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="a ball", size="4096x4096")
    assert e.value.body["param"] == "size" and "16 to 1024" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="a ball", seconds="-2")
    assert e.value.body["param"] == "seconds"
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="a ball", model="dall-e-3")
    assert e.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="a ball", extra_body={"steps": "many"})
    assert e.value.body["param"] == "steps"
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="   ")
    assert e.value.body["param"] == "prompt"
    with pytest.raises(openai.AuthenticationError):
        client_for(server, "cg-not-a-key").videos.list()
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("video_does_not_exist")
    with pytest.raises(openai.NotFoundError):
        client.videos.download_content("video_does_not_exist")


def test_queue_and_rate_limits_give_429_with_retry_after(api_only):
    c = client_for(api_only, api_only.key("queue"))
    c.videos.create(prompt="one")
    c.videos.create(prompt="two")
    with pytest.raises(openai.RateLimitError) as e:
        c.videos.create(prompt="three")  # two queued already (this server has no workers)
    assert int(e.value.response.headers["retry-after"]) > 0
    c2 = client_for(api_only, api_only.key("rate"))
    with pytest.raises(openai.RateLimitError) as e:
        for _ in range(40):  # 30 per minute
            c2.videos.list()
    assert int(e.value.response.headers["retry-after"]) >= 1


def test_upload_over_the_limit_is_413(api_only):
    c = client_for(api_only, api_only.key("upload"))
    with pytest.raises(openai.APIStatusError) as e:
        c.videos.create(prompt="a ball", input_reference=("big.png", b"\0" * 100_000, "image/png"))
    assert e.value.status_code == 413 and e.value.body["code"] == "file_too_large"


def test_provenance_check_reads_the_manifest(done, client, tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(client.videos.download_content(done.id).read())
    with open(path, "rb") as f:
        check = client.content_provenance_checks.create(file=f)
    assert check.object == "content_provenance_check"
    assert [r.type for r in check.results] == ["c2pa", "watermark"]
    from cinegen.provenance import ProvenanceSettings

    if ProvenanceSettings.from_env().c2pa:  # outputs are signed: the server finds its own manifest
        assert check.results[0].outcome == "detected" and check.results[0].validation_state in ("valid", "trusted")
    with pytest.raises(openai.BadRequestError):  # not a video
        client.content_provenance_checks.create(file=("notes.txt", b"hello", "text/plain"))
