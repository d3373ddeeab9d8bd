"""Which distribution a release file names: os-release ``ID``s and release-line keywords.

The family ids are the lower-case ones documented on :class:`~spyglass.inventory.OSRelease`.
Where upstream scanners invent more (``SLEMicro``, ``CentOSStream``), ours are spelled the way
the distro spells itself: ``sle-micro``, ``centos-stream``, ``bottlerocket``, ``coreos``,
``echo``, ``minimos``, ``activestate``.

Google distroless images are Debian: their os-release says ``ID="debian"`` with
``PRETTY_NAME="Distroless"``, and their packages are Debian's, so they are family ``debian``
(the name keeps "Distroless") and are matched against Debian's data.
"""

from __future__ import annotations

from spyglass.analyze.os.fields import (
    first_version,
    major_minor,
    parse_assignments,
    release_version,
)

OS_RELEASE_IDS: dict[str, str] = {
    "activestate": "activestate",
    "almalinux": "alma",
    "alpine": "alpine",
    "amzn": "amazon",
    "azurelinux": "azurelinux",
    "bottlerocket": "bottlerocket",
    "centos": "centos",
    "chainguard": "chainguard",
    "coreos": "coreos",
    "debian": "debian",
    "echo": "echo",
    "fedora": "fedora",
    "mariner": "cbl-mariner",
    "minimos": "minimos",
    "ol": "oracle",
    "opensuse": "opensuse-leap",  # Leap 42.x still said ID=opensuse
    "opensuse-leap": "opensuse-leap",
    "opensuse-tumbleweed": "opensuse-tumbleweed",
    "photon": "photon",
    "rhel": "redhat",
    "rocky": "rocky",
    "sl-micro": "sle-micro",
    "sle-micro": "sle-micro",
    "sle-micro-rancher": "sle-micro",
    "sles": "sles",
    "sles_sap": "sles",
    "ubuntu": "ubuntu",
    "wolfi": "wolfi",
}
"""os-release ``ID`` to family. An ID not listed is not detected: guessing from ``ID_LIKE``
would match, say, Kali's packages against Debian's advisories."""

ROLLING = frozenset({"wolfi", "chainguard"})
"""Families whose os-release may lack ``VERSION_ID`` and still name a usable release."""

# Keywords of "<Name> release <version>" lines, most specific first: a RHEL rebuild's
# redhat-release names the rebuild, and "CentOS Stream" must win over "CentOS".
_RELEASE_LINE_NAMES: tuple[tuple[str, str], ...] = (
    ("almalinux", "alma"),
    ("rocky", "rocky"),
    ("oracle", "oracle"),
    ("centos stream", "centos-stream"),
    ("centos", "centos"),
    ("fedora", "fedora"),
    ("amazon linux", "amazon"),
    ("red hat", "redhat"),
)

RPM_RELEASE_FILES = (
    "etc/almalinux-release",
    "etc/rocky-release",
    "etc/oracle-release",
    "etc/centos-release",
    "etc/fedora-release",
    "etc/system-release",
    "etc/redhat-release",
)
"""The Red Hat family's one-line release files, the most specific first."""

FAMILY_RELEASE_FILE: dict[str, str] = {
    "alma": "etc/almalinux-release",
    "rocky": "etc/rocky-release",
    "oracle": "etc/oracle-release",
    "centos": "etc/centos-release",
    "centos-stream": "etc/centos-release",
    "fedora": "etc/fedora-release",
    "redhat": "etc/redhat-release",
}
"""The file whose "release X.Y.Z" line is more precise than os-release's ``VERSION_ID``
(CentOS 7 says ``7`` there but ``7.6.1810`` in centos-release)."""


def family_of_release_line(text: str) -> str | None:
    """The family a Red Hat style release line names (``Rocky Linux release 8.4``), if any."""
    lowered = text.lower()
    return next((family for key, family in _RELEASE_LINE_NAMES if key in lowered), None)


def rpm_line_version(family: str, text: str) -> str:
    """The version of a Red Hat style release line; Amazon Linux 2023 is named by its year."""
    version = release_version(text)
    if family == "amazon" and version[:4].isdigit() and int(version[:4]) >= 2022:
        return version[:4]  # "2023.5.20240722" is release "2023" in Amazon's data
    return version


def suse_release(text: str) -> tuple[str, str] | None:
    """(family, version) from ``etc/SuSE-release`` (``VERSION = 12``, ``PATCHLEVEL = 3``)."""
    fields = {
        k.strip(): v.strip() for k, _, v in (line.partition("=") for line in text.splitlines())
    }
    version = fields.get("VERSION", "")
    if not version:
        return None
    if fields.get("PATCHLEVEL", "0") not in ("", "0"):
        version = f"{version}.{fields['PATCHLEVEL']}"
    family = "opensuse-leap" if "opensuse" in text.lower() else "sles"
    return family, version


def photon_like_version(text: str) -> str:
    """``VMware Photon OS 4.0`` or ``CBL-Mariner 2.0.20220226`` give ``4.0`` / ``2.0``."""
    return major_minor(first_version(text.splitlines()[0] if text.strip() else ""))


def lsb_ubuntu(text: str) -> tuple[str, str] | None:
    """(version, codename) when an lsb-release file names Ubuntu with a release."""
    fields = parse_assignments(text)
    if fields.get("DISTRIB_ID", "").lower() != "ubuntu" or not fields.get("DISTRIB_RELEASE"):
        return None
    return fields["DISTRIB_RELEASE"], fields.get("DISTRIB_CODENAME", "")
