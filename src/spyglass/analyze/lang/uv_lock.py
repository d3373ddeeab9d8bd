"""uv's ``uv.lock``: every resolved package, with development-only ones worked out from the graph.

The project itself is the one package whose source is the project folder (``virtual`` or
``editable`` ``"."``). Packages reachable from its dependencies and optional dependencies are
run-time ones; the rest, reachable only through ``dev-dependencies``, are development-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from spyglass.analyze.lang.files import mapping, reachable, sequence, text
from spyglass.errors import AnalyzerError

_Key = tuple[str, str]


def parse_uv_lock(data: dict[str, Any], path: str) -> list[tuple[str, str, bool]]:
    """(name, version, development-only) of every package, the project included."""
    packages = [mapping(p) for p in sequence(data.get("package"))]
    roots = [p for p in packages if _is_project(p)]
    if len(roots) != 1:
        raise AnalyzerError(
            f"{path} has {len(roots)} project packages (uv writes exactly one); it is not read"
        )
    by_name: dict[str, list[dict[str, Any]]] = {}
    for pkg in packages:
        by_name.setdefault(text(pkg.get("name")), []).append(pkg)
    runtime = _reachable([_key(roots[0])], by_name)
    return [(text(p.get("name")), text(p.get("version")), _key(p) not in runtime) for p in packages]


def _is_project(pkg: dict[str, Any]) -> bool:
    source = mapping(pkg.get("source"))
    return source.get("virtual") == "." or source.get("editable") == "."


def _key(pkg: dict[str, Any]) -> _Key:
    return text(pkg.get("name")), text(pkg.get("version"))


def _edges(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    deps = sequence(pkg.get("dependencies"))
    for extra in mapping(pkg.get("optional-dependencies")).values():
        deps = deps + sequence(extra)
    return [mapping(d) for d in deps]


def _reachable(start: list[_Key], by_name: dict[str, list[dict[str, Any]]]) -> set[_Key]:
    def neighbours(key: _Key) -> Iterator[_Key]:
        for pkg in by_name.get(key[0], []):
            if _key(pkg) == key:
                yield from (target for dep in _edges(pkg) for target in _targets(dep, by_name))

    return reachable(start, neighbours)


def _targets(dep: dict[str, Any], by_name: dict[str, list[dict[str, Any]]]) -> list[_Key]:
    """The packages a dependency names: the version uv wrote when there are several, else all
    candidates (uv leaves the version out when the name is unambiguous per environment)."""
    name, version = text(dep.get("name")), text(dep.get("version"))
    candidates = [_key(c) for c in by_name.get(name, [])]
    return [c for c in candidates if not version or c[1] == version]
