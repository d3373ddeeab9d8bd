"""AlmaLinux errata on real data: the CVEs an ALSA fixes (OSV ``related``) reach its finding.

The whole AlmaLinux 9 OSV set and the real CISA KEV catalogue go into one store; rpms at
versions below real fixes are matched against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from spyglass.inventory import OSRelease, Package
from spyglass.match import match_inventory
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.feeds.kev import KevFeed
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.store import VulnStore
from tests.match.conftest import inventory

pytestmark = pytest.mark.realdata
ALMA_9 = OSRelease("alma", "9.3")


@pytest.fixture(scope="module")
def store(testdata: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VulnStore]:
    """AlmaLinux 9 OSV and CISA KEV, both real and complete."""
    advisories = testdata / "advisories"
    opened = VulnStore.open(f"sqlite:///{tmp_path_factory.mktemp('alma') / 'vuln.db'}")
    alma = OsvFeed("AlmaLinux").parse(advisories / "osv-almalinux9/advisories")
    opened.replace("osv/AlmaLinux", alma, FetchState(1), "test")
    kev = KevFeed().parse(advisories / "kev/known_exploited_vulnerabilities.json")
    opened.replace("cisa/kev", kev, FetchState(1), "test")
    yield opened
    opened.close()


def test_an_alsa_fixing_a_kev_cve_is_known_exploited(store: VulnStore) -> None:
    # ALSA-2023:5929 (tomcat, fixed in 1:9.0.62-11.el9_2.3) fixes HTTP/2 Rapid Reset.
    tomcat = Package("tomcat", "9.0.62", "rpm", epoch=1, release="11.el9_2.2", source_name="tomcat")
    found = {f.id: f for f in match_inventory(inventory(tomcat, os=ALMA_9), store)}
    finding = found["ALSA-2023:5929"]
    assert finding.known_exploited
    assert "CVE-2023-44487" in finding.aliases
    assert "1:9.0.62-11.el9_2.3" in finding.fixed_versions


def test_an_alsa_fixing_no_kev_cve_is_not_flagged(store: VulnStore) -> None:
    libtiff = Package("libtiff", "4.4.0", "rpm", release="15.el9_7.2", source_name="libtiff")
    found = {f.id: f for f in match_inventory(inventory(libtiff, os=ALMA_9), store)}
    assert "CVE-2026-4775" in found["ALSA-2026:12271"].aliases
    assert not found["ALSA-2026:12271"].known_exploited


def test_two_errata_fixing_one_cve_stay_two_findings(store: VulnStore) -> None:
    # Both fix only CVE-2026-4775 in libtiff; the later one is a second update, not an alias.
    libtiff = Package("libtiff", "4.4.0", "rpm", release="15.el9_7.2", source_name="libtiff")
    findings = match_inventory(inventory(libtiff, os=ALMA_9), store)
    errata = [f for f in findings if "CVE-2026-4775" in f.aliases]
    assert sorted(f.id for f in errata) == ["ALSA-2026:12271", "ALSA-2026:19363"]
    assert all(f.records == (f.id,) for f in errata)
