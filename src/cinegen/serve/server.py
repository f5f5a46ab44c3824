"""`cinegen serve`: the API in this process (uvicorn), the workers in their own."""
from __future__ import annotations

import sys

from cinegen.common.errors import InputError
from cinegen.serve.api import create_app
from cinegen.serve.config import ServeConfig
from cinegen.serve.jobspec import ModelInfo
from cinegen.serve.store import JobStore
from cinegen.serve.supervisor import Supervisor


def run_server(cfg: ServeConfig, log_level: str = "warning") -> None:
    """Serve until interrupted. Jobs left unfinished by a crash run again once workers are up."""
    import uvicorn

    info = ModelInfo.from_dir(cfg.model)  # fail now, not in every worker, if the model is missing
    cfg.data.mkdir(parents=True, exist_ok=True)
    store = JobStore(cfg.db_url)
    app = create_app(cfg, info, store)
    if not cfg.is_loopback:
        print(f"cinegen serve: listening on {cfg.host}, reachable from other machines; every /v1 call needs a key",
              file=sys.stderr)
    supervisor = Supervisor(cfg, store)
    supervisor.start()
    print(f"cinegen serve: http://{cfg.host}:{cfg.port} — model {info.name}, {cfg.workers} worker(s), "
          f"data in {cfg.data}", file=sys.stderr, flush=True)
    try:
        server = uvicorn.Server(uvicorn.Config(app, host=cfg.host, port=cfg.port, log_level=log_level,
                                               access_log=False, timeout_graceful_shutdown=5))
        server.run()
        if not server.started:
            raise InputError(f"cannot listen on {cfg.host}:{cfg.port} (in use, or not an address of this machine)")
    finally:
        supervisor.stop()
        store.close()
