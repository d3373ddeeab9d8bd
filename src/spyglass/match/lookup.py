"""What the matcher asks the store for one package: where, under which names, which version.

The answer depends on the kind of package, so it is built by :mod:`spyglass.match.os` (distro
packages) or :mod:`spyglass.match.language` (libraries); the matcher itself only groups
lookups into one coarse store query per (ecosystem, distro) and decides with the versions.
"""

from __future__ import annotations

from dataclasses import dataclass

from spyglass.inventory import Package


@dataclass(frozen=True)
class Lookup:
    """One package's key into the vulnerability store."""

    package: Package
    ecosystem: str
    """The purl type the store keys by (``deb``, ``pypi``…)."""
    distro: str | None
    """The store's distro key (``debian:12``, ``alpine:3.10``); ``None`` for libraries."""
    names: tuple[str, ...]
    """Store names (normalised) that count as this package, most specific first."""
    version: str
    """The version to compare against advisories, as the ecosystem writes it."""
    kind: str
    """The version comparison to use (a :mod:`spyglass.versions` kind)."""
