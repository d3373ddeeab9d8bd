"""``spyglass db upgrade``, ``token``, ``serve`` and ``worker`` as a person runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from spyglass.cli.main import app
from tests.helpers.registry import free_port

runner = CliRunner()
SPYGLASS = [sys.executable, "-c", "from spyglass.cli.main import main; main()"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_")}
    return {**env, "SPYGLASS_DATA_DIR": str(tmp_path)}


def test_outdated_schema_is_refused_until_db_upgrade(tmp_path: Path) -> None:
    env = _env(tmp_path)
    for command in (["serve"], ["worker"], ["token", "create", "--role", "admin"]):
        refused = runner.invoke(app, command, env=env)
        assert refused.exit_code == 4, (command, refused.output)
        assert "run `spyglass db upgrade`" in refused.output
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0 and "schema at revision" in upgraded.output
    created = runner.invoke(app, ["token", "create", "--role", "viewer", "--name", "ci"], env=env)
    assert created.exit_code == 0 and created.output.startswith("spy_")
    listed = runner.invoke(app, ["token", "list"], env=env)
    assert "ci" in listed.output and created.output.strip() not in listed.output
    assert runner.invoke(app, ["token", "revoke", "1"], env=env).exit_code == 0
    assert runner.invoke(app, ["token", "revoke", "1"], env=env).exit_code == 2
    assert runner.invoke(app, ["token", "create", "--role", "root"], env=env).exit_code == 2


def test_bad_queue_url_is_a_usage_error(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "SPYGLASS_QUEUE_URL": "amqp://nope"}
    result = runner.invoke(app, ["worker"], env=env)
    assert result.exit_code == 2 and "not a Redis URL" in result.output


def test_serve_answers_and_stops_on_interrupt(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    token = runner.invoke(app, ["token", "create", "--role", "admin"], env=env).output.strip()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([*SPYGLASS, "serve", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "database": "ok", "queue": "sqlite"}
        listed = httpx.get(f"{base}/api/v1/images", timeout=5,
                           headers={"Authorization": f"Bearer {token}"})
        assert listed.json()["total"] == 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
