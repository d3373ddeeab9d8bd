"""pnpm's ``pnpm-lock.yaml``: lockfile versions 5, 6 and 9.

Packages are keyed by an id whose form changed with the version: ``/name/1.0.0_peer@2`` (v5),
``/name@1.0.0(peer@2)`` (v6), ``name@1.0.0`` plus per-peer ``snapshots`` (v9). Entries resolved
from tarballs or folders carry their own ``name`` and ``version``. v5 and v6 mark
development-only packages with ``dev: true``; v9 dropped the mark, so it is worked out from the
graph: a package is development-only when it is reachable only from the importers'
``devDependencies``. Written by hand over PyYAML: no Python library reads pnpm lock files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from spyglass.analyze.lang.files import dev_extra, mapping, reachable, text
from spyglass.inventory import Package

_PEERS = re.compile(r"\(.*\)$")


def parse_pnpm_lock(documents: list[Any], path: str, analyzer: str) -> list[Package]:
    """Every package the lock file records (pnpm 11 puts its own tools in an earlier document,
    so the project is the last document)."""
    lock = mapping(documents[-1]) if documents else {}
    major = _major(lock.get("lockfileVersion"))
    if major >= 9:
        return _v9(lock, path, analyzer)
    packages = mapping(lock.get("packages"))
    found = {
        (*_name_version(key, mapping(entry), major), mapping(entry).get("dev") is True)
        for key, entry in packages.items()
    }
    return _packages(found, path, analyzer)


def _major(value: object) -> int:
    try:
        return int(float(str(value)))
    except ValueError:
        return 0


def _name_version(key: str, entry: dict[str, Any], major: int) -> tuple[str, str]:
    """(name, version) from the entry's own fields, else from its id."""
    name, version = text(entry.get("name")), text(entry.get("version"))
    if name and version:
        return name, version
    ident = _PEERS.sub("", key.lstrip("/"))
    if major < 6:  # /name/1.0.0_peers: peers encode their own slashes as "+"
        base, _, tail = ident.rpartition("/")
        tail = tail.partition("_")[0]
    else:
        at = ident.find("@", 1)
        base, tail = (ident[:at], ident[at + 1 :]) if at > 0 else (ident, "")
    if ":" in tail or "/" in tail:  # file:, link: or a URL: not a registry version
        tail = ""
    return name or base, version or tail


def _v9(lock: dict[str, Any], path: str, analyzer: str) -> list[Package]:
    packages = mapping(lock.get("packages"))
    snapshots = mapping(lock.get("snapshots")) or {key: {} for key in packages}
    prod = _reachable(_roots(lock, ("dependencies", "optionalDependencies")), snapshots)
    found = set()
    for key in snapshots:
        base = _PEERS.sub("", key)
        name, version = _name_version(base, mapping(packages.get(base)), 9)
        found.add((name, version, key not in prod))
    return _packages(found, path, analyzer)


def _roots(lock: dict[str, Any], kinds: Iterable[str]) -> list[str]:
    """Snapshot ids the importers depend on directly through the given kinds."""
    roots = []
    for importer in mapping(lock.get("importers")).values():
        for kind in kinds:
            for name, spec in mapping(mapping(importer).get(kind)).items():
                roots.append(f"{name}@{text(mapping(spec).get('version'))}")
    return roots


def _reachable(roots: list[str], snapshots: dict[str, Any]) -> set[str]:
    def neighbours(key: str) -> Iterable[str]:
        entry = mapping(snapshots.get(key))
        for kind in ("dependencies", "optionalDependencies"):
            yield from (f"{name}@{text(v)}" for name, v in mapping(entry.get(kind)).items())

    return reachable(roots, neighbours)


def _packages(found: Iterable[tuple[str, str, bool]], path: str, analyzer: str) -> list[Package]:
    return [
        Package(
            name=name,
            version=version,
            ecosystem="npm",
            path=path,
            analyzer=analyzer,
            extra=dev_extra(dev),
        )
        for name, version, dev in sorted(found)
        if name
    ]
