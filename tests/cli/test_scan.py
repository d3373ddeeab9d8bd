"""`spyglass scan` through Typer's CliRunner: findings, filters, exit codes, no data, bad store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from spyglass.cli.main import app
from spyglass.report.json_report import json_schema
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.model import (
    UNFIXED,
    Advisory,
    AdvisoryId,
    Affected,
    Event,
    Exploited,
    FeedData,
    Range,
)
from spyglass.vulndb.store import VulnStore
from tests.helpers.images import build_image, write_oci_layout

OS_RELEASE = (
    b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.10.9\nPRETTY_NAME="Alpine Linux v3.10"\n'
)
APK_DB = b"""P:busybox
V:1.30.1-r1
A:x86_64
o:busybox

P:ssl_client
V:1.30.1-r1
A:x86_64
o:busybox

P:zlib
V:1.2.11-r1
A:x86_64
o:zlib

"""
JINJA = b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.10\n"
SITE = "usr/lib/python3.7/site-packages"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def image(tmp_path: Path) -> str:
    """An Alpine 3.10 image with busybox (two binaries), zlib and Jinja2 2.10, as an OCI layout."""
    layer = {
        "etc/os-release": OS_RELEASE,
        "lib/apk/db/installed": APK_DB,
        f"{SITE}/Jinja2-2.10.dist-info/METADATA": JINJA,
    }
    return f"oci:{write_oci_layout(build_image([layer]), tmp_path / 'layout')}"


def _range(fixed: str | None) -> tuple[Range, ...]:
    return (
        Range("ECOSYSTEM", (Event("introduced", "0"), *([Event("fixed", fixed)] if fixed else []))),
    )


@pytest.fixture
def store() -> Iterator[VulnStore]:
    """The default store (SPYGLASS_DATA_DIR is per test): secdb, PyPI and KEV data."""
    opened = VulnStore.open()
    secdb = FeedData(
        (Advisory(AdvisoryId("CVE-2019-5747"), "alpine/secdb"),),
        (
            Affected(
                AdvisoryId("CVE-2019-5747"), "apk", "alpine:3.10", "busybox", _range("1.30.1-r2")
            ),
        ),
    )
    pypi = FeedData(
        (
            Advisory(
                AdvisoryId("PYSEC-2019-217"),
                "osv/PyPI",
                ("CVE-2019-10906",),
                severity="high",
                summary="sandbox escape",
            ),
            Advisory(AdvisoryId("PYSEC-2099-1"), "osv/PyPI", severity="critical", summary="no fix"),
        ),
        (
            Affected(AdvisoryId("PYSEC-2019-217"), "pypi", None, "jinja2", _range("2.10.1")),
            Affected(
                AdvisoryId("PYSEC-2099-1"), "pypi", None, "jinja2", _range(None), state=UNFIXED
            ),
        ),
    )
    for name, data in (
        ("alpine/secdb", secdb),
        ("osv/PyPI", pypi),
        ("cisa/kev", FeedData(exploited=(Exploited("CVE-2019-10906"),))),
    ):
        opened.replace(name, data, FetchState(1), "test")
    yield opened
    opened.close()


def scan_json(runner: CliRunner, image: str, *flags: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["scan", image, "--format", "json", *flags])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_json_report_lists_findings_and_validates(
    runner: CliRunner, image: str, store: VulnStore
) -> None:
    code, report = scan_json(runner, image)
    assert code == 0
    jsonschema.validate(report, json_schema())
    found = {(f["package"]["name"], f["id"], f["state"], f["severity"]) for f in report["findings"]}
    assert found == {
        ("busybox", "CVE-2019-5747", "fixed", "unknown"),
        ("ssl_client", "CVE-2019-5747", "fixed", "unknown"),
        ("Jinja2", "CVE-2019-10906", "fixed", "high"),
        ("Jinja2", "PYSEC-2099-1", "unfixed", "critical"),
    }
    jinja = next(f for f in report["findings"] if f["id"] == "CVE-2019-10906")
    assert jinja["known_exploited"] and jinja["fixed_versions"] == ["2.10.1"]
    assert jinja["package"]["path"] == f"{SITE}/Jinja2-2.10.dist-info/METADATA"
    assert jinja["package"]["layer"] == report["layers"][0]["diff_id"]
    assert {f["name"] for f in report["vulnerability_data"]["feeds"]} == {
        "alpine/secdb",
        "osv/PyPI",
        "cisa/kev",
    }


def test_severity_filter_is_case_insensitive(
    runner: CliRunner, image: str, store: VulnStore
) -> None:
    _, report = scan_json(runner, image, "--severity", "HIGH,Critical")
    assert sorted(f["id"] for f in report["findings"]) == ["CVE-2019-10906", "PYSEC-2099-1"]
    _, report = scan_json(runner, image, "--severity", "high", "--severity", "unknown")
    assert len(report["findings"]) == 3


def test_ignore_unfixed(runner: CliRunner, image: str, store: VulnStore) -> None:
    _, report = scan_json(runner, image, "--ignore-unfixed")
    assert all(f["state"] == "fixed" for f in report["findings"]) and len(report["findings"]) == 3


def test_exit_code_when_findings_remain_after_filters(
    runner: CliRunner, image: str, store: VulnStore
) -> None:
    assert scan_json(runner, image, "--exit-code", "7")[0] == 7
    assert scan_json(runner, image, "--exit-code", "1", "--severity", "CRITICAL")[0] == 1
    # the only critical finding has no fix: nothing remains, so the gate passes
    assert (
        scan_json(runner, image, "--exit-code", "1", "--severity", "CRITICAL", "--ignore-unfixed")[
            0
        ]
        == 0
    )
    assert scan_json(runner, image, "--severity", "LOW", "--exit-code", "3")[0] == 0


def test_unknown_severity_is_a_usage_error(runner: CliRunner, image: str, store: VulnStore) -> None:
    result = runner.invoke(app, ["scan", image, "--severity", "HIGH,SEVERE"])
    assert result.exit_code == 2
    assert "unknown severity severe" in result.stderr and "CRITICAL" in result.stderr


def test_exit_code_out_of_range_is_a_usage_error(runner: CliRunner, image: str) -> None:
    assert runner.invoke(app, ["scan", image, "--exit-code", "256"]).exit_code == 2


def test_table_shows_findings(runner: CliRunner, image: str, store: VulnStore) -> None:
    result = runner.invoke(app, ["scan", image], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "4 vulnerabilities (1 critical, 1 high)" in result.stdout
    assert "CVE-2019-10906 (exploited)" in result.stdout
    assert "no fix yet" in result.stdout and "1.30.1-r2" in result.stdout


def test_without_data_lists_packages_and_says_how_to_get_data(
    runner: CliRunner, image: str
) -> None:
    result = runner.invoke(app, ["scan", image, "--format", "json", "--exit-code", "1"])
    assert result.exit_code == 0
    assert (
        "no vulnerability data; run `spyglass db update` or `spyglass db import`" in result.stderr
    )
    report = json.loads(result.stdout)
    jsonschema.validate(report, json_schema())
    assert report["vulnerability_data"] is None and report["findings"] == []
    assert {p["name"] for p in report["packages"]} == {"busybox", "ssl_client", "zlib", "Jinja2"}
    table = runner.invoke(app, ["scan", image])
    assert (
        table.exit_code == 0
        and "4 packages" in table.stdout
        and "vulnerabilities" not in table.stdout
    )


def test_broken_store_exits_4(
    runner: CliRunner, image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database" * 100)
    monkeypatch.setenv("SPYGLASS_DATABASE_URL", f"sqlite:///{broken}")
    result = runner.invoke(app, ["scan", image])
    assert result.exit_code == 4
    assert "vulnerability store" in result.stderr and "Traceback" not in result.stderr


def test_db_commands_are_mounted(runner: CliRunner) -> None:
    result = runner.invoke(app, ["db", "--help"])
    assert result.exit_code == 0 and "update" in result.stdout and "import" in result.stdout
