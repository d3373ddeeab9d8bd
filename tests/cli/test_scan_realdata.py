"""`spyglass db update` from the real Alpine secdb, then `spyglass scan` of the real minirootfs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spyglass.cli.main import app
from tests.helpers.images import build_image, write_oci_layout

pytestmark = pytest.mark.realdata

ROOTFS = "images/alpine-minirootfs/alpine-minirootfs-3.10.9-x86_64.tar.gz"
SECDB = "advisories/alpine-secdb/yaml/v3.10"


def test_update_then_scan_the_real_minirootfs(testdata: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    source = f"alpine/secdb={testdata / SECDB}"
    update = runner.invoke(app, ["db", "update", "--feed", "alpine/secdb", "--source", source])
    assert update.exit_code == 0, update.output
    layer = gzip.decompress((testdata / ROOTFS).read_bytes())
    layout = write_oci_layout(build_image([layer]), tmp_path / "layout")

    result = runner.invoke(app, ["scan", f"oci:{layout}", "--format", "json", "--exit-code", "1"])
    assert result.exit_code == 0, result.output  # 3.10.9 has every fix this secdb lists
    report = json.loads(result.stdout)
    assert [f["name"] for f in report["vulnerability_data"]["feeds"]] == ["alpine/secdb"]
    assert report["findings"] == [] and report["match_notes"] == []
    assert report["os"]["version"] == "3.10.9" and len(report["packages"]) == 14
    assert "no vulnerability data" not in result.stderr
