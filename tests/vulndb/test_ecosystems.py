"""OSV ecosystem names to store keys, name normalisation, and the matcher's distro key."""

from __future__ import annotations

import pytest

from spyglass.inventory import OSRelease
from spyglass.vulndb.ecosystems import distro_key, normalise_name, osv_ecosystem


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PyPI", ("pypi", None)),
        ("npm", ("npm", None)),
        ("Go", ("golang", None)),
        ("Maven", ("maven", None)),
        ("crates.io", ("cargo", None)),
        ("RubyGems", ("gem", None)),
        ("NuGet", ("nuget", None)),
        ("Packagist", ("composer", None)),
        ("Debian:12", ("deb", "debian:12")),
        ("Debian:11", ("deb", "debian:11")),
        ("Alpine:v3.19", ("apk", "alpine:3.19")),
        ("Ubuntu:22.04:LTS", ("deb", "ubuntu:22.04")),
        ("Ubuntu:Pro:18.04:LTS", ("deb", "ubuntu:18.04")),
        ("Ubuntu:24.10", ("deb", "ubuntu:24.10")),
        ("AlmaLinux:9", ("rpm", "alma:9")),
        ("Rocky Linux:9", ("rpm", "rocky:9")),
        ("Red Hat:enterprise_linux:9::appstream", ("rpm", "redhat:9")),
        ("Red Hat:rhel_aus:8.4::appstream", ("rpm", "redhat:8")),
        ("SUSE:Linux Enterprise Server 15 SP5", ("rpm", "sles:15.5")),
        ("openSUSE:Leap 15.5", ("rpm", "opensuse-leap:15.5")),
        ("openSUSE:Tumbleweed", ("rpm", "opensuse-tumbleweed")),
        ("Wolfi", ("apk", "wolfi")),
        ("Chainguard", ("apk", "chainguard")),
        ("Linux", None),
        ("GIT", None),
    ],
)
def test_osv_ecosystem(name: str, expected: tuple[str, str | None] | None) -> None:
    assert osv_ecosystem(name) == expected


@pytest.mark.parametrize(
    ("family", "version", "key"),
    [
        ("debian", "12.5", "debian:12"),
        ("ubuntu", "22.04", "ubuntu:22.04"),
        ("alpine", "3.19.1", "alpine:3.19"),
        ("alma", "9.3", "alma:9"),
        ("rocky", "9.2", "rocky:9"),
        ("wolfi", "20230201", "wolfi"),
    ],
)
def test_distro_key_matches_feed_keys(family: str, version: str, key: str) -> None:
    assert distro_key(OSRelease(family=family, version=version)) == key


@pytest.mark.parametrize(
    ("ecosystem", "name", "normalised"),
    [
        ("pypi", "Django_REST.framework", "django-rest-framework"),
        ("nuget", "Microsoft.NetCore.App", "microsoft.netcore.app"),
        ("composer", "Contao/Core-Bundle", "contao/core-bundle"),
        ("cargo", "Serde_JSON", "serde-json"),
        ("golang", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"),
        ("npm", "JSONStream", "JSONStream"),
        ("deb", "libssl3", "libssl3"),
    ],
)
def test_normalise_name(ecosystem: str, name: str, normalised: str) -> None:
    assert normalise_name(ecosystem, name) == normalised
