"""`cinegen serve --model WAN_FOLDER`: the Videos API on a diffusers Wan folder, its defaults read without weights."""
import io

import av
import httpx


def test_a_wan_folder_serves_videos_with_its_own_defaults(wan_server):
    key = wan_server.key("wan")
    headers = {"Authorization": f"Bearer {key}"}
    health = httpx.get(wan_server.url + "/health", timeout=10).json()
    assert health["defaults"]["fps"] == 16.0 and health["defaults"]["sampler"] == "unipc"
    # 9 frames at the folder's 16 fps, 48×32, two steps
    r = httpx.post(wan_server.url + "/v1/videos", headers=headers, timeout=30,
                   data={"prompt": "a red ball bounces", "seconds": "0.5625", "size": "48x32", "steps": "2"})
    assert r.status_code == 200, r.text
    vid = r.json()["id"]
    job = wan_server.finished(vid, headers)
    assert job["status"] == "completed", job
    data = httpx.get(f"{wan_server.url}/v1/videos/{vid}/content", headers=headers, timeout=30).content
    with av.open(io.BytesIO(data)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 9 and frames[0].shape == (32, 48, 3)
    assert "offloaded to the CPU between uses" in wan_server.log.read_text()  # --offload reached the worker
