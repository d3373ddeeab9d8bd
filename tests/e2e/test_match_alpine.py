"""End to end on real data: the Alpine 3.10.9 minirootfs against the real v3.10 secdb.

The expectation is computed from the secdb YAML itself (origin -> fixed version -> ids) with
apk version ordering, without the matcher's range code: a package is affected by an id when
its origin lists a fix for it at a version newer than the installed one.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from spyglass import versions
from spyglass.analyze.registry import select
from spyglass.analyze.scan import scan_image
from spyglass.inventory import Inventory
from spyglass.match import match
from spyglass.vulndb.feeds.alpine import AlpineSecdbFeed
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.store import VulnStore
from tests.helpers.images import build_image

pytestmark = pytest.mark.realdata

ROOTFS = "images/alpine-minirootfs/alpine-minirootfs-3.10.9-x86_64.tar.gz"
SECDB = "advisories/alpine-secdb/yaml/v3.10"

Fixes = dict[str, list[tuple[str, str]]]


@pytest.fixture(scope="module")
def inventory(testdata: Path) -> Inventory:
    """The minirootfs tarball as the one layer of an image, scanned."""
    raw = gzip.decompress((testdata / ROOTFS).read_bytes())
    image = build_image([raw]).as_image("alpine-minirootfs:3.10.9")
    return scan_image(image, select(["os"]))


@pytest.fixture(scope="module")
def store(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VulnStore]:
    """The v3.10 secdb loaded through the Alpine feed into a fresh SQLite store."""
    opened = VulnStore.open(f"sqlite:///{tmp_path_factory.mktemp('db') / 'vuln.db'}")
    feed = AlpineSecdbFeed()
    opened.replace(feed.name, feed.parse(testdata / SECDB), FetchState(feed.version), SECDB)
    yield opened
    opened.close()


def secfixes(testdata: Path) -> Fixes:
    """origin -> [(fixed version, first id of the entry)] from the YAML, version 0 left out."""
    fixes: Fixes = {}
    for name in ("main.yaml", "community.yaml"):
        doc = yaml.load((testdata / SECDB / name).read_text(), Loader=yaml.BaseLoader)
        for entry in doc["packages"]:
            pkg = entry["pkg"]
            for version, ids in (pkg.get("secfixes") or {}).items():
                for text in ids if version != "0" else ():
                    first = re.sub(r"^CVE[ _]", "CVE-", text.strip()).split()[0]
                    fixes.setdefault(pkg["name"], []).append((version, first))
    return fixes


def expected(inventory: Inventory, fixes: Fixes) -> set[tuple[str, str]]:
    return {
        (pkg.name, cve)
        for pkg in inventory.packages
        for fixed, cve in fixes.get(pkg.source_name or pkg.name, ())
        if versions.compare("apk", pkg.version, fixed) < 0
    }


def test_minirootfs_findings_follow_from_secfixes(
    inventory: Inventory, store: VulnStore, testdata: Path
) -> None:
    assert inventory.os is not None and inventory.os.version == "3.10.9"
    fixes = secfixes(testdata)
    # the secdb does name packages of this image (busybox, musl, openssl)...
    assert {p.source_name for p in inventory.packages} & set(fixes) >= {
        "busybox",
        "musl",
        "openssl",
    }
    result = match(inventory, store)
    found = {(f.package.name, f.id) for f in result.findings}
    # ...and 3.10.9 was released after every fix in this snapshot, so nothing is left.
    assert found == expected(inventory, fixes) == set()
    assert result.notes == ()


def test_older_versions_of_the_same_packages_give_exactly_the_later_fixes(
    inventory: Inventory, store: VulnStore, testdata: Path
) -> None:
    # Each package set back to its origin's oldest fix: affected by every later fix only.
    fixes = secfixes(testdata)

    def oldest(origin: str, current: str) -> str:
        listed = [v for v, _ in fixes.get(origin, ())]
        return min(listed, key=lambda v: versions.parse("apk", v)) if listed else current

    older = replace(
        inventory,
        packages=tuple(
            replace(p, version=oldest(p.source_name or p.name, p.version))
            for p in inventory.packages
        ),
    )
    want = expected(older, fixes)
    assert {"busybox", "ssl_client", "libcrypto1.1", "libssl1.1", "musl", "musl-utils"} == {
        name for name, _ in want
    }
    result = match(older, store)
    assert {(f.package.name, f.id) for f in result.findings} == want
    for finding in result.findings:
        assert finding.matched_name == (finding.package.source_name or finding.package.name)
        assert finding.state == "fixed" and finding.fixed_versions
        assert all(
            versions.compare("apk", finding.installed_version, v) < 0
            for v in finding.fixed_versions
        )
        assert finding.package.layer == inventory.layers[0].diff_id
        assert finding.url.startswith("https://security.alpinelinux.org/vuln/CVE-")
