"""Live `cinegen serve` processes on loopback, with the tiny random checkpoint."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long serve tests (crash safety); deselect with -m 'not slow'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProc:
    """`cinegen serve` in its own process group, so a SIGKILL takes the server and its workers at once."""

    def __init__(self, model: Path, data: Path, workers: int = 1, *options: str):
        self.model, self.data, self.workers, self.options = model, data, workers, options
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = data / "server.log"
        data.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> "ServerProc":
        cmd = [sys.executable, "-m", "cinegen.cli.serve_cmd", "serve", "--model", str(self.model), "--data",
               str(self.data), "--port", str(self.port), "--workers", str(self.workers), *self.options]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not up after {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the server and every worker."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()

    def finished(self, video_id: str, headers: dict, timeout: float = 120.0) -> dict:
        """Poll a job until it completes or fails; its last state (the caller asserts which)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = httpx.get(f"{self.url}/v1/videos/{video_id}", headers=headers, timeout=30).json()
            if job["status"] in ("completed", "failed"):
                break
            time.sleep(0.1)
        return job

    def key(self, name: str = "") -> str:
        from cinegen.serve.config import ServeConfig
        from cinegen.serve.store import JobStore

        store = JobStore(ServeConfig(data=self.data).db_url)
        try:
            return store.create_key(name)[1]
        finally:
            store.close()


@pytest.fixture(scope="session")
def server(tiny_model, tmp_path_factory):
    """One worker: the full flows (generate, remix, extend, edit, isolation, the web page)."""
    srv = ServerProc(tiny_model, tmp_path_factory.mktemp("serve") / "data", 1).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def api_only(tiny_model, tmp_path_factory):
    """No workers, tight limits: jobs stay queued, so queue limits, rate limits and upload limits show."""
    srv = ServerProc(tiny_model, tmp_path_factory.mktemp("serve-limits") / "data", 0, "--max-queued", "2",
                     "--rate-limit", "30", "--max-upload-mb", "0.05").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def owner_key(server):
    return server.key("owner")


@pytest.fixture(scope="session")
def done_video(server, owner_key):
    """A completed 1-second video of `owner_key`, made through the official client."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import openai

        client = openai.OpenAI(base_url=server.url + "/v1", api_key=owner_key, max_retries=0, timeout=60)
        return client.videos.create_and_poll(
            prompt="a red ball bouncing on a checker floor", model="sora-2", seconds="1", size="32x32",
            poll_interval_ms=100, extra_body={"seed": 1})


@pytest.fixture
def serve_process(tiny_model, tmp_path):
    """Make ServerProc objects (not started) for a test of its own; all are stopped afterwards."""
    made: list[ServerProc] = []

    def make(workers: int = 1, *options: str, data: Path | None = None) -> ServerProc:
        srv = ServerProc(tiny_model, data or tmp_path / f"data{len(made)}", workers, *options)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture(scope="session")
def wan_server(tmp_path_factory):
    """A server on a tiny random diffusers Wan folder (cinegen.wan.tiny), one worker, with --offload (the worker
    keeps the model's parts on the CPU between uses: the flag reaches the worker process)."""
    from cinegen.wan.tiny import make_tiny_wan_folder

    folder = make_tiny_wan_folder(tmp_path_factory.mktemp("wan") / "Wan2.1-T2V-tiny-Diffusers", seed=0)
    srv = ServerProc(folder, tmp_path_factory.mktemp("serve-wan") / "data", 1, "--offload").start()
    yield srv
    srv.stop()
