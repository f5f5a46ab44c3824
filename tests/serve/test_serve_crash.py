"""A queue that loses nothing: SIGKILL the server and its workers at random moments, restart, and every job
still finishes exactly once."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import av
import httpx
import pytest

from cinegen.serve.outputs import VARIANTS

N_JOBS, ROUNDS = 30, 3


def statuses(url: str, auth: dict) -> dict[str, str]:
    out, after = {}, None
    while True:
        page = httpx.get(url + "/v1/videos", headers=auth, params={"limit": 100, **({"after": after} if after else {})},
                         timeout=10).json()
        out.update({v["id"]: v["status"] for v in page["data"]})
        if not page["has_more"]:
            return out
        after = page["last_id"]


def wait_for(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def worker_pids(server_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server_pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.slow
def test_thirty_jobs_survive_three_sigkills(serve_process):
    rng = random.Random(0)
    srv = serve_process(2, "--max-queued", "100").start()
    auth = {"Authorization": f"Bearer {srv.key('crash')}"}
    ids: list[str] = []
    for rnd in range(ROUNDS):
        for i in range(N_JOBS // ROUNDS):  # submissions spread over the rounds, some while workers load
            r = httpx.post(srv.url + "/v1/videos", headers=auth, timeout=10,
                           data={"prompt": f"a ball, job {len(ids)}", "seconds": "0.5", "steps": "1", "seed": str(i)})
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])
        if rnd == 1:  # once, only a worker dies: the supervisor requeues its job and starts another
            wait_for(lambda: "in_progress" in statuses(srv.url, auth).values(), 120, "a running job")
            os.kill(worker_pids(srv.proc.pid)[0], signal.SIGKILL)
        # a random moment once the workers are busy: mid-sampling, mid-write or between jobs
        wait_for(lambda: "in_progress" in statuses(srv.url, auth).values(), 120, "a running job")
        time.sleep(rng.uniform(0.0, 2.0))
        srv.kill()
        srv.start()
    wait_for(lambda: set(statuses(srv.url, auth).values()) == {"completed"}, 240, "every job to complete")

    final = statuses(srv.url, auth)
    assert sorted(final) == sorted(ids) and set(final.values()) == {"completed"}
    outputs = srv.data / "outputs"
    assert sorted(p.name for p in outputs.iterdir()) == sorted(ids)  # one folder per job, no staging leftovers
    names = sorted(name for name, _ in VARIANTS.values())
    for job in ids:
        assert sorted(p.name for p in (outputs / job).iterdir()) == names  # no temp files, no second copies
        with av.open(str(outputs / job / "video.mp4")) as c:
            assert sum(1 for _ in c.decode(video=0)) == 4  # 0.5 s at 8 fps, whole
