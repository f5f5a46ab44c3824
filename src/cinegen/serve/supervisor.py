"""Worker processes and housekeeping for one server.

The supervisor starts N workers (`python -m cinegen.serve.worker`), restarts any that die and queues
their jobs again at once (no need to wait for the lease), finds jobs left running by workers of an
earlier server on this machine that was killed, and removes the files of deleted and expired videos.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time

from cinegen.serve.config import ServeConfig
from cinegen.serve.outputs import remove_job_files, remove_uploads
from cinegen.serve.store import JobStore
from cinegen.serve.worker import worker_name

CHECK_SECONDS = 0.5
CLEAN_SECONDS = 60.0
RESTART_BACKOFF = (0.5, 1, 2, 5, 10, 30)  # seconds before restarting a worker that keeps dying


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def requeue_orphans(store: JobStore, live: set[str]) -> int:
    """Queue again the running jobs of workers on this machine whose process is gone."""
    host, n = socket.gethostname(), 0
    for claimed_by in store.running_claims():
        parts = (claimed_by or "").rsplit(":", 2)
        if claimed_by in live or len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if not pid_alive(int(parts[1])):
            n += store.requeue(claimed_by)
    return n


def clean(store: JobStore, cfg: ServeConfig) -> int:
    """Delete the files of deleted and expired videos."""
    ids = store.to_clean()
    for job_id in ids:
        remove_job_files(cfg.outputs, job_id)
        remove_uploads(cfg.uploads, job_id)
        store.mark_cleaned(job_id)
    return len(ids)


class Supervisor:
    def __init__(self, cfg: ServeConfig, store: JobStore):
        self.cfg, self.store = cfg, store
        self.procs: dict[int, tuple[subprocess.Popen, str]] = {}  # slot → (process, worker name)
        self.deaths: dict[int, list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cinegen-supervisor", daemon=True)

    def _spawn(self, slot: int) -> None:
        tag = f"w{slot}"
        proc = subprocess.Popen([sys.executable, "-m", "cinegen.serve.worker", json.dumps(self.cfg.to_dict()), tag],
                                stdin=subprocess.DEVNULL)
        self.procs[slot] = (proc, worker_name(tag, proc.pid))

    def start(self) -> None:
        requeue_orphans(self.store, set())
        for slot in range(self.cfg.workers):
            self._spawn(slot)
        self._thread.start()

    def live_names(self) -> set[str]:
        return {name for proc, name in self.procs.values() if proc.poll() is None}

    def _run(self) -> None:
        last_clean = 0.0
        while not self._stop.wait(CHECK_SECONDS):
            try:
                for slot, (proc, name) in list(self.procs.items()):
                    if proc.poll() is None:
                        continue
                    n = self.store.requeue(name)
                    print(f"cinegen serve: worker {name} exited ({proc.returncode}); {n} job(s) queued again",
                          file=sys.stderr, flush=True)
                    recent = [t for t in self.deaths.get(slot, []) if time.time() - t < 300] + [time.time()]
                    self.deaths[slot] = recent
                    delay = RESTART_BACKOFF[min(len(recent) - 1, len(RESTART_BACKOFF) - 1)]
                    if self._stop.wait(delay):
                        return
                    self._spawn(slot)
                if time.monotonic() - last_clean > CLEAN_SECONDS:
                    last_clean = time.monotonic()
                    requeue_orphans(self.store, self.live_names())
                    clean(self.store, self.cfg)
            except Exception as e:  # noqa: BLE001 — a database hiccup must not stop supervision
                print(f"cinegen serve: supervisor: {type(e).__name__}: {e}", file=sys.stderr, flush=True)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc, name in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self.store.requeue(name)  # a job cut off by shutdown runs again at the next start
