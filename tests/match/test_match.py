"""Matching decisions: OS vs language, source packages, merging, severity, withdrawn, notes."""

from __future__ import annotations

from spyglass.inventory import OSRelease, Package
from spyglass.match import match, match_inventory
from spyglass.vulndb.model import (
    END_OF_LIFE,
    NOT_AFFECTED,
    UNFIXED,
    Advisory,
    AdvisoryId,
    Affected,
    Event,
    Exploited,
    FeedData,
    Range,
)
from tests.match.conftest import Load, inventory

DEBIAN = OSRelease("debian", "12.5")
ALPINE = OSRelease("alpine", "3.10.9")


def up_to(fixed: str | None) -> tuple[Range, ...]:
    events = (Event("introduced", "0"), *([Event("fixed", fixed)] if fixed else []))
    return (Range("ECOSYSTEM", events),)


def adv(id_: str, feed: str, *aliases: str, **kw: object) -> Advisory:
    return Advisory(AdvisoryId(id_), feed, aliases=aliases, **kw)  # type: ignore[arg-type]


def aff(
    id_: str, eco: str, distro: str | None, name: str, fixed: str | None, **kw: object
) -> Affected:
    return Affected(AdvisoryId(id_), eco, distro, name, up_to(fixed), **kw)  # type: ignore[arg-type]


def deb(
    name: str, version: str, source: str | None = None, source_version: str | None = None
) -> Package:
    return Package(
        name,
        version,
        "deb",
        source_name=source or name,
        source_version=source_version or version,
        purl=f"pkg:deb/debian/{name}@{version}",
    )


def test_debian_matches_by_source_package_and_source_version(load: Load) -> None:
    store = load(
        "debian/tracker",
        FeedData(
            (adv("CVE-2023-5678", "debian/tracker", summary="openssl: slow DH"),),
            (
                aff(
                    "CVE-2023-5678",
                    "deb",
                    "debian:12",
                    "openssl",
                    "3.0.13-1~deb12u1",
                    severity="low",
                ),
            ),
        ),
    )
    libssl = deb("libssl3", "3.0.11-1~deb12u2+b1", "openssl", "3.0.11-1~deb12u2")
    [finding] = match_inventory(inventory(libssl, os=DEBIAN), store)
    assert (finding.id, finding.package.name, finding.matched_name) == (
        "CVE-2023-5678",
        "libssl3",
        "openssl",
    )
    assert finding.installed_version == "3.0.11-1~deb12u2"
    assert finding.fixed_versions == ("3.0.13-1~deb12u1",)
    assert (finding.state, finding.severity, finding.severity_source) == (
        "fixed",
        "low",
        "debian/tracker",
    )
    assert finding.title == "openssl: slow DH"


def test_binary_name_alone_does_not_match_a_debian_source_record(load: Load) -> None:
    store = load(
        "debian/tracker",
        FeedData(
            (adv("CVE-1", "debian/tracker"),),
            (aff("CVE-1", "deb", "debian:12", "libssl3", None),),
        ),
    )
    assert match_inventory(inventory(deb("libssl3", "1.0", "openssl"), os=DEBIAN), store) == []


def test_os_packages_only_match_their_own_distro_release(load: Load) -> None:
    store = load(
        "debian/tracker",
        FeedData(
            (adv("CVE-1", "debian/tracker"),),
            (
                aff("CVE-1", "deb", "debian:11", "zlib", "1:1.2.13"),
                aff("CVE-1", "deb", "ubuntu:22.04", "zlib", "1:1.2.13"),
            ),
        ),
    )
    assert match_inventory(inventory(deb("zlib1g", "1:1.2.11", "zlib"), os=DEBIAN), store) == []


def test_a_ghsa_or_pypi_advisory_never_flags_an_os_package(load: Load) -> None:
    load(
        "osv/PyPI",
        FeedData(
            (adv("GHSA-aaaa-bbbb-cccc", "osv/PyPI"),),
            (aff("GHSA-aaaa-bbbb-cccc", "pypi", None, "urllib3", "2.0.0"),),
        ),
    )
    store = load(
        "osv/npm",
        FeedData(
            (adv("GHSA-dddd-eeee-ffff", "osv/npm"),),
            (aff("GHSA-dddd-eeee-ffff", "npm", None, "zlib", None),),
        ),
    )
    os_pkg = deb("python3-urllib3", "1.26.12-1", "python-urllib3")
    same_name = Package("urllib3", "1.26.12-1", "deb", source_name="urllib3")
    zlib = deb("zlib", "1.0", "zlib")
    assert match_inventory(inventory(os_pkg, same_name, zlib, os=DEBIAN), store) == []
    lib = Package("urllib3", "1.26.12", "pypi")
    assert [f.id for f in match_inventory(inventory(lib, os=DEBIAN), store)] == [
        "GHSA-aaaa-bbbb-cccc"
    ]


def test_language_names_are_normalised_like_the_store(load: Load) -> None:
    store = load(
        "osv/PyPI",
        FeedData(
            (adv("PYSEC-2020-1", "osv/PyPI"),),
            (aff("PYSEC-2020-1", "pypi", None, "flask-cors", "3.0.9"),),
        ),
    )
    found = match_inventory(inventory(Package("Flask_Cors", "3.0.8", "pypi")), store)
    assert [(f.id, f.matched_name) for f in found] == [("PYSEC-2020-1", "flask-cors")]


def test_alpine_matches_by_origin(load: Load) -> None:
    store = load(
        "alpine/secdb",
        FeedData(
            (adv("CVE-2019-14697", "alpine/secdb"),),
            (aff("CVE-2019-14697", "apk", "alpine:3.10", "musl", "1.1.22-r3"),),
        ),
    )
    utils = Package("musl-utils", "1.1.22-r2", "apk", source_name="musl")
    [finding] = match_inventory(inventory(utils, os=ALPINE), store)
    assert (finding.package.name, finding.matched_name, finding.fixed_versions) == (
        "musl-utils",
        "musl",
        ("1.1.22-r3",),
    )


def test_rpm_matches_binary_or_source_name_once(load: Load) -> None:
    store = load(
        "osv/AlmaLinux",
        FeedData(
            (adv("ALSA-2024:1", "osv/AlmaLinux", "CVE-2024-1"),),
            (
                aff("ALSA-2024:1", "rpm", "alma:9", "openssl-libs", "1:3.0.7-25.el9"),
                aff("ALSA-2024:1", "rpm", "alma:9", "openssl", "1:3.0.7-25.el9"),
            ),
        ),
    )
    libs = Package("openssl-libs", "3.0.7", "rpm", epoch=1, release="24.el9", source_name="openssl")
    [finding] = match_inventory(inventory(libs, os=OSRelease("alma", "9.3")), store)
    assert (finding.id, finding.aliases, finding.installed_version) == (
        "CVE-2024-1",
        ("ALSA-2024:1",),
        "1:3.0.7-24.el9",
    )


def test_aliases_merge_across_two_feeds_into_one_finding(load: Load) -> None:
    load(
        "debian/tracker",
        FeedData(
            (adv("CVE-2024-2", "debian/tracker", summary=""),),
            (
                aff(
                    "CVE-2024-2", "deb", "debian:12", "curl", "7.88.1-10+deb12u6", severity="medium"
                ),
            ),
        ),
    )
    store = load(
        "osv/Debian",
        FeedData(
            (
                adv(
                    "DSA-5700-1",
                    "osv/Debian",
                    "CVE-2024-2",
                    summary="curl security update",
                    cvss_score=9.8,
                    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    cvss_version="3.1",
                    severity="critical",
                ),
                adv("DSA-5800-1", "osv/Debian", "CVE-2024-8", "CVE-2024-9"),
            ),
            (
                aff("DSA-5700-1", "deb", "debian:12", "curl", "7.88.1-10+deb12u7"),
                aff("DSA-5800-1", "deb", "debian:12", "curl", "7.88.1-10+deb12u8"),
            ),
        ),
    )
    found = match_inventory(
        inventory(deb("libcurl4", "7.88.1-10+deb12u5", "curl"), os=DEBIAN), store
    )
    assert len(found) == 2  # CVE-2024-2 (two records) and the two-CVE bundle DSA-5800-1
    merged = next(f for f in found if f.id == "CVE-2024-2")
    assert merged.aliases == ("DSA-5700-1",)
    assert set(merged.records) == {"CVE-2024-2", "DSA-5700-1"}
    assert set(merged.feeds) == {"debian/tracker", "osv/Debian"}
    assert merged.fixed_versions == ("7.88.1-10+deb12u6", "7.88.1-10+deb12u7")
    # the distro's per-package urgency wins over the advisory's label and CVSS
    assert (merged.severity, merged.severity_source) == ("medium", "debian/tracker")
    assert (merged.cvss_score, merged.cvss_version) == (9.8, "3.1")
    assert merged.title == "curl security update"
    bundle = next(f for f in found if f.id == "DSA-5800-1")
    assert bundle.aliases == ("CVE-2024-8", "CVE-2024-9")


def test_ghsa_and_pysec_records_merge_through_aliases(load: Load) -> None:
    load(
        "osv/PyPI",
        FeedData(
            (adv("PYSEC-2019-1", "osv/PyPI", "GHSA-xxxx-yyyy-zzzz"),),
            (aff("PYSEC-2019-1", "pypi", None, "jinja2", "2.10.1"),),
        ),
    )
    store = load(
        "ghsa",
        FeedData(
            (adv("GHSA-xxxx-yyyy-zzzz", "ghsa", "CVE-2019-10906", severity="high"),),
            (aff("GHSA-xxxx-yyyy-zzzz", "pypi", None, "jinja2", "2.10.1"),),
        ),
    )
    [finding] = match_inventory(inventory(Package("Jinja2", "2.10", "pypi")), store)
    assert finding.id == "CVE-2019-10906"
    assert finding.aliases == ("GHSA-xxxx-yyyy-zzzz", "PYSEC-2019-1")
    assert (finding.severity, finding.severity_source) == ("high", "ghsa")


def test_severity_from_cvss_when_no_feed_gives_a_label(load: Load) -> None:
    store = load(
        "osv/PyPI",
        FeedData(
            (
                adv(
                    "PYSEC-1",
                    "osv/PyPI",
                    cvss_score=7.5,
                    cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                    cvss_version="3.1",
                ),
            ),
            (aff("PYSEC-1", "pypi", None, "p", "2.0"),),
        ),
    )
    [finding] = match_inventory(inventory(Package("p", "1.0", "pypi")), store)
    assert (finding.severity, finding.severity_source, finding.cvss_score) == ("high", "cvss", 7.5)


def test_unknown_severity_without_label_or_score(load: Load) -> None:
    store = load(
        "alpine/secdb",
        FeedData(
            (adv("CVE-3", "alpine/secdb"),),
            (aff("CVE-3", "apk", "alpine:3.10", "zlib", "1.2.11-r2"),),
        ),
    )
    [finding] = match_inventory(
        inventory(Package("zlib", "1.2.11-r1", "apk", source_name="zlib"), os=ALPINE), store
    )
    assert (finding.severity, finding.severity_source) == ("unknown", "")


def test_withdrawn_records_are_ignored(load: Load) -> None:
    store = load(
        "osv/PyPI",
        FeedData(
            (
                adv("PYSEC-W", "osv/PyPI", withdrawn="2024-01-01T00:00:00Z"),
                adv("PYSEC-K", "osv/PyPI"),
            ),
            (aff("PYSEC-W", "pypi", None, "p", "2.0"), aff("PYSEC-K", "pypi", None, "p", "2.0")),
        ),
    )
    assert [f.id for f in match_inventory(inventory(Package("p", "1.0", "pypi")), store)] == [
        "PYSEC-K"
    ]


def test_distro_not_affected_silences_other_records_of_the_vulnerability(load: Load) -> None:
    load(
        "alpine/secdb",
        FeedData(
            (adv("CVE-2020-1", "alpine/secdb"),),
            (
                Affected(
                    AdvisoryId("CVE-2020-1"), "apk", "alpine:3.10", "busybox", state=NOT_AFFECTED
                ),
            ),
        ),
    )
    store = load(
        "osv/Alpine",
        FeedData(
            (
                adv("ALPINE-CVE-2020-1", "osv/Alpine", "CVE-2020-1"),
                adv("ALPINE-CVE-2020-2", "osv/Alpine"),
            ),
            (
                aff("ALPINE-CVE-2020-1", "apk", "alpine:3.10", "busybox", None),
                aff("ALPINE-CVE-2020-2", "apk", "alpine:3.10", "busybox", None),
            ),
        ),
    )
    bb = Package("busybox", "1.30.1-r5", "apk", source_name="busybox")
    assert [f.id for f in match_inventory(inventory(bb, os=ALPINE), store)] == ["ALPINE-CVE-2020-2"]


def test_states_without_a_fix(load: Load) -> None:
    store = load(
        "debian/tracker",
        FeedData(
            (adv("CVE-4", "debian/tracker"), adv("CVE-5", "debian/tracker")),
            (
                aff("CVE-4", "deb", "debian:12", "glibc", None, state=UNFIXED),
                aff("CVE-5", "deb", "debian:12", "glibc", None, state=END_OF_LIFE),
            ),
        ),
    )
    found = match_inventory(inventory(deb("libc6", "2.36-9", "glibc"), os=DEBIAN), store)
    assert {(f.id, f.state, f.fixed_versions) for f in found} == {
        ("CVE-4", "unfixed", ()),
        ("CVE-5", "end-of-life", ()),
    }


def test_known_exploited_by_alias(load: Load) -> None:
    load("cisa/kev", FeedData(exploited=(Exploited("CVE-2021-44228"),)))
    store = load(
        "osv/Maven",
        FeedData(
            (adv("GHSA-jfh8-c2jp-5v3q", "osv/Maven", "CVE-2021-44228"),),
            (
                aff(
                    "GHSA-jfh8-c2jp-5v3q",
                    "maven",
                    None,
                    "org.apache.logging.log4j:log4j-core",
                    "2.15.0",
                ),
            ),
        ),
    )
    log4j = Package("org.apache.logging.log4j:log4j-core", "2.14.1", "maven")
    [finding] = match_inventory(inventory(log4j), store)
    assert finding.known_exploited and finding.id == "CVE-2021-44228"


def test_unparseable_versions_become_notes_never_findings(load: Load) -> None:
    store = load(
        "osv/PyPI",
        FeedData(
            (adv("PYSEC-A", "osv/PyPI"), adv("PYSEC-B", "osv/PyPI")),
            (
                aff("PYSEC-A", "pypi", None, "p", "2.0"),
                aff("PYSEC-B", "pypi", None, "q", "not a version"),
            ),
        ),
    )
    result = match(
        inventory(Package("p", "1.0-garbage!", "pypi"), Package("q", "1.0", "pypi")), store
    )
    assert result.findings == ()
    assert [(n.package.name, n.advisory_id) for n in result.notes] == [("p", ""), ("q", "PYSEC-B")]
    assert "not a valid pypi version" in result.notes[0].reason


def test_os_packages_without_a_detected_distro_are_noted(load: Load) -> None:
    store = load(
        "debian/tracker",
        FeedData(
            (adv("CVE-1", "debian/tracker"),),
            (aff("CVE-1", "deb", "debian:12", "zlib", None),),
        ),
    )
    result = match(inventory(deb("zlib1g", "1.0", "zlib")), store)
    assert result.findings == () and "no distribution detected" in result.notes[0].reason


def test_packages_with_no_candidates_cost_no_parse(load: Load) -> None:
    store = load("osv/PyPI", FeedData())
    # An unparseable version is only a problem when an advisory names the package.
    assert match(inventory(Package("p", "?!", "pypi")), store).notes == ()


def test_finding_json_round_trip(load: Load) -> None:
    store = load(
        "osv/PyPI",
        FeedData(
            (adv("PYSEC-1", "osv/PyPI", "CVE-1"),),
            (aff("PYSEC-1", "pypi", None, "p", "2.0"),),
        ),
    )
    [finding] = match_inventory(inventory(Package("p", "1.0", "pypi", path="x/METADATA")), store)
    data = finding.to_dict()
    assert data["package"]["path"] == "x/METADATA" and data["aliases"] == ["PYSEC-1"]
    again = type(finding).from_dict(data)
    assert again.to_dict() == data
