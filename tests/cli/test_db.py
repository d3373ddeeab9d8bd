"""``spyglass db``: update from local sources, status, export and import, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from spyglass.cli.db import app
from spyglass.cli.exitcodes import ExitCode

runner = CliRunner()


@pytest.fixture
def sources(testdata: Path) -> list[str]:
    advisories = testdata / "advisories"
    return [
        "--feed", "osv/crates.io", "--feed", "cisa/kev",
        "--source", f"osv/crates.io={advisories / 'osv-crates/crates'}",
        "--source", f"cisa/kev={advisories / 'kev/known_exploited_vulnerabilities.json'}",
    ]  # fmt: skip


@pytest.mark.realdata
def test_update_status_export_import(
    sources: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, ["update", *sources])
    assert result.exit_code == 0, result.output
    assert "osv/crates.io: updated (1206 records" in result.output
    assert "cisa/kev: updated (1404 records" in result.output

    again = runner.invoke(app, ["update", *sources])
    assert again.exit_code == 0 and "unchanged" in again.output

    status = runner.invoke(app, ["status"], env={"COLUMNS": "200"})
    assert status.exit_code == 0
    assert "osv/crates.io" in status.output and "1206" in status.output and "1404" in status.output

    bundle = tmp_path / "vulndb.tar.gz"
    assert runner.invoke(app, ["export", str(bundle)]).exit_code == 0
    monkeypatch.setenv("SPYGLASS_DATA_DIR", str(tmp_path / "elsewhere"))
    imported = runner.invoke(app, ["import", str(bundle)])
    assert imported.exit_code == 0 and "osv/crates.io: imported 1206 records" in imported.output


def test_status_without_data_says_what_to_do() -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == ExitCode.DATA
    assert "spyglass db update" in result.output


def test_unknown_feed_is_a_usage_error() -> None:
    result = runner.invoke(app, ["update", "--feed", "osv/Nope"])
    assert result.exit_code == ExitCode.USAGE and "unknown feed" in result.output


def test_bad_source_option() -> None:
    result = runner.invoke(app, ["update", "--source", "no-equals-sign"])
    assert result.exit_code == ExitCode.USAGE


def test_failed_feed_exits_with_data_code(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["update", "--feed", "cisa/kev", "--source", f"cisa/kev={tmp_path / 'none.json'}"]
    )
    assert result.exit_code == ExitCode.DATA
    assert "cisa/kev: failed" in result.output


def test_import_of_junk(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"junk")
    result = runner.invoke(app, ["import", str(junk)])
    assert result.exit_code == ExitCode.DATA and "cannot be read" in result.output
