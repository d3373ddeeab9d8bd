"""Distro packages: matched only against their own distro release, by the names it uses.

Distros backport fixes, so upstream ranges (NVD, GHSA, PyPI) would flag patched packages as
vulnerable: an OS package is looked up only under its distro key (``debian:12``,
``alpine:3.10``), which only distro feeds write. The key comes from the detected OS through
:func:`spyglass.vulndb.ecosystems.distro_key`, the same function the feeds' keys follow.

Names: Debian and Ubuntu key advisories by *source* package (and fix *source* versions), Alpine
by origin; rpm distros differ (AlmaLinux and Rocky list binary packages, Red Hat's data names
source packages), so an rpm is looked up under both, and de-duplication merges the two.
"""

from __future__ import annotations

from spyglass.inventory import OSRelease, Package
from spyglass.match.lookup import Lookup
from spyglass.vulndb.ecosystems import distro_key

OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})
"""Package types that belong to a distro."""


def is_os_package(pkg: Package) -> bool:
    """True for packages of a distro's package manager."""
    return pkg.ecosystem in OS_ECOSYSTEMS


def _names(pkg: Package) -> tuple[str, ...]:
    source = pkg.source_name or pkg.name
    if pkg.ecosystem == "rpm":
        return tuple(dict.fromkeys((pkg.name, source)))
    return (source,)


def _version(pkg: Package) -> str:
    if pkg.ecosystem == "deb" and pkg.source_version:
        # The tracker and DSAs give source versions; a binNMU (+b1) or a binary with its own
        # version would otherwise compare wrongly.
        return pkg.source_version
    return pkg.full_version


def os_lookup(pkg: Package, os: OSRelease) -> Lookup:
    """The store lookup for a distro package on the image's detected OS."""
    return Lookup(
        package=pkg,
        ecosystem=pkg.ecosystem,
        distro=distro_key(os),
        names=_names(pkg),
        version=_version(pkg),
        kind=pkg.ecosystem,
    )
