"""The job queue and the keys, on SQLite: atomic claims, leases, stale workers, hashing, pagination."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from cinegen.serve.outputs import publish, remove_job_files, staging_dirs, variant_path
from cinegen.serve.store import JobStore


@pytest.fixture
def store(tmp_path):
    s = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield s
    s.close()


def add(store: JobStore, key: str = "key_a", prompt: str = "p") -> dict:
    return store.add_job(key, model="m", seconds="1", size="32x32", prompt=prompt, params={"mode": "text"})


def test_each_job_is_claimed_by_exactly_one_of_many_workers(tmp_path):
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    first = JobStore(url)
    ids = {add(first, prompt=str(i))["id"] for i in range(24)}
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        s = JobStore(url)  # each worker has its own connection, as processes do
        while (job := s.claim(f"w{n}", 30, 5)) is not None:
            with lock:
                claimed.append((job["id"], f"w{n}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i for i, _ in claimed) == sorted(ids)  # every job once, none twice
    assert len({w for _, w in claimed}) >= 1


def test_a_dead_workers_job_runs_again_and_its_late_writes_are_ignored(store):
    job = add(store)
    a = store.claim("host:1:a", lease_seconds=0.2, max_attempts=5)
    assert a["id"] == job["id"] and a["status"] == "in_progress" and a["attempts"] == 1
    assert store.claim("host:2:b", 30, 5) is None  # leased: nobody else may take it
    time.sleep(0.3)  # worker a stopped renewing its lease
    b = store.claim("host:2:b", 30, 5)
    assert b["id"] == job["id"] and b["attempts"] == 2 and b["claim"] != a["claim"]
    assert not store.heartbeat(job["id"], a["claim"], 30, progress=50)  # a's writes are no-ops now
    assert not store.complete(job["id"], a["claim"], 3600)
    assert store.heartbeat(job["id"], b["claim"], 30, progress=40)
    assert store.get_job(job["id"])["progress"] == 40
    assert store.complete(job["id"], b["claim"], 3600, seconds=1.0)
    row = store.get_job(job["id"])
    assert row["status"] == "completed" and row["progress"] == 100 and row["expires_at"] >= row["completed_at"] + 3600


def test_requeue_of_a_dead_worker_and_the_crash_loop_limit(store):
    job = add(store)
    for attempt in range(1, 3):
        claimed = store.claim("host:9:x", 30, max_attempts=2)
        assert claimed["attempts"] == attempt
        assert store.requeue("host:9:x") == 1  # the supervisor saw the worker die
        assert store.get_job(job["id"])["status"] == "queued"
    assert store.claim("host:9:x", 30, max_attempts=2) is None  # killed its worker twice: failed
    row = store.get_job(job["id"])
    assert row["status"] == "failed" and row["error_code"] == "worker_crashed"


def test_deleting_a_running_job_cancels_it(store):
    job = add(store)
    claimed = store.claim("w", 30, 5)
    assert store.delete_job(job["id"], "key_a")
    assert store.get_job(job["id"]) is None
    assert not store.heartbeat(job["id"], claimed["claim"], 30, 10)  # the worker learns at its next write
    store.release(job["id"], claimed["claim"])
    assert job["id"] in store.to_clean()


def test_list_pages_are_per_key_and_ordered(store):
    mine = [add(store, "key_a", str(i))["id"] for i in range(5)]
    add(store, "key_b")
    rows, more = store.list_jobs("key_a", limit=2)
    assert [r["id"] for r in rows] == mine[::-1][:2] and more
    rows, more = store.list_jobs("key_a", after=rows[-1]["id"], limit=10)
    assert [r["id"] for r in rows] == mine[::-1][2:] and not more
    rows, _ = store.list_jobs("key_a", limit=10, order="asc")
    assert [r["id"] for r in rows] == mine
    assert store.list_jobs("key_b", after=mine[0]) is None  # another key's id is not a cursor
    assert store.count_active("key_a") == 5


def test_keys_are_stored_hashed_and_can_be_revoked(store, tmp_path):
    key_id, secret = store.create_key("ci")
    assert secret.startswith("cg-") and len(secret) > 40
    assert store.key_for_secret(secret) == key_id and store.key_for_secret(secret + "x") is None
    assert secret.encode() not in (tmp_path / "jobs.db").read_bytes()
    assert store.revoke_key(key_id) and store.key_for_secret(secret) is None
    assert not store.revoke_key(key_id)


def test_expired_outputs_are_listed_for_cleaning(store):
    job = add(store)
    c = store.claim("w", 30, 5)
    store.complete(job["id"], c["claim"], retention_seconds=1)
    assert job["id"] not in store.to_clean()
    assert job["id"] in store.to_clean(now=time.time() + 5)


def test_publish_is_all_or_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CINEGEN_C2PA", "0")  # signing is provenance's business, tested there
    frames = np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    (tmp_path / ".video_x.dead").mkdir()  # a staging folder left by a killed attempt
    final = publish(tmp_path, "video_x", "tok", frames, 8.0, "p", "m")
    assert sorted(p.name for p in final.iterdir()) == ["spritesheet.jpg", "thumbnail.webp", "video.mp4"]
    assert variant_path(tmp_path, "video_x", "video").stat().st_size > 0
    assert [d.name for d in staging_dirs(tmp_path, "video_x")] == [".video_x.dead"]
    remove_job_files(tmp_path, "video_x")
    assert not any(tmp_path.iterdir())
