"""Load on loopback: `cinegen serve` with the tiny random checkpoint.

Phase "idle": status calls while nothing generates (the baseline). Phase "load": N submissions from C
concurrent clients, each then polling its jobs' status while the workers generate: p50/p99 latency of
status calls (goal p99 ≤ 50 ms: generation must never block the API), videos per minute, jobs lost.
Phase "sigkill": the same, with the server and its workers SIGKILLed once midway and restarted.

    python benchmarks/bench_serve.py [--jobs 100] [--clients 20] [--workers 1]

Prints a table and writes benchmarks/results/serve.json.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "serve.json"
JOB = {"seconds": "0.5", "steps": "1"}  # tiny videos: the point is the API under load, not the model
POLL_SECONDS = 0.5  # each client's pause between rounds of status calls (the server suggests 500 ms)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, model: Path, data: Path, workers: int):
        self.cmd = [sys.executable, "-m", "cinegen.cli.serve_cmd", "serve", "--model", str(model), "--data", str(data),
                    "--port", str(free_port()), "--workers", str(workers), "--max-queued", "100000",
                    "--rate-limit", "1000000"]
        self.url = f"http://127.0.0.1:{self.cmd[self.cmd.index('--port') + 1]}"
        self.data, self.proc = data, None

    def start(self) -> float:
        t0 = time.perf_counter()
        log = open(self.data / "server.log", "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited; see {self.data / 'server.log'}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                time.sleep(0.1)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)

    def key(self) -> str:
        from cinegen.serve.store import JobStore

        return JobStore(f"sqlite:///{self.data / 'jobs.db'}").create_key("bench")[1]


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) * 1000 if xs else float("nan")


def run_load(srv: Server, key: str, jobs: int, clients: int, kill_after: int | None = None) -> dict:
    """`clients` threads submit jobs/clients each, then poll them until done (or until the deadline)."""
    auth = {"Authorization": f"Bearer {key}"}
    submit_lat, status_lat, errors = [], [], [0]
    done_at: dict[str, float] = {}
    ids: list[str] = []
    lock = threading.Lock()
    t0 = time.perf_counter()
    killed = threading.Event()

    def client(n: int) -> None:
        mine = []
        with httpx.Client(base_url=srv.url, headers=auth, timeout=10) as c:
            for i in range(n * jobs // clients, (n + 1) * jobs // clients):
                t = time.perf_counter()
                r = c.post("/v1/videos", data={"prompt": f"a red ball, bench job {i}", **JOB})
                submit_lat.append(time.perf_counter() - t)
                r.raise_for_status()
                mine.append(r.json()["id"])
            with lock:
                ids.extend(mine)
            pending = set(mine)
            deadline = time.perf_counter() + 900
            while pending and time.perf_counter() < deadline:
                for vid in list(pending):
                    t = time.perf_counter()
                    try:
                        r = c.get(f"/v1/videos/{vid}")
                    except httpx.HTTPError:  # the server is down (the SIGKILL phase): try again
                        errors[0] += 1
                        time.sleep(0.2)
                        continue
                    status_lat.append(time.perf_counter() - t)
                    if r.status_code == 200 and r.json()["status"] in ("completed", "failed"):
                        pending.discard(vid)
                        with lock:
                            done_at[vid] = time.perf_counter() - t0
                time.sleep(POLL_SECONDS)

    def killer() -> None:
        while len(done_at) < kill_after:
            time.sleep(0.05)
        srv.kill()
        killed.set()
        srv.start()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    if kill_after is not None:
        threads.append(threading.Thread(target=killer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(done_at.values()) if done_at else float("nan")
    completed = 0
    with httpx.Client(base_url=srv.url, headers=auth, timeout=10) as c:
        for vid in ids:
            completed += c.get(f"/v1/videos/{vid}").json()["status"] == "completed"
    outputs = srv.data / "outputs"
    return {
        "jobs": jobs, "clients": clients, "completed": completed, "lost": jobs - completed,
        "output_folders": sum(1 for p in outputs.iterdir() if not p.name.startswith(".")),
        "submit_p50_ms": pct(submit_lat, 50), "submit_p99_ms": pct(submit_lat, 99),
        "status_calls": len(status_lat), "status_p50_ms": pct(status_lat, 50), "status_p99_ms": pct(status_lat, 99),
        "status_max_ms": max(status_lat) * 1000 if status_lat else float("nan"),
        "videos_per_minute": completed / wall * 60, "wall_s": wall, "failed_calls_while_down": errors[0],
        "killed": killed.is_set(),
    }


def idle_status(srv: Server, key: str, n: int = 400) -> dict:
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=srv.url, headers=auth, timeout=10) as c:
        vid = c.post("/v1/videos", data={"prompt": "warm-up", **JOB}).json()["id"]
        while c.get(f"/v1/videos/{vid}").json()["status"] not in ("completed", "failed"):
            time.sleep(0.2)
        lat = []
        for _ in range(n):
            t = time.perf_counter()
            c.get(f"/v1/videos/{vid}")
            lat.append(time.perf_counter() - t)
    return {"status_calls": n, "status_p50_ms": pct(lat, 50), "status_p99_ms": pct(lat, 99)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from cinegen.pipeline.tiny import make_tiny_checkpoint

    results: dict = {"config": {**vars(args), "job": JOB, "cpus": os.cpu_count(),
                                "load_avg_at_start": os.getloadavg()[0]}}
    with tempfile.TemporaryDirectory() as tmp:
        model = make_tiny_checkpoint(Path(tmp) / "model")
        for phase, kill_after in (("load", None), ("sigkill", args.jobs // 2)):
            data = Path(tmp) / phase
            data.mkdir()
            srv = Server(model, data, args.workers)
            try:
                results.setdefault("startup_s", srv.start())
                key = srv.key()
                if phase == "load":
                    results["idle"] = idle_status(srv, key)
                results[phase] = run_load(srv, key, args.jobs, args.clients, kill_after)
            finally:
                srv.stop()
    idle, load = results["idle"], results["load"]
    results["status_p99_ratio_load_vs_idle"] = load["status_p99_ms"] / idle["status_p99_ms"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")

    print(f"cinegen serve on loopback: {args.jobs} jobs, {args.clients} clients, {args.workers} worker(s), "
          f"tiny model, {JOB['seconds']} s videos; load average at start {results['config']['load_avg_at_start']:.1f}")
    print(f"{'phase':<8} {'status p50':>10} {'status p99':>10} {'submit p99':>10} {'videos/min':>10} {'lost':>5}")
    print(f"{'idle':<8} {idle['status_p50_ms']:>8.1f}ms {idle['status_p99_ms']:>8.1f}ms {'':>10} {'':>10} {'':>5}")
    for phase in ("load", "sigkill"):
        r = results[phase]
        print(f"{phase:<8} {r['status_p50_ms']:>8.1f}ms {r['status_p99_ms']:>8.1f}ms {r['submit_p99_ms']:>8.1f}ms "
              f"{r['videos_per_minute']:>10.1f} {r['lost']:>5}")
    print(f"status p99 under load / idle: {results['status_p99_ratio_load_vs_idle']:.2f}×  (goal: p99 ≤ 50 ms)")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
