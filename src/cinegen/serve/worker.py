"""A generation worker: its own process, the model loaded once, jobs claimed from the database.

`python -m cinegen.serve.worker CONFIG_JSON` (the supervisor starts these; on another machine point it at
the same PostgreSQL URL and a shared data folder). Each job: claim → generate, writing progress (and so
renewing the lease) as sampling steps finish → publish the files atomically → mark completed. A job
deleted while running is cancelled at its next progress write.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

import numpy as np

from cinegen.common.errors import CinegenError
from cinegen.serve.config import ServeConfig
from cinegen.serve.outputs import publish, remove_job_files, staging_dirs
from cinegen.serve.store import JobStore

POLL_SECONDS = 0.2  # how often an idle worker looks for a job
PROGRESS_EVERY = 0.25  # at most this often a progress write per job
WORKER_NICE = 10


class Cancelled(Exception):
    """The job was deleted, or handed to another worker, while this one ran it."""


def worker_name(tag: str, pid: int | None = None) -> str:
    """host:pid:tag — how a job row records who runs it (the supervisor checks the pid on this host)."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}:{tag}"


def die_with_parent() -> None:
    """Linux: the kernel kills this process when the server that started it dies (even by SIGKILL)."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Lease:
    """Keeps a claimed job's lease alive from a thread and carries progress to the database."""

    def __init__(self, store: JobStore, job: dict, lease_seconds: float):
        self.store, self.id, self.claim, self.lease = store, job["id"], job["claim"], lease_seconds
        self.lost = False
        self._progress, self._written, self._last = 0, 0, 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _beat(self, progress: int | None) -> None:
        with self._lock:
            if not self.store.heartbeat(self.id, self.claim, self.lease, progress):
                self.lost = True

    def _run(self) -> None:
        while not self._stop.wait(self.lease / 4):
            try:
                self._beat(None)
            except Exception as e:  # noqa: BLE001 — a busy database: try again at the next beat
                print(f"lease of {self.id}: {type(e).__name__}: {e}", file=sys.stderr, flush=True)

    def progress(self, i: int, n: int) -> None:
        """The pipeline's progress callback: step i of n. Raises Cancelled when the job is no longer ours."""
        pct = min(99, int(100 * i / max(1, n)))  # 100 only once the files are published
        now = time.monotonic()
        if pct > self._written and now - self._last >= PROGRESS_EVERY:
            self._written, self._last = pct, now
            self._beat(pct)
        if self.lost:
            raise Cancelled()

    def check(self) -> None:
        self._beat(None)
        if self.lost:
            raise Cancelled()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# ---------------------------------------------------------------------------- generation


def _storyboard_progress(progress: Callable[[int, int], None], n_shots: int) -> Callable[[int, int], None]:
    """Each shot reports its own 0..n; a drop in `i` means the next shot started."""
    state = {"shot": 0, "last": 0.0}

    def cb(i: int, n: int) -> None:
        frac = i / max(1, n)
        if frac < state["last"]:
            state["shot"] += 1
        state["last"] = frac
        progress(int(1000 * (min(state["shot"], n_shots - 1) + frac)), 1000 * n_shots)

    return cb


def job_request(params: dict, prompt: str, data: Path):
    """A job's stored fields as the pipeline's typed request, its files read as the CLI reads them."""
    from cinegen.pipeline.run import VideoRequest, read_image, read_source

    mode = params["mode"]
    fps = params.get("fps")
    source = read_source(data / params["source"], fps) if params.get("source") else None
    return VideoRequest(
        mode=mode, prompt=prompt if mode != "storyboard" else None, seconds=params.get("seconds"), fps=fps,
        width=params.get("width"), height=params.get("height"), steps=params.get("steps"),
        guidance=params.get("guidance"), seed=params.get("seed", 0), negative_prompt=params.get("negative_prompt") or "",
        image=read_image(data / params["image"]) if params.get("image") else None,
        video=source, video_b=read_source(data / params["source_b"], fps) if params.get("source_b") else None,
        direction=params.get("direction", "forward"), strength=params.get("strength"),
        source_prompt=params.get("source_prompt"),
        storyboard=_parse_board(params["storyboard"]) if mode == "storyboard" else None,
    )


def generate(pipe, params: dict, prompt: str, data: Path, progress: Callable[[int, int], None]
             ) -> tuple[np.ndarray, float]:
    """Run one job's mode on the pipeline (pipeline/run.py, as the CLI does): (frames (T, H, W, 3) uint8, fps)."""
    from cinegen.pipeline.run import run

    req = job_request(params, prompt, data)
    if req.mode == "storyboard":
        progress = _storyboard_progress(progress, len(req.storyboard.shots))
    res = run(pipe, req, progress=progress).result(prompt)
    return res.frames, res.fps


def _parse_board(text: str):
    from cinegen.serve.jobspec import parse_storyboard_field

    return parse_storyboard_field(text)


def run_job(pipe, store: JobStore, cfg: ServeConfig, job: dict) -> str:
    """Generate, publish and complete one claimed job; returns its final status."""
    for d in staging_dirs(cfg.outputs, job["id"]):  # left by an attempt that was killed mid-write
        shutil.rmtree(d, ignore_errors=True)
    lease = Lease(store, job, cfg.lease_seconds)
    try:
        params = json.loads(job["params"])
        frames, fps = generate(pipe, params, job["prompt"] or "", cfg.data, lease.progress)
        lease.check()
        publish(cfg.outputs, job["id"], job["claim"], frames, fps, job["prompt"] or "", pipe.name)
        seconds = len(frames) / fps
        if store.complete(job["id"], job["claim"], cfg.retention_hours * 3600, seconds=seconds):
            return "completed"
        remove_job_files(cfg.outputs, job["id"])  # deleted between publish and complete
        store.release(job["id"], job["claim"])
        return "cancelled"
    except Cancelled:
        store.release(job["id"], job["claim"])
        return "cancelled"
    except CinegenError as e:  # InputError, OutputError...: the request cannot be made
        store.fail(job["id"], job["claim"], "invalid_request", str(e))
        return "failed"
    except Exception as e:  # noqa: BLE001 — a job's failure must not take the worker down
        traceback.print_exc(file=sys.stderr)
        store.fail(job["id"], job["claim"], "generation_failed", f"{type(e).__name__}: {e}")
        return "failed"
    finally:
        lease.stop()


def serve_forever(cfg: ServeConfig, tag: str = "w", stop: threading.Event | None = None,
                  supervised: bool = False) -> None:
    """Load the model once, then claim and run jobs until `stop` is set (or the parent dies)."""
    import torch

    from cinegen.pipeline import Pipeline

    parent = os.getppid()
    if supervised:
        die_with_parent()
        os.nice(WORKER_NICE)  # the API process goes first for the CPU: generation never starves status calls
    torch.set_num_threads(cfg.torch_threads())
    name = worker_name(tag)
    store = JobStore(cfg.db_url)
    pipe = Pipeline.from_pretrained(cfg.model, offload=cfg.offload)
    note = ", its parts offloaded to the CPU between uses" if pipe.offload else ""
    print(f"worker {name}: model {pipe.name} loaded{note}", file=sys.stderr, flush=True)
    while not (stop is not None and stop.is_set()):
        if supervised and os.getppid() != parent:
            return
        job = store.claim(name, cfg.lease_seconds, cfg.max_attempts)
        if job is None:
            time.sleep(POLL_SECONDS)
            continue
        t0 = time.perf_counter()
        status = run_job(pipe, store, cfg, job)
        print(f"worker {name}: {job['id']} {status} in {time.perf_counter() - t0:.2f} s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m cinegen.serve.worker CONFIG_JSON TAG", file=sys.stderr)
        sys.exit(2)
    cfg = ServeConfig.from_dict(json.loads(argv[0]))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve_forever(cfg, argv[1], supervised=True)
    except CinegenError as e:
        print(f"worker error: {e}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
