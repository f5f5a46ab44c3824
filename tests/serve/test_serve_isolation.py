"""A key sees only its own videos: another key's id is 404 everywhere, and absent from its list."""
from __future__ import annotations

import httpx
import openai
import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_a_second_key_cannot_touch_the_first_keys_videos(server, owner_key, done_video):
    other = openai.OpenAI(base_url=server.url + "/v1", api_key=server.key("intruder"), max_retries=0)
    vid = done_video.id
    with pytest.raises(openai.NotFoundError):
        other.videos.retrieve(vid)
    for variant in ("video", "thumbnail", "spritesheet"):
        with pytest.raises(openai.NotFoundError):
            other.videos.download_content(vid, variant=variant)
    with pytest.raises(openai.NotFoundError):
        other.videos.delete(vid)
    with pytest.raises(openai.NotFoundError):
        other.videos.remix(vid, prompt="steal it")
    with pytest.raises(openai.NotFoundError):
        other.videos.extend(video=openai.omit, prompt="x", seconds="1", extra_body={"video": {"id": vid}})
    assert other.videos.list(limit=100).data == []
    with pytest.raises(openai.BadRequestError):  # nor use its ids as a list cursor
        other.videos.list(after=vid)
    # ... while the owner still has everything.
    owner = openai.OpenAI(base_url=server.url + "/v1", api_key=owner_key, max_retries=0)
    assert owner.videos.retrieve(vid).status == "completed"
    assert len(owner.videos.download_content(vid).read()) > 0
    assert vid in {v.id for v in owner.videos.list(limit=100)}


def test_every_v1_call_needs_a_key(server, done_video):
    for method, path in (("GET", "/v1/videos"), ("GET", f"/v1/videos/{done_video.id}"),
                         ("GET", f"/v1/videos/{done_video.id}/content"), ("DELETE", f"/v1/videos/{done_video.id}"),
                         ("POST", "/v1/videos")):
        r = httpx.request(method, server.url + path)
        assert r.status_code == 401, path
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    assert httpx.get(server.url + "/v1/videos", headers={"Authorization": "Bearer cg-wrong"}).status_code == 401
