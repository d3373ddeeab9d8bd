"""Yarn's ``yarn.lock``: classic (v1, its own indented format) and berry (v2+, YAML).

Each entry is keyed by the specifiers that resolved to it (``"a@^1.0.0", "a@^1.1.0":``) and
records the ``version`` installed. Only entries resolved from the npm registry name a package
version that advisories can match: ``workspace:``, ``file:``, ``link:``, ``portal:``, ``patch:``,
git and unknown protocols are left out. Yarn lock files carry no dev marking. The classic
format is parsed by hand (about twenty lines; the only Python parsers for it are unmaintained).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from spyglass.analyze.lang.files import dedupe, is_dev, mapping, text
from spyglass.inventory import Package

_PROTOCOL = re.compile(r"^([a-z][a-z0-9+.-]*):")
_CLASSIC_FIELD = re.compile(r'^\s+"?(?P<key>[^\s"]+)"?\s+"?(?P<value>[^"]*)"?\s*$')


def is_berry(content: str) -> bool:
    """Whether the lock file is Yarn 2+ (YAML with a ``__metadata`` section)."""
    return re.search(r"^__metadata:", content, re.MULTILINE) is not None


def parse_berry(documents: list[Any], path: str, analyzer: str) -> list[Package]:
    """Packages of a Yarn 2+ lock file (already loaded as YAML)."""
    entries = mapping(documents[0]) if documents else {}
    found = (
        _package(
            text(mapping(entry).get("resolution")) or key,
            mapping(entry).get("version"),
            path,
            analyzer,
        )
        for key, entry in entries.items()
        if key != "__metadata"
    )
    return dedupe((p for p in found if p is not None), is_dev)


def parse_classic(content: str, path: str, analyzer: str) -> list[Package]:
    """Packages of a Yarn 1 lock file."""
    found = (_package(spec, version, path, analyzer) for spec, version in _classic_entries(content))
    return dedupe((p for p in found if p is not None), is_dev)


def _classic_entries(content: str) -> Iterator[tuple[str, str]]:
    """(first specifier, version) of each top-level entry."""
    spec = ""
    for line in content.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            spec = line.rstrip().rstrip(":").split(",")[0].strip().strip('"')
            continue
        field = _CLASSIC_FIELD.match(line)
        if (
            spec
            and field
            and field["key"] == "version"
            and line.startswith("  ")
            and line[2] != " "
        ):
            yield spec, field["value"]


def _package(spec: str, version: object, path: str, analyzer: str) -> Package | None:
    """The package one specifier or resolution names, when it comes from the npm registry."""
    at = spec.find("@", 1)
    if at < 0 or not text(version):
        return None
    name, reference = spec[:at], spec[at + 1 :]
    protocol = _PROTOCOL.match(reference)
    if protocol and protocol[1] != "npm":
        return None
    if reference.startswith("npm:") and "@" in reference[5:]:  # an alias: npm:<real name>@<range>
        name = reference[4:][: reference[4:].find("@", 1)]
    return Package(name=name, version=text(version), ecosystem="npm", path=path, analyzer=analyzer)
