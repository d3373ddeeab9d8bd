"""End to end on real data: old pip-installed releases against the PyPA advisory database.

The set-up installs a few old, pure-Python releases with pip (wheels cached under the pytest
cache), makes the ``site-packages`` folder a layer, and scans the image. The expectation is
computed from the OSV records with ``packaging``, by the OSV schema's own rules, without the
matcher's code: for each installed distribution, the ids of the non-withdrawn records whose
ranges or version lists hold.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import InvalidVersion, Version

from spyglass.analyze.registry import select
from spyglass.analyze.scan import scan_image
from spyglass.inventory import Inventory
from spyglass.match import match
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.store import VulnStore
from tests.helpers.images import build_image, tree_entries
from tests.helpers.services import unavailable

pytestmark = pytest.mark.realdata

OSV_PYPI = "advisories/osv-pypi/vulns"
SITE = "usr/local/lib/python3.11/site-packages"
PINNED = (
    "Jinja2==2.10",
    "urllib3==1.24.1",
    "requests==2.19.1",
    "Werkzeug==0.15.3",
    "Flask-Cors==3.0.8",
    "sqlparse==0.4.1",
    "PyJWT==1.5.0",
)


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def site_packages(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned releases installed with pip into a fresh folder (downloads cached)."""
    wheels = Path(request.config.cache.mkdir("spyglass-pypi-wheels"))
    if len(list(wheels.glob("*.whl"))) < len(PINNED):
        got = _pip("download", "--no-deps", "--only-binary=:all:", "-d", str(wheels), *PINNED)
        if got.returncode != 0:
            unavailable(f"pip could not download from PyPI: {got.stderr.strip()[-300:]}")
    target = tmp_path_factory.mktemp("site-packages")
    got = _pip(
        "install",
        "--no-deps",
        "--no-index",
        "--find-links",
        str(wheels),
        "--target",
        str(target),
        *PINNED,
    )
    assert got.returncode == 0, got.stderr
    return target


@pytest.fixture(scope="module")
def inventory(site_packages: Path) -> Inventory:
    """An image whose one layer holds the installed releases under a real site-packages path."""
    entries = {f"{SITE}/{path}": entry for path, entry in tree_entries(site_packages).items()}
    return scan_image(build_image([entries]).as_image("pinned:latest"), select(["python"]))


@pytest.fixture(scope="module")
def store(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VulnStore]:
    """The whole PyPA advisory database loaded through the OSV feed."""
    opened = VulnStore.open(f"sqlite:///{tmp_path_factory.mktemp('db') / 'vuln.db'}")
    feed = OsvFeed("PyPI")
    opened.replace(feed.name, feed.parse(testdata / OSV_PYPI), FetchState(feed.version), "test")
    yield opened
    opened.close()


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _at(text: str) -> Version | None:
    return None if text == "0" else Version(text)  # "0": below every version


def range_holds(version: Version, events: list[dict[str, str]]) -> bool:
    """OSV's evaluation: events sorted by version; introduced opens, fixed / last_affected close."""
    flat = [(kind, _at(v)) for event in events for kind, v in event.items()]
    flat.sort(key=lambda item: (item[1] is not None, item[1] or Version("0")))
    affected = False
    for kind, bound in flat:
        if kind == "introduced" and (bound is None or version >= bound):
            affected = True
        elif (kind == "fixed" and bound is not None and version >= bound) or (
            kind == "last_affected" and bound is not None and version > bound
        ):
            affected = False
    return affected


def _listed(version: Version, listed: list[str]) -> bool:
    for item in listed:
        try:
            if Version(item) == version:
                return True
        except InvalidVersion:
            continue
    return False


def record_holds(record: dict[str, Any], name: str, version: Version) -> bool:
    for entry in record.get("affected") or ():
        package = entry["package"]
        if package["ecosystem"] != "PyPI" or pep503(package["name"]) != name:
            continue
        if _listed(version, entry.get("versions") or []):
            return True
        ranges = [r for r in entry.get("ranges") or () if r["type"] == "ECOSYSTEM"]
        if any(range_holds(version, r["events"]) for r in ranges):
            return True
    return False


def expected_ids(testdata: Path, name: str, version: str) -> set[str]:
    """Ids of the records that affect ``name`` at ``version``, straight from the YAML files."""
    found = set()
    for folder in (testdata / OSV_PYPI).iterdir():
        if pep503(folder.name) != name:
            continue
        for path in folder.glob("*.yaml"):
            record = yaml.load(path.read_text(), Loader=yaml.BaseLoader)
            if not record.get("withdrawn") and record_holds(record, name, Version(version)):
                found.add(record["id"])
    return found


def test_pinned_releases_get_exactly_the_advisories_whose_ranges_hold(
    inventory: Inventory, store: VulnStore, testdata: Path
) -> None:
    installed = {pep503(p.name): p.version for p in inventory.packages}
    assert set(installed) == {pep503(spec.split("==")[0]) for spec in PINNED}
    result = match(inventory, store)
    assert result.notes == ()
    got: dict[str, list[str]] = {}
    for finding in result.findings:
        got.setdefault(pep503(finding.package.name), []).extend(finding.records)
    want = {name: expected_ids(testdata, name, v) for name, v in installed.items()}
    assert {n: sorted(ids) for n, ids in got.items()} == {
        n: sorted(i) for n, i in want.items() if i
    }
    assert sum(len(ids) for ids in want.values()) >= 10  # the pins are old enough to matter


def test_findings_carry_package_location_fix_and_ids(
    inventory: Inventory, store: VulnStore
) -> None:
    findings = match(inventory, store).findings
    jinja = [f for f in findings if f.package.name == "Jinja2"]
    assert jinja, "Jinja2 2.10 has known advisories (e.g. CVE-2019-10906)"
    for finding in jinja:
        assert finding.package.path.startswith(f"{SITE}/Jinja2-2.10.dist-info/")
        assert finding.package.purl == "pkg:pypi/jinja2@2.10"
        assert finding.package.layer == inventory.layers[0].diff_id
        assert finding.state == "fixed" and finding.fixed_versions
        assert all(Version(v) > Version("2.10") for v in finding.fixed_versions)
    sandbox = next(f for f in jinja if "CVE-2019-10906" in f.ids)
    assert sandbox.id == "CVE-2019-10906" and any(a.startswith("PYSEC-") for a in sandbox.aliases)
