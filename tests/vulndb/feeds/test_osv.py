"""OSV parsing: the real advisory sets load with the expected counts, and records normalise."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.osv import OsvFeed, parse_record
from spyglass.vulndb.model import FIXED, UNFIXED, Event, Range

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize(
    ("ecosystem", "folder", "records", "withdrawn"),
    [
        ("PyPI", "osv-pypi/vulns", 2661, 10),
        ("Go", "osv-go/osv", 4291, None),
        ("crates.io", "osv-crates/crates", 1206, 13),
        ("AlmaLinux", "osv-almalinux9/advisories", 1783, None),
    ],
)
def test_real_sets_load_completely(
    advisories: Path, ecosystem: str, folder: str, records: int, withdrawn: int | None
) -> None:
    data = OsvFeed(ecosystem).parse(advisories / folder)
    assert data.skipped == ()
    assert len(data.advisories) == records
    assert len({a.id for a in data.advisories}) == records
    if withdrawn is not None:
        assert sum(1 for a in data.advisories if a.withdrawn) == withdrawn
    assert data.affected


def test_pypi_record_keeps_ranges_versions_and_pep503_names(advisories: Path) -> None:
    path = advisories / "osv-pypi/vulns/accesscontrol/PYSEC-2021-335.yaml"
    data = OsvFeed("PyPI").parse(path)
    (advisory,) = data.advisories
    assert advisory.aliases == ("CVE-2021-32807", "GHSA-qcx9-j53g-ccgf")
    assert advisory.published == "2021-07-30T22:15:00Z"
    (affected,) = data.affected
    assert (affected.ecosystem, affected.distro, affected.name) == ("pypi", None, "accesscontrol")
    # The GIT range is dropped; the ECOSYSTEM range keeps its events in order.
    assert affected.ranges == (
        Range(
            "ECOSYSTEM",
            (
                Event("introduced", "4.0"),
                Event("fixed", "4.3"),
                Event("introduced", "5.0"),
                Event("fixed", "5.2"),
            ),
        ),
    )
    assert affected.versions == ("4.0", "4.1", "4.2", "5.0", "5.1")
    assert affected.fixed == ("4.3", "5.2")
    assert affected.state == FIXED


def test_yaml_versions_stay_strings(advisories: Path) -> None:
    # "1.10" read as a float would become 1.1; every version must stay the text written.
    data = OsvFeed("PyPI").parse(advisories / "osv-pypi/vulns")
    versions = [v for a in data.affected for v in a.versions]
    versions += [e.version for a in data.affected for r in a.ranges for e in r.events]
    assert all(isinstance(v, str) for v in versions)


def test_withdrawn_pypi_record_is_flagged(advisories: Path) -> None:
    data = OsvFeed("PyPI").parse(advisories / "osv-pypi/vulns/redis/PYSEC-2023-73.yaml")
    assert data.advisories[0].withdrawn


def test_go_semver_ranges_and_stdlib(advisories: Path) -> None:
    data = OsvFeed("Go").parse(advisories / "osv-go/osv/GO-2021-0159.json")
    (affected,) = data.affected
    assert (affected.ecosystem, affected.name) == ("golang", "stdlib")
    assert affected.ranges == (
        Range("SEMVER", (Event("introduced", "0"), Event("fixed", "1.4.3"))),
    )


def test_almalinux_maps_to_rpm_and_release(advisories: Path) -> None:
    data = OsvFeed("AlmaLinux").parse(advisories / "osv-almalinux9/advisories/ALBA-2022:8256.json")
    assert {(a.ecosystem, a.distro, a.name) for a in data.affected} == {
        ("rpm", "alma:9", "qatzip"),
        ("rpm", "alma:9", "qatzip-devel"),
        ("rpm", "alma:9", "qatzip-libs"),
    }
    assert data.affected[0].fixed == ("1.0.9-1.el9",)


def test_red_hat_label_from_almalinux_summary(advisories: Path) -> None:
    data = OsvFeed("AlmaLinux").parse(advisories / "osv-almalinux9/advisories")
    labelled = [a for a in data.advisories if a.summary.startswith("Important:")]
    assert labelled and all(a.severity == "high" for a in labelled)


def test_cvss_v3_and_v4_are_scored(advisories: Path) -> None:
    data = OsvFeed("crates.io").parse(advisories / "osv-crates/crates")
    scored = {a.cvss_version for a in data.advisories if a.cvss_score is not None}
    assert {"3.1", "4.0"} & scored
    for advisory in data.advisories:
        if advisory.cvss_vector:
            assert advisory.cvss_score is not None and 0 <= advisory.cvss_score <= 10


def test_ghsa_database_specific_severity_and_vector(advisories: Path) -> None:
    path = advisories / "osv-ghsa-samples/trivy-db-testdata/happy/ghsa/advisories/github-reviewed"
    data = OsvFeed("GHSA").parse(path / "2025/06/GHSA-266m-wp2v-x7mq/GHSA-266m-wp2v-x7mq.json")
    (advisory,) = data.advisories
    assert advisory.severity == "high"
    assert advisory.cvss_version == "3.1" and advisory.cvss_score == 7.5
    (affected,) = data.affected
    assert (affected.ecosystem, affected.name) == (
        "nuget",
        "microsoft.netcore.app.runtime.linux-arm",
    )


def test_ghsa_happy_loads_and_non_osv_files_are_skipped_with_reason(advisories: Path) -> None:
    data = OsvFeed("GHSA").parse(advisories / "osv-ghsa-samples/trivy-db-testdata/happy")
    assert len(data.advisories) == 10
    assert {a.ecosystem for a in data.affected} >= {
        "npm",
        "golang",
        "maven",
        "composer",
        "nuget",
        "cargo",
    }
    assert all(s.path.endswith(".podspec.json") for s in data.skipped)
    assert all("not an OSV record" in s.reason for s in data.skipped)


def test_ghsa_sad_record_fails_cleanly(advisories: Path) -> None:
    sad = advisories / "osv-ghsa-samples/trivy-db-testdata/sad"
    data = OsvFeed("GHSA").parse(sad)
    assert data.advisories == ()
    reasons = {Path(s.path).name: s.reason for s in data.skipped}
    assert "not valid JSON" in reasons["GHSA-wjx8-cgrm-hh8p.json"]
    assert "not an OSV record" in reasons["SwiftNIO.podspec.json"]
    raw = json.loads(next(sad.rglob("*.podspec.json")).read_text())
    with pytest.raises(FeedError, match="not an OSV record"):
        parse_record(raw, "osv/GHSA")


def test_ubuntu_release_and_prefixed_upstream_cve(advisories: Path) -> None:
    data = OsvFeed("Ubuntu").parse(advisories / "osv-ubuntu-sample/USN-6859-1.json")
    assert {(a.ecosystem, a.distro, a.name) for a in data.affected} == {
        ("deb", "ubuntu:22.04", "openssh"),
        ("deb", "ubuntu:24.04", "openssh"),
    }
    assert "CVE-2024-6387" in data.advisories[0].aliases


def test_zip_of_real_records(advisories: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((advisories / "osv-crates/crates").glob("*.json"))[:50]:
            zf.write(path, path.name)
    data = OsvFeed("crates.io").parse(archive)
    assert len(data.advisories) == 50 and data.skipped == ()


def test_damaged_zip_fails_the_feed(advisories: Path, tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((advisories / "osv-go/osv").glob("*.json"))[:20]:
            zf.write(path, path.name)
    raw = bytearray(archive.read_bytes())
    raw[100:400] = b"\0" * 300  # inside the first member's data: the CRC no longer matches
    archive.write_bytes(bytes(raw))
    with pytest.raises(FeedError, match="damaged"):
        OsvFeed("Go").parse(archive)


def test_last_affected_only_is_unfixed() -> None:
    record = {
        "id": "TEST-1",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [
                    {"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "1.2.0"}]}
                ],
            }
        ],
    }
    _, (affected,) = parse_record(record, "osv/npm")
    assert affected.state == UNFIXED
    assert affected.ranges[0].events[-1] == Event("last_affected", "1.2.0")


def test_unknown_range_event_skips_the_record() -> None:
    record = {
        "id": "TEST-2",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "x"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"bogus": "1"}]}],
            }
        ],
    }
    with pytest.raises(FeedError, match="TEST-2: malformed"):
        parse_record(record, "osv/PyPI")


def _related_record(ecosystem: str) -> dict[str, object]:
    return {
        "id": "TEST-3",
        "related": ["CVE-2023-44487", "RHSA-2023:5929", "CVE-2023-0001"],
        "aliases": ["CVE-2023-0001"],
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": "tomcat"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}],
            }
        ],
    }


@pytest.mark.parametrize(
    "ecosystem", ["AlmaLinux:9", "Rocky Linux:9", "Red Hat:enterprise_linux:9::appstream"]
)
def test_a_distro_erratum_fixes_its_related_cves(ecosystem: str) -> None:
    advisory, packages = parse_record(_related_record(ecosystem), "osv/x")
    assert packages[0].distro is not None
    assert advisory.fixes == ("CVE-2023-44487",)  # aliases and non-CVE ids are not repeated
    assert advisory.aliases == ("CVE-2023-0001",)


def test_a_library_advisory_keeps_related_out_of_fixes() -> None:
    # OSV: related is "closely related but not an alias"; only a distro erratum fixes it.
    advisory, _ = parse_record(_related_record("Maven"), "osv/Maven")
    assert advisory.fixes == ()


def test_a_real_alsa_fixes_its_related_cves(advisories: Path) -> None:
    path = advisories / "osv-almalinux9/advisories/ALSA-2023:5929.json"
    advisory, _ = parse_record(json.loads(path.read_text()), "osv/AlmaLinux")
    assert (advisory.aliases, advisory.fixes) == ((), ("CVE-2023-44487",))
