"""Python lock and requirements files: what a project pins, for repository scans.

Formats: pip requirements files (only exact ``==`` pins name a version; ranges do not, unless
:func:`parse_requirements` is asked for their minimum version), Pipenv's
``Pipfile.lock`` (``develop`` is development-only), ``poetry.lock`` (``category = "dev"`` in
Poetry 1, no ``main`` in ``groups`` in Poetry 2), ``uv.lock`` (development-only = reachable only
through the project's ``dev-dependencies``), ``pdm.lock`` and PEP 751 ``pylock.toml``.
Requirement lines are parsed with ``packaging``; the lock files are JSON or TOML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import Specifier
from packaging.version import InvalidVersion, Version

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.lang.files import (
    dedupe,
    dev_extra,
    is_dev,
    load_json_object,
    load_toml,
    mapping,
    read_text,
    sequence,
    text,
)
from spyglass.analyze.lang.uv_lock import parse_uv_lock
from spyglass.inventory import Package

_REQUIREMENTS = re.compile(r"^requirements[\w.-]*\.txt$")
_TOML_LOCKS = re.compile(r"^(?:poetry\.lock|pdm\.lock|uv\.lock|pylock(?:\.[^/.]+)?\.toml)$")
_MAX_SIZE = 32 * 1024 * 1024
_INSTALLED = ("site-packages/", "dist-packages/")


class PythonLockAnalyzer(Analyzer):
    """Finds the Python packages a project's lock or requirements file pins."""

    name: ClassVar[str] = "lang/python-lock"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "python"
    path_hint: ClassVar[PathHint | None] = PathHint(
        names=frozenset({"pipfile.lock", "poetry.lock", "pdm.lock", "uv.lock"}),
        suffixes=(".txt", ".toml", "\n"),  # the name patterns' $ also accepts a final newline
    )
    lockfiles_only: ClassVar[bool] = True

    def required(self, path: str, size: int) -> bool:
        """Wants lock and requirements files by name, outside installed packages."""
        if not self.lockfiles:
            return False
        base = path.rpartition("/")[2]
        known = base == "Pipfile.lock" or bool(_REQUIREMENTS.match(base) or _TOML_LOCKS.match(base))
        return known and size <= _MAX_SIZE and not any(part in path for part in _INSTALLED)

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """The pinned packages."""
        found = (
            Package(name, version, "pypi", path=file.path, analyzer=self.name, extra=dev_extra(dev))
            for name, version, dev in _pins(file)
            if name
        )
        return AnalyzerResult(packages=tuple(dedupe(found, is_dev)))


Pin = tuple[str, str, bool]
"""(name, version, development-only)."""


def _pins(file: FileInput) -> list[Pin]:
    base = file.path.rpartition("/")[2]
    if base == "Pipfile.lock":
        return parse_pipfile_lock(load_json_object(file))
    if _REQUIREMENTS.match(base):
        return [(name, version, False) for name, version in parse_requirements(read_text(file))]
    data = load_toml(file)
    if base == "uv.lock":
        return parse_uv_lock(data, file.path)
    key = "packages" if base.startswith("pylock") else "package"
    entries = [mapping(e) for e in sequence(data.get(key))]
    # pdm and pylock do not say which groups are for development (pyproject.toml does).
    poetry = base == "poetry.lock"
    return [
        (text(e.get("name")), text(e.get("version")), poetry and _poetry_dev(e)) for e in entries
    ]


def parse_requirements(content: str, *, use_min_version: bool = False) -> Iterator[tuple[str, str]]:
    """(name, version) of every requirement pinned to one exact version; with
    ``use_min_version``, also of every requirement with a lower bound, at its minimum."""
    for line in _logical_lines(content):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue  # options (-r, -e, --index-url), URLs and template syntax pin nothing
        specifiers = list(requirement.specifier)
        version = _pinned(specifiers) or (_minimum(specifiers) if use_min_version else "")
        if version:
            yield requirement.name, version


def _pinned(specifiers: list[Specifier]) -> str:
    """The version of a lone exact ``==`` (or ``===``) pin."""
    if len(specifiers) == 1 and specifiers[0].operator in ("==", "==="):
        return "" if "*" in specifiers[0].version else specifiers[0].version
    return ""


def _minimum(specifiers: list[Specifier]) -> str:
    """The lowest version the specifiers admit, as Trivy's ``useMinVersion`` reports it: the
    highest of the ``>=`` / ``~=`` bounds and ``==X.*`` prefixes (read as ``X.0``); exclusive
    and upper bounds give none. ``==5.*.*`` and ``==4.*.1`` never get here: not PEP 440."""
    bounds = [
        spec.version.removesuffix(".*") + ".0" if spec.version.endswith(".*") else spec.version
        for spec in specifiers
        if spec.operator in (">=", "~=") or (spec.operator == "==" and spec.version.endswith(".*"))
    ]
    valid = [bound for bound in bounds if _is_version(bound)]
    return max(valid, key=Version, default="")


def _is_version(value: str) -> bool:
    try:
        Version(value)
    except InvalidVersion:
        return False
    return True


def _logical_lines(content: str) -> Iterator[str]:
    """Lines with continuations joined, and comments and pip options removed."""
    for line in re.sub(r"\\\r?\n", " ", content).splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line)
        line = re.split(r"\s--?[a-z]", line, maxsplit=1)[0].strip()
        if "#" in line and "://" not in line:
            line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            yield line


def parse_pipfile_lock(data: dict[str, Any]) -> list[Pin]:
    """Pinned packages of ``default`` and (development-only) ``develop``."""
    found = []
    for section, dev in (("default", False), ("develop", True)):
        for name, entry in mapping(data.get(section)).items():
            version = text(mapping(entry).get("version")).removeprefix("===").removeprefix("==")
            if version:
                found.append((name, version, dev))
    return found


def _poetry_dev(entry: dict[str, Any]) -> bool:
    """Poetry 1 ``category = "dev"``; Poetry 2 ``groups`` without ``main``."""
    if text(entry.get("category")):
        return text(entry.get("category")) == "dev"
    groups = entry.get("groups")
    return (
        isinstance(groups, list)
        and bool(groups)
        and "main" not in groups
        and "default" not in groups
    )
