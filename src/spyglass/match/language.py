"""Language packages: matched against their ecosystem's advisories, never a distro's.

The name is normalised exactly as the store normalises it
(:func:`spyglass.vulndb.ecosystems.normalise_name`: PEP 503 for PyPI, case folding for NuGet,
Packagist and crates.io). Go's standard library is recorded by the Go toolchain as
``go1.22.1``; OSV's ``stdlib`` records use bare versions, so the prefix is dropped.
"""

from __future__ import annotations

from spyglass.inventory import Package
from spyglass.match.lookup import Lookup
from spyglass.vulndb.ecosystems import normalise_name

LANGUAGE_ECOSYSTEMS = frozenset(
    {"pypi", "npm", "golang", "maven", "cargo", "gem", "nuget", "composer"}
)
"""Library ecosystems the matcher has a version comparison for."""


def is_language_package(pkg: Package) -> bool:
    """True for libraries of an ecosystem the matcher can compare versions in."""
    return pkg.ecosystem in LANGUAGE_ECOSYSTEMS


def _version(pkg: Package) -> str:
    if pkg.ecosystem == "golang" and pkg.name in ("stdlib", "toolchain"):
        return pkg.version.removeprefix("go")
    return pkg.version


def language_lookup(pkg: Package) -> Lookup:
    """The store lookup for a library package."""
    return Lookup(
        package=pkg,
        ecosystem=pkg.ecosystem,
        distro=None,
        names=(normalise_name(pkg.ecosystem, pkg.name),),
        version=_version(pkg),
        kind=pkg.ecosystem,
    )
