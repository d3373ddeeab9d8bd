"""Reading the files language analyzers ask for: text, JSON, YAML and TOML, errors as data.

Every loader raises :class:`~spyglass.errors.AnalyzerError` with a sentence a person can act on,
so that a malformed manifest becomes an ``Unknown`` and never stops the layer.
"""

from __future__ import annotations

import json
import tomllib
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import yaml

from spyglass.analyze.interface import FileInput
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def read_text(file: FileInput) -> str:
    """The file's text: UTF-8 (or UTF-16 with a byte order mark), bad bytes replaced."""
    data = file.reader.read()
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def load_json(file: FileInput) -> Any:
    """The file parsed as JSON."""
    try:
        return json.loads(read_text(file))
    except ValueError as exc:
        raise AnalyzerError(f"{file.path} is not valid JSON ({exc}); the file is skipped") from exc


def load_json_object(file: FileInput) -> dict[str, Any]:
    """The file parsed as JSON, which must be an object."""
    data = load_json(file)
    if not isinstance(data, dict):
        raise AnalyzerError(f"{file.path} holds JSON that is not an object; the file is skipped")
    return data


def load_yaml_documents(file: FileInput) -> list[Any]:
    """Every YAML document in the file."""
    return yaml_documents(read_text(file), file.path)


def yaml_documents(content: str, path: str) -> list[Any]:
    """Every YAML document in ``content`` (the C loader when PyYAML has it)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [doc for doc in yaml.load_all(content, Loader=loader) if doc is not None]
    except yaml.YAMLError as exc:
        raise AnalyzerError(f"{path} is not valid YAML ({exc}); the file is skipped") from exc


def load_toml(file: FileInput) -> dict[str, Any]:
    """The file parsed as TOML."""
    try:
        return tomllib.loads(read_text(file))
    except tomllib.TOMLDecodeError as exc:
        raise AnalyzerError(f"{file.path} is not valid TOML ({exc}); the file is skipped") from exc


def text(value: object) -> str:
    """A string field as a stripped string; anything else (null, numbers, objects) as ``""``."""
    return value.strip() if isinstance(value, str) else ""


def sequence(value: object) -> list[Any]:
    """A field that should be a list; anything else as an empty one."""
    return value if isinstance(value, list) else []


def mapping(value: object) -> dict[str, Any]:
    """A field that should be an object; anything else as an empty one."""
    return value if isinstance(value, dict) else {}


def dedupe(packages: Iterable[Package], is_dev: Callable[[Package], bool]) -> list[Package]:
    """One package per (name, version), first seen first; development-only only if every
    occurrence is (a library used at run time anywhere is a run-time library). Licences
    recorded on any occurrence are kept."""
    seen: dict[tuple[str, str], Package] = {}
    for pkg in packages:
        key = (pkg.name, pkg.version)
        old = seen.get(key)
        if old is None:
            seen[key] = pkg
        elif is_dev(old) and not is_dev(pkg):
            seen[key] = replace(pkg, licenses=pkg.licenses or old.licenses)
        elif not old.licenses and pkg.licenses:
            seen[key] = replace(old, licenses=pkg.licenses)
    return list(seen.values())


DEV = (("dev", "true"),)
"""The ``extra`` of a development-only dependency."""


def dev_extra(dev: bool) -> tuple[tuple[str, str], ...]:
    """``extra`` marking a development-only dependency, or nothing."""
    return DEV if dev else ()


def is_dev(pkg: Package) -> bool:
    """Whether a package is marked development-only."""
    return ("dev", "true") in pkg.extra


K = TypeVar("K", bound=Hashable)


def reachable(roots: Iterable[K], neighbours: Callable[[K], Iterable[K]]) -> set[K]:
    """Every node reachable from ``roots`` (roots included) in a lock file's dependency graph."""
    seen: set[K] = set()
    queue = deque(roots)
    while queue:
        key = queue.popleft()
        if key not in seen:
            seen.add(key)
            queue.extend(neighbours(key))
    return seen
