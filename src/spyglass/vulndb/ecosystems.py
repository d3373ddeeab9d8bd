"""Where an advisory applies: OSV ecosystem names to (purl type, distro), and package names.

The store is keyed by (purl type, distro, normalised name). ``distro`` uses the inventory's
OS family ids (``OSRelease.family``: ``debian``, ``alpine``, ``alma``, ``rocky``…) and the
release granularity each distro publishes advisories for: Debian and the Red Hat family by major
version, Ubuntu and Alpine by ``major.minor``. :func:`distro_key` gives the matcher the same key
from a detected ``OSRelease``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spyglass.inventory import OSRelease

# OSV ecosystems of libraries (no distro): OSV name -> purl type.
LANGUAGE_ECOSYSTEMS = {
    "PyPI": "pypi",
    "npm": "npm",
    "Go": "golang",
    "Maven": "maven",
    "crates.io": "cargo",
    "RubyGems": "gem",
    "NuGet": "nuget",
    "Packagist": "composer",
    "Hex": "hex",
    "Pub": "pub",
    "Hackage": "hackage",
    "CRAN": "cran",
    "SwiftURL": "swift",
    "ConanCenter": "conan",
    "Bioconductor": "bioconductor",
    "GHC": "hackage",
}

# OSV distro ecosystems: OSV name -> (purl type, inventory OS family).
DISTRO_ECOSYSTEMS = {
    "Debian": ("deb", "debian"),
    "Ubuntu": ("deb", "ubuntu"),
    "Alpine": ("apk", "alpine"),
    "Wolfi": ("apk", "wolfi"),
    "Chainguard": ("apk", "chainguard"),
    "AlmaLinux": ("rpm", "alma"),
    "Rocky Linux": ("rpm", "rocky"),
    "Red Hat": ("rpm", "redhat"),
    "Mageia": ("rpm", "mageia"),
    "openEuler": ("rpm", "openeuler"),
    "Photon OS": ("rpm", "photon"),
    "Azure Linux": ("rpm", "azurelinux"),
    "Mariner": ("rpm", "cbl-mariner"),
    "openSUSE": ("rpm", "opensuse"),
    "SUSE": ("rpm", "sles"),
}

# Distros whose advisories are per major release (minor releases share one stream).
_MAJOR_ONLY = {"debian", "alma", "rocky", "redhat", "centos", "oracle", "mageia"}

_PEP503 = re.compile(r"[-_.]+")
_VERSION = re.compile(r"\d+(?:\.\d+)*")


def release_key(family: str, release: str) -> str:
    """The release part of a distro key: ``12.5`` -> ``12`` for Debian, ``v3.19.1`` -> ``3.19``."""
    release = release.strip().lstrip("v")
    if family in ("alpine",) and release == "edge":
        return release
    found = _VERSION.search(release)
    if not found:
        return release.lower()
    parts = found.group(0).split(".")
    if family in _MAJOR_ONLY:
        return parts[0]
    if family in ("alpine", "ubuntu"):
        return ".".join(parts[:2])
    return found.group(0)


def distro_key(os: OSRelease) -> str:
    """The store's distro key for an image's OS (``debian:12``, ``alpine:3.19``, ``wolfi``)."""
    if not os.version or os.family in ("wolfi", "chainguard", "opensuse-tumbleweed"):
        return os.family
    return f"{os.family}:{release_key(os.family, os.version)}"


def _suse_distro(release: str) -> tuple[str, str]:
    # "Leap 15.5", "Tumbleweed", "Linux Enterprise Server 15 SP5"
    if release.startswith("Tumbleweed"):
        return "opensuse-tumbleweed", ""
    if release.startswith("Leap"):
        return "opensuse-leap", release_key("opensuse-leap", release)
    sp = re.search(r"(\d+)(?: SP(\d+))?", release)
    return "sles", (f"{sp.group(1)}.{sp.group(2) or 0}" if sp else release.lower())


@lru_cache(maxsize=1024)
def osv_ecosystem(name: str) -> tuple[str, str | None] | None:
    """(purl type, distro key) for an OSV ecosystem name; ``None`` when Spyglass cannot use it.

    ``Debian:12`` -> ``("deb", "debian:12")``, ``Alpine:v3.19`` -> ``("apk", "alpine:3.19")``,
    ``Ubuntu:22.04:LTS`` / ``Ubuntu:Pro:18.04:LTS`` -> ``("deb", "ubuntu:22.04")``, ``PyPI`` ->
    ``("pypi", None)``.
    """
    base, _, release = name.partition(":")
    if base in LANGUAGE_ECOSYSTEMS:
        return LANGUAGE_ECOSYSTEMS[base], None
    if base not in DISTRO_ECOSYSTEMS:
        return None
    purl_type, family = DISTRO_ECOSYSTEMS[base]
    if family in ("opensuse", "sles"):
        family, key = _suse_distro(release)
        return purl_type, f"{family}:{key}" if key else family
    if family == "ubuntu":
        release = next((p for p in release.split(":") if _VERSION.fullmatch(p)), release)
    if family == "redhat":
        found = re.search(r"(?:^|:)[a-z_]*?(\d+)(?:[.:]|$)", release)
        release = found.group(1) if found else release
    return purl_type, f"{family}:{release_key(family, release)}" if release else family


def normalise_name(ecosystem: str, name: str) -> str:
    """A package name as the store keys it; the matcher must normalise the same way.

    PyPI: PEP 503 (``Foo_Bar`` -> ``foo-bar``). NuGet, Packagist and crates.io names are
    case-insensitive on their registries (crates.io also treats ``-`` and ``_`` as one). Go
    module paths, npm, Maven and OS package names are compared exactly, as OSV does.
    """
    if ecosystem == "pypi":
        return _PEP503.sub("-", name).lower()
    if ecosystem in ("nuget", "composer"):
        return name.lower()
    if ecosystem == "cargo":
        return name.lower().replace("_", "-")
    return name
