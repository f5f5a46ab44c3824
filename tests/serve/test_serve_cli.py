"""`cinegen keys create|list|revoke` and the serve command's settings checks."""
from __future__ import annotations

import typer
from typer.testing import CliRunner

from cinegen.cli.serve_cmd import keys_app, serve_command
from cinegen.serve.store import JobStore


def app() -> typer.Typer:
    a = typer.Typer()
    a.command("serve")(serve_command)
    a.add_typer(keys_app, name="keys")
    return a


def test_keys_create_list_revoke(tmp_path):
    runner = CliRunner()
    made = runner.invoke(app(), ["keys", "create", "--data", str(tmp_path), "--name", "studio"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]  # the key is the last line
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    key_id = store.key_for_secret(secret)
    assert key_id is not None
    listed = runner.invoke(app(), ["keys", "list", "--data", str(tmp_path)])
    assert key_id in listed.stdout and "studio" in listed.stdout and secret not in listed.stdout
    assert runner.invoke(app(), ["keys", "revoke", key_id, "--data", str(tmp_path)]).exit_code == 0
    assert store.key_for_secret(secret) is None
    assert "REVOKED" in runner.invoke(app(), ["keys", "list", "--data", str(tmp_path)]).stdout


def test_serve_refuses_bad_settings_before_starting(tmp_path):
    from cinegen.common.errors import CinegenError

    result = CliRunner().invoke(app(), ["serve", "--data", str(tmp_path), "--port", "70000"])
    assert isinstance(result.exception, CinegenError) and "port" in str(result.exception)
    result = CliRunner().invoke(app(), ["serve", "--data", str(tmp_path), "--model", str(tmp_path / "none")])
    assert isinstance(result.exception, CinegenError) and "no model" in str(result.exception)
