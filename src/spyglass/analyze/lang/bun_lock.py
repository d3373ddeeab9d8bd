"""Bun's text lock file ``bun.lock`` (Bun 1.2 and later; the binary ``bun.lockb`` is not read).

``workspaces`` maps each workspace folder (``""`` is the root) to its manifest's name, version
and dependency kinds. ``packages`` maps a key (a package name, or a path of names such as
``zod/undici-types`` for a copy nested under another package) to an array
``["name@version", registry, {dependencies}, integrity]`` (some entries omit the registry, a
workspace member is just ``["name@workspace:folder"]`` and takes its version from that folder).
A package is development-only when it is reachable only from ``devDependencies``.

The file is JSONC: JSON with trailing commas (comments are allowed too). Two regular-expression
passes that step over string literals remove comments, then trailing commas, and ``json`` reads
the rest; that is small enough that no JSON5/JSONC dependency is needed. Written by hand: no
Python library reads bun.lock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from spyglass.analyze.lang.files import dedupe, dev_extra, is_dev, mapping, reachable, text
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

_STRING = r'"(?:[^"\\]|\\.)*"'
_COMMENTS = re.compile(rf"({_STRING})|//[^\n]*|/\*.*?\*/", re.DOTALL)
_TRAILING_COMMAS = re.compile(rf"({_STRING})|,(?=\s*[}}\]])")
_PROD = ("dependencies", "optionalDependencies", "peerDependencies")
_DEV = ("devDependencies",)
_WORKSPACE = "workspace:"


def loads_jsonc(content: str, path: str) -> Any:
    """``content`` parsed as JSON with comments and trailing commas."""
    plain = _TRAILING_COMMAS.sub(_keep_string, _COMMENTS.sub(_keep_string, content))
    try:
        return json.loads(plain)
    except ValueError as exc:
        raise AnalyzerError(f"{path} is not valid JSONC ({exc}); the file is skipped") from exc


def _keep_string(match: re.Match[str]) -> str:
    """A matched string literal unchanged; a matched comment or trailing comma removed."""
    return match.group(1) or ""


def parse_bun_lock(content: str, path: str, analyzer: str) -> list[Package]:
    """Every package the lock file records, one per name and version."""
    lock = mapping(loads_jsonc(content, path))
    version = lock.get("lockfileVersion")
    if not isinstance(version, int) or isinstance(version, bool):
        raise AnalyzerError(f"{path} has no numeric lockfileVersion; the file is skipped")
    workspaces, entries = mapping(lock.get("workspaces")), mapping(lock.get("packages"))
    graph = {key: _dependencies(value) for key, value in entries.items()}
    prod = _reachable(_roots(workspaces, _PROD, graph), graph)
    # A package no workspace reaches is kept as a run-time one: a lock file that does not
    # explain a package should not hide it from matching.
    dev = _reachable(_roots(workspaces, _DEV, graph), graph) - prod
    found = (
        _package(key, value, workspaces, key in dev, path, analyzer)
        for key, value in entries.items()
    )
    return dedupe((p for p in found if p is not None), is_dev)


def _dependencies(value: object) -> list[str]:
    """The names an entry depends on (in its first object), of every kind that bun installs."""
    items = value[1:] if isinstance(value, list) else []
    fields = next((v for v in items if isinstance(v, dict)), {})
    return [name for kind in _PROD for name in mapping(fields.get(kind))]


def _roots(
    workspaces: dict[str, Any], kinds: Iterable[str], graph: dict[str, list[str]]
) -> list[str]:
    """Package keys the workspaces depend on directly through the given kinds."""
    roots: list[str] = []
    for folder, manifest in workspaces.items():
        manifest = mapping(manifest)
        scope = text(manifest.get("name")) if folder else ""
        for kind in kinds:
            roots.extend(_resolve(name, scope, graph) for name in mapping(manifest.get(kind)))
    return [key for key in roots if key]


def _reachable(roots: list[str], graph: dict[str, list[str]]) -> set[str]:
    def neighbours(key: str) -> Iterable[str]:
        return filter(None, (_resolve(n, key, graph) for n in graph.get(key, [])))

    return reachable(roots, neighbours)


def _resolve(name: str, scope: str, graph: dict[str, Any]) -> str:
    """The key a dependency of ``scope`` resolves to: the copy nested deepest under it, as
    Node's module resolution walks up the folders (``a/b/dep``, then ``a/dep``, then ``dep``)."""
    names = _names(scope)
    for depth in range(len(names), -1, -1):
        key = "/".join([*names[:depth], name])
        if key in graph:
            return key
    return ""


def _names(key: str) -> list[str]:
    """A nested key's package names: ``@types/bun/bun-types`` is ``@types/bun``, ``bun-types``."""
    names: list[str] = []
    for part in filter(None, key.split("/")):
        if names and names[-1].startswith("@") and "/" not in names[-1]:
            names[-1] += "/" + part
        else:
            names.append(part)
    return names


def _package(
    key: str, value: object, workspaces: dict[str, Any], dev: bool, path: str, analyzer: str
) -> Package | None:
    ident = text(value[0]) if isinstance(value, list) and value else ""
    at = ident.find("@", 1)
    name, version = (ident[:at], ident[at + 1 :]) if at > 0 else (ident, "")
    if version.startswith(_WORKSPACE):
        folder = mapping(workspaces.get(version.removeprefix(_WORKSPACE)))
        version, dev = text(folder.get("version")), False
    if not name or not version or ":" in version or "/" in version:
        return None  # git, file, link and tarball sources have no registry version
    return Package(
        name=name,
        version=version,
        ecosystem="npm",
        path=path,
        analyzer=analyzer,
        extra=dev_extra(dev),
    )
