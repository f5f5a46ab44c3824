"""`cinegen serve` and `cinegen keys create|list|revoke`.

main.py mounts `serve_command` as `cinegen serve` and `keys_app` as `cinegen keys`; `python -m
cinegen.cli.serve_cmd serve|keys ...` runs them on their own.
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from cinegen.common.errors import CinegenError

DATA_HELP = "folder for the job database, uploads and outputs (default: the user's data folder)"
DB_HELP = "database URL (default: SQLite in --data); postgresql://... lets workers on several machines share jobs"


def _config(data: Optional[Path], database_url: Optional[str], **kw):
    from cinegen.serve.config import ServeConfig

    return ServeConfig(**({"data": data} if data is not None else {}), database_url=database_url, **kw)


def serve_command(
    model: Optional[Path] = typer.Option(None, "--model", help="checkpoint folder; default: the shipped model"),
    offload: bool = typer.Option(False, "--offload", help="workers keep the model's parts on the CPU and bring each "
                                 "to the GPU only while it runs (less GPU memory, slower)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (localhost unless told otherwise)"),
    port: int = typer.Option(8000, "--port"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    workers: int = typer.Option(1, "--workers", help="generation processes (each loads the model once)"),
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
    retention_hours: float = typer.Option(24.0 * 7, "--retention-hours", help="delete outputs this long after "
                                          "completion (sets expires_at); 0 keeps them"),
    max_queued: int = typer.Option(20, "--max-queued", help="queued + running videos per key"),
    rate_limit: int = typer.Option(600, "--rate-limit", help="requests per minute per key"),
    max_upload_mb: float = typer.Option(50.0, "--max-upload-mb", help="largest request body"),
) -> None:
    """Serve OpenAI's Videos API (/v1/videos) and a web page (/) from this machine."""
    from cinegen.serve.server import run_server

    cfg = _config(data, database_url, model=model, offload=offload, host=host, port=port, workers=workers,
                  retention_hours=retention_hours, max_queued_per_key=max_queued, requests_per_minute=rate_limit,
                  max_upload_bytes=int(max_upload_mb * 2**20))
    run_server(cfg)


keys_app = typer.Typer(no_args_is_help=True, help="API keys for `cinegen serve` (stored hashed in --data).")


@keys_app.command("create")
def keys_create(
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    name: str = typer.Option("", "--name", help="a label to tell keys apart"),
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Make a key; it is printed once, as the last line, and only its hash is kept."""
    from cinegen.serve.store import JobStore

    store = JobStore(_config(data, database_url).db_url)
    key_id, secret = store.create_key(name)
    typer.echo(f"created {key_id}{f' ({name})' if name else ''}; keep the key, it is not shown again:", err=True)
    typer.echo(secret)


@keys_app.command("list")
def keys_list(
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Every key: id, name, first characters, created, revoked."""
    from cinegen.serve.store import JobStore

    rows = JobStore(_config(data, database_url).db_url).list_keys()
    if not rows:
        typer.echo("no keys; make one with `cinegen keys create`")
    for r in rows:
        when = datetime.fromtimestamp(r["created_at"]).strftime("%Y-%m-%d %H:%M")
        revoked = "  REVOKED" if r["revoked_at"] else ""
        typer.echo(f"{r['id']}  {r['prefix']}…  {when}  {r['name']}{revoked}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="the key's id (key_...) from `cinegen keys list`"),
    data: Optional[Path] = typer.Option(None, "--data", help=DATA_HELP),
    database_url: Optional[str] = typer.Option(None, "--database-url", help=DB_HELP),
) -> None:
    """Revoke a key: every later call with it gets 401."""
    from cinegen.serve.store import JobStore

    if not JobStore(_config(data, database_url).db_url).revoke_key(key_id):
        raise CinegenError(f"no active key {key_id}; see `cinegen keys list`")
    typer.echo(f"revoked {key_id}")


def main() -> None:
    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")
    try:
        app()
    except CinegenError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
