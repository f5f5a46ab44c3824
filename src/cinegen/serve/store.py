"""The job queue and the API keys, in one SQL database (SQLite by default, PostgreSQL by URL).

Nothing is lost because the database is the only state: a job row is written before the API answers,
a worker takes one by an atomic claim (one UPDATE ... RETURNING, with FOR UPDATE SKIP LOCKED on
PostgreSQL), renews a lease while it works, and marks it done only after its files are in place. A job
whose worker died (its lease ran out, or the supervisor saw the process end) is queued again; the
`claim` token makes a late write from a presumed-dead worker a no-op.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine

ACTIVE = ("queued", "in_progress")

metadata = MetaData()

keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("hash", String(64), nullable=False, unique=True),  # sha256 of the secret; the secret is never stored
    Column("prefix", String(16), nullable=False),  # first characters, to tell keys apart in `keys list`
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)

jobs = Table(
    "jobs",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # creation order, for listing and the queue
    Column("id", String(64), nullable=False, unique=True),
    Column("key_id", String(32), nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),  # queued | in_progress | completed | failed
    Column("progress", Integer, nullable=False, default=0),
    Column("model", String(100), nullable=False),
    Column("seconds", String(16), nullable=False),
    Column("size", String(16), nullable=False),
    Column("prompt", Text),
    Column("remixed_from", String(64)),
    Column("params", Text, nullable=False),  # JSON: mode, fps, seed, steps, ... (worker.py reads them)
    Column("created_at", Integer, nullable=False),
    Column("completed_at", Integer),
    Column("expires_at", Integer),
    Column("error_code", String(64)),
    Column("error_message", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("claim", String(32)),  # token of the current attempt
    Column("claimed_by", String(200)),  # host:pid:token of the worker running it
    Column("lease_until", Float),
    Column("deleted_at", Float),  # deleted (and cancelled if it was running); hidden from the API
    Column("cleaned_at", Float),  # files removed (deleted or expired)
)


def hash_key(secret: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(secret.encode()).hexdigest()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the workers' progress writes
    cur.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process (not a power cut)
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class JobStore:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                from pathlib import Path

                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ keys
    def create_key(self, name: str = "") -> tuple[str, str]:
        """A new key: (key id, secret). The secret is shown once and stored only as a hash."""
        key_id = "key_" + secrets.token_hex(6)
        secret = "cg-" + secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(insert(keys).values(id=key_id, name=name, hash=hash_key(secret), prefix=secret[:10],
                                          created_at=time.time()))
        return key_id, secret

    def list_keys(self) -> list[dict]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(keys).order_by(keys.c.created_at)).mappings()]

    def revoke_key(self, key_id: str) -> bool:
        with self.engine.begin() as c:
            r = c.execute(update(keys).where(keys.c.id == key_id, keys.c.revoked_at.is_(None))
                          .values(revoked_at=time.time()))
            return r.rowcount > 0

    def key_for_secret(self, secret: str) -> str | None:
        with self.engine.connect() as c:
            row = c.execute(select(keys.c.id).where(keys.c.hash == hash_key(secret), keys.c.revoked_at.is_(None)))
            return row.scalar()

    # ------------------------------------------------------------------ the API's side
    @staticmethod
    def new_id() -> str:
        return "video_" + secrets.token_hex(16)

    def add_job(self, key_id: str, *, model: str, seconds: str, size: str, prompt: str, params: dict,
                remixed_from: str | None = None, job_id: str | None = None) -> dict:
        job_id = job_id or self.new_id()
        with self.engine.begin() as c:
            c.execute(insert(jobs).values(
                id=job_id, key_id=key_id, status="queued", progress=0, model=model, seconds=seconds, size=size,
                prompt=prompt, remixed_from=remixed_from, params=json.dumps(params), created_at=int(time.time()),
                attempts=0,
            ))
        return self.get_job(job_id, key_id)

    def get_job(self, job_id: str, key_id: str | None = None) -> dict | None:
        """The job if it exists, is not deleted and (when key_id is given) belongs to that key."""
        q = select(jobs).where(jobs.c.id == job_id, jobs.c.deleted_at.is_(None))
        if key_id is not None:
            q = q.where(jobs.c.key_id == key_id)
        with self.engine.connect() as c:
            row = c.execute(q).mappings().first()
        return dict(row) if row else None

    def list_jobs(self, key_id: str, after: str | None = None, limit: int = 20, order: str = "desc"
                  ) -> tuple[list[dict], bool] | None:
        """A page of the key's videos, and whether more follow; None when `after` is not one of them."""
        q = select(jobs).where(jobs.c.key_id == key_id, jobs.c.deleted_at.is_(None))
        with self.engine.connect() as c:
            if after is not None:
                seq = c.execute(select(jobs.c.seq).where(jobs.c.id == after, jobs.c.key_id == key_id)).scalar()
                if seq is None:
                    return None
                q = q.where(jobs.c.seq < seq if order == "desc" else jobs.c.seq > seq)
            q = q.order_by(jobs.c.seq.desc() if order == "desc" else jobs.c.seq.asc()).limit(limit + 1)
            rows = [dict(r) for r in c.execute(q).mappings()]
        return rows[:limit], len(rows) > limit

    def count_active(self, key_id: str) -> int:
        with self.engine.connect() as c:
            return c.execute(select(func.count()).select_from(jobs).where(
                jobs.c.key_id == key_id, jobs.c.status.in_(ACTIVE), jobs.c.deleted_at.is_(None))).scalar()

    def delete_job(self, job_id: str, key_id: str) -> bool:
        """Hide the job; a worker running it sees this at its next progress write and stops."""
        with self.engine.begin() as c:
            r = c.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.key_id == key_id,
                                             jobs.c.deleted_at.is_(None)).values(deleted_at=time.time()))
            return r.rowcount > 0

    # ------------------------------------------------------------------ the workers' side
    def claim(self, worker: str, lease_seconds: float, max_attempts: int) -> dict | None:
        """Atomically take the oldest runnable job: queued, or running under a lease that ran out."""
        now = time.time()
        runnable = and_(jobs.c.deleted_at.is_(None), or_(
            jobs.c.status == "queued",
            and_(jobs.c.status == "in_progress", jobs.c.lease_until < now),
        ))
        with self.engine.begin() as c:
            # A job that has killed its worker max_attempts times fails rather than crash-looping.
            c.execute(update(jobs).where(runnable, jobs.c.attempts >= max_attempts).values(
                status="failed", error_code="worker_crashed", claim=None, lease_until=None,
                error_message=f"generation stopped {max_attempts} times without finishing", completed_at=int(now)))
        pick = (select(jobs.c.id).where(runnable).order_by(jobs.c.seq).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery())
        token = secrets.token_hex(8)
        with self.engine.begin() as c:
            row = c.execute(update(jobs).where(jobs.c.id == pick, runnable).values(
                status="in_progress", claim=token, claimed_by=worker, lease_until=now + lease_seconds,
                attempts=jobs.c.attempts + 1, progress=0,
            ).returning(*jobs.c)).mappings().first()
        return dict(row) if row else None

    def _mine(self, job_id: str, claim: str):
        return and_(jobs.c.id == job_id, jobs.c.claim == claim, jobs.c.status == "in_progress",
                    jobs.c.deleted_at.is_(None))

    def heartbeat(self, job_id: str, claim: str, lease_seconds: float, progress: int | None = None) -> bool:
        """Renew the lease (and set progress); False when the job was deleted or given to another worker."""
        values: dict[str, Any] = {"lease_until": time.time() + lease_seconds}
        if progress is not None:
            values["progress"] = progress
        with self.engine.begin() as c:
            return c.execute(update(jobs).where(self._mine(job_id, claim)).values(**values)).rowcount > 0

    def complete(self, job_id: str, claim: str, retention_seconds: float, seconds: float | None = None) -> bool:
        """Done: files are in place. `seconds` is the made duration (an extension's is the stitched total)."""
        now = int(time.time())
        values: dict[str, Any] = {"status": "completed", "progress": 100, "completed_at": now, "lease_until": None,
                                  "expires_at": now + int(retention_seconds) if retention_seconds > 0 else None}
        if seconds is not None:
            values["seconds"] = f"{round(seconds, 3):g}"
        with self.engine.begin() as c:
            return c.execute(update(jobs).where(self._mine(job_id, claim)).values(**values)).rowcount > 0

    def release(self, job_id: str, claim: str) -> None:
        """A cancelled attempt lets go of its job (deleted rows then get their files cleaned)."""
        with self.engine.begin() as c:
            c.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.claim == claim, jobs.c.status == "in_progress")
                      .values(status="failed", error_code="cancelled", error_message="deleted while running",
                              lease_until=None, completed_at=int(time.time())))

    def fail(self, job_id: str, claim: str, code: str, message: str) -> bool:
        with self.engine.begin() as c:
            return c.execute(update(jobs).where(self._mine(job_id, claim)).values(
                status="failed", error_code=code, error_message=message[:2000], completed_at=int(time.time()),
                lease_until=None,
            )).rowcount > 0

    def requeue(self, worker: str) -> int:
        """Queue again every job this (dead) worker was running."""
        with self.engine.begin() as c:
            return c.execute(update(jobs).where(jobs.c.claimed_by == worker, jobs.c.status == "in_progress")
                             .values(status="queued", claim=None, lease_until=None, progress=0)).rowcount

    def running_claims(self) -> list[str]:
        """claimed_by of every running job (the supervisor checks which of these processes are dead)."""
        with self.engine.connect() as c:
            return list(c.execute(select(jobs.c.claimed_by).where(jobs.c.status == "in_progress").distinct())
                        .scalars())

    # ------------------------------------------------------------------ housekeeping
    def to_clean(self, now: float | None = None) -> list[str]:
        """Jobs whose files should go: deleted, or completed and past expires_at."""
        now = time.time() if now is None else now
        with self.engine.connect() as c:
            q = select(jobs.c.id).where(jobs.c.cleaned_at.is_(None), or_(
                and_(jobs.c.deleted_at.is_not(None), jobs.c.status.not_in(ACTIVE)),
                and_(jobs.c.deleted_at.is_not(None), jobs.c.lease_until < now),
                and_(jobs.c.deleted_at.is_not(None), jobs.c.status == "queued"),
                and_(jobs.c.expires_at.is_not(None), jobs.c.expires_at <= now),
            ))
            return list(c.execute(q).scalars())

    def mark_cleaned(self, job_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(jobs).where(jobs.c.id == job_id).values(cleaned_at=time.time()))
