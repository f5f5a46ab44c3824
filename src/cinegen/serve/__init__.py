"""Serve cinegen over HTTP: OpenAI's Videos API, a job queue that loses nothing, and a web page.

`cinegen serve` runs `server.run_server`: the FastAPI app (api.py) answers in one process and writes
jobs to a database (store.py); workers (worker.py) in their own processes claim them, generate, and
publish files atomically (outputs.py); the supervisor (supervisor.py) restarts dead workers.
"""
from cinegen.serve.config import ServeConfig
from cinegen.serve.store import JobStore

__all__ = ["ServeConfig", "JobStore"]
