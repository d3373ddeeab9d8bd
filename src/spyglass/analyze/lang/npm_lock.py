"""npm's ``package-lock.json`` (and ``npm-shrinkwrap.json``), lockfile versions 1 to 3.

Versions 2 and 3 list every installed folder under ``packages`` keyed by its path
(``node_modules/a/node_modules/b``); workspace members appear as ``link`` entries that point at
their source folder. Version 1 nests ``dependencies`` instead. ``dev: true`` marks a
development-only dependency; peers are installed packages like any other. Written by hand: the
format is JSON and no maintained Python library reads it.
"""

from __future__ import annotations

from typing import Any

from spyglass.analyze.lang.files import dedupe, dev_extra, is_dev, mapping, text
from spyglass.analyze.lang.package_json import licenses
from spyglass.inventory import Package

_NESTED = "node_modules/"


def parse_package_lock(data: dict[str, Any], path: str, analyzer: str) -> list[Package]:
    """Every installed package the lock file records, one per name and version."""
    packages = mapping(data.get("packages"))
    if packages:
        found = [
            _from_folder(key, entry, packages, path, analyzer) for key, entry in packages.items()
        ]
    else:
        found = list(_from_dependencies(mapping(data.get("dependencies")), path, analyzer))
    return dedupe((p for p in found if p is not None), is_dev)


def _from_folder(
    key: str, entry: object, packages: dict[str, Any], path: str, analyzer: str
) -> Package | None:
    """One ``packages`` entry; a link takes version and licences from the folder it points at."""
    entry = mapping(entry)
    if _NESTED not in key:
        return None  # the root project, or a workspace's source folder (reached through a link)
    name = key.rpartition(_NESTED)[2]
    if entry.get("link"):
        resolved = text(entry.get("resolved"))
        target = packages.get(resolved) if resolved else None
        if not isinstance(target, dict):
            return None  # a link to nothing: npm would not have installed anything either
        return _package(name, target, entry, path, analyzer)
    if not text(entry.get("version")):
        return None
    return _package(text(entry.get("name")) or name, entry, entry, path, analyzer)


def _package(
    name: str, source: dict[str, Any], entry: dict[str, Any], path: str, analyzer: str
) -> Package:
    return Package(
        name=name,
        version=text(source.get("version")),
        ecosystem="npm",
        path=path,
        licenses=licenses(source),
        analyzer=analyzer,
        extra=dev_extra(entry.get("dev") is True),
    )


def _from_dependencies(dependencies: dict[str, Any], path: str, analyzer: str) -> list[Package]:
    """Lockfile v1: the nested ``dependencies`` tree, depth first."""
    found: list[Package] = []
    for name, entry in dependencies.items():
        entry = mapping(entry)
        version = text(entry.get("version"))
        if version.startswith("npm:"):  # an alias: "npm:<real name>@<version>"
            name, _, version = version[4:].rpartition("@")
            entry = {**entry, "version": version}
        if name and version and ":" not in version:  # git, file, tarball URLs: no registry version
            found.append(_package(name, entry, entry, path, analyzer))
        found.extend(_from_dependencies(mapping(entry.get("dependencies")), path, analyzer))
    return found
