"""Settings of `cinegen serve`: one frozen dataclass, checked once, handed to every part."""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from cinegen.common.errors import InputError


def default_data_dir() -> Path:
    """The user's data folder (~/.local/share/cinegen/serve on Linux)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("cinegen", appauthor=False)) / "serve"


@dataclass(frozen=True)
class ServeConfig:
    data: Path = field(default_factory=default_data_dir)  # job database, uploads, outputs
    model: Path | None = None  # checkpoint folder; None = the model shipped with cinegen
    offload: bool = False  # workers keep the model's parts on the CPU between uses (Pipeline offload)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1  # generation processes, each with its own copy of the model
    database_url: str | None = None  # None: SQLite in `data`; postgresql://... for workers on several machines
    retention_hours: float = 24.0 * 7  # outputs are deleted this long after completion; 0 keeps them forever
    max_queued_per_key: int = 20  # queued + running jobs one key may have
    requests_per_minute: int = 600  # per key, all /v1 calls
    max_upload_bytes: int = 50 * 1024 * 1024
    lease_seconds: float = 60.0  # a job whose worker stops renewing its lease this long is run again
    max_attempts: int = 8  # a job that kills its worker this many times fails instead of looping
    threads_per_worker: int = 0  # torch threads in each worker; 0 = cores / workers

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", Path(self.data).expanduser())
        if self.model is not None:
            object.__setattr__(self, "model", Path(self.model).expanduser())
        if not 0 <= self.port <= 65535:
            raise InputError(f"port must be from 0 to 65535, got {self.port}")
        if not 0 <= self.workers <= 64:
            raise InputError(f"workers must be from 0 to 64, got {self.workers}")
        if self.retention_hours < 0:
            raise InputError(f"retention must be 0 (keep forever) or more hours, got {self.retention_hours}")
        for name in ("max_queued_per_key", "requests_per_minute", "max_upload_bytes", "max_attempts"):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        if self.lease_seconds < 2:
            raise InputError(f"lease must be at least 2 seconds, got {self.lease_seconds}")
        if self.threads_per_worker < 0:
            raise InputError(f"threads per worker must be 0 (automatic) or more, got {self.threads_per_worker}")
        url = self.db_url
        if not (url.startswith("sqlite") or url.startswith("postgresql")):
            raise InputError(f"database URL must be sqlite:///PATH or postgresql://..., got {url!r}")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data / 'jobs.db'}"

    @property
    def outputs(self) -> Path:
        return self.data / "outputs"

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"

    @property
    def is_loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    def torch_threads(self) -> int:
        if self.threads_per_worker:
            return self.threads_per_worker
        return max(1, (os.cpu_count() or 1) // max(1, self.workers))

    def with_(self, **changes) -> "ServeConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-able, for handing to worker processes: every field, paths as strings."""
        return {f.name: str(v) if isinstance(v := getattr(self, f.name), Path) else v for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "ServeConfig":
        return cls(**d)
