"""PHP packages installed by Composer: ``vendor/composer/installed.json`` and ``composer.lock``.

``installed.json`` is what an image ships beside the code: a list of packages (Composer 1) or
``{"packages": […], "dev-package-names": […]}`` (Composer 2). ``composer.lock`` lists
``packages`` and development-only ``packages-dev``. Names keep their ``vendor/`` part; versions
are kept as written. JSON, so no parser library is needed.
"""

from __future__ import annotations

from typing import Any, ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.lang.files import (
    dedupe,
    dev_extra,
    is_dev,
    load_json,
    mapping,
    sequence,
    text,
)
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

_INSTALLED = "vendor/composer/installed.json"
_MAX_SIZE = 64 * 1024 * 1024


class ComposerAnalyzer(Analyzer):
    """Finds Composer packages installed in ``vendor/`` and locked in ``composer.lock``."""

    name: ClassVar[str] = "lang/php"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "php"
    path_hint: ClassVar[PathHint | None] = PathHint(
        names=frozenset({"installed.json", "composer.lock"})
    )

    def required(self, path: str, size: int) -> bool:
        """Wants Composer's installed list and lock files outside ``vendor/``."""
        if size > _MAX_SIZE:
            return False
        if path == _INSTALLED or path.endswith("/" + _INSTALLED):
            return True
        is_lock = path.rpartition("/")[2] == "composer.lock"
        return self.lockfiles and is_lock and "vendor/" not in path

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """The packages the file records."""
        data = load_json(file)
        if file.path.endswith("composer.lock"):
            found = parse_composer_lock(_object(data, file.path), file.path, self.name)
        else:
            found = parse_installed(data, file.path, self.name)
        return AnalyzerResult(packages=tuple(found))


def parse_installed(
    data: object, path: str, analyzer: str = ComposerAnalyzer.name
) -> list[Package]:
    """Packages of ``installed.json``, Composer 1 (a list) or 2 (an object)."""
    if isinstance(data, list):
        return _packages(data, set(), path, analyzer)
    data = _object(data, path)
    dev = {text(name) for name in sequence(data.get("dev-package-names"))}
    return _packages(data.get("packages") or [], dev, path, analyzer)


def parse_composer_lock(
    data: dict[str, Any], path: str, analyzer: str = ComposerAnalyzer.name
) -> list[Package]:
    """Packages of ``composer.lock``; ``packages-dev`` are marked development-only."""
    runtime = _packages(sequence(data.get("packages")), set(), path, analyzer)
    dev_only = sequence(data.get("packages-dev"))
    dev_names = {text(mapping(entry).get("name")) for entry in dev_only}
    return runtime + _packages(dev_only, dev_names, path, analyzer)


def _object(data: object, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AnalyzerError(f"{path} is not a Composer file (expected a JSON object)")
    return data


def _packages(entries: object, dev: set[str], path: str, analyzer: str) -> list[Package]:
    if not isinstance(entries, list):
        raise AnalyzerError(f"{path} has a package list that is not a list")
    found = (_package(mapping(entry), dev, path, analyzer) for entry in entries)
    return dedupe((p for p in found if p is not None), is_dev)


def _package(entry: dict[str, Any], dev: set[str], path: str, analyzer: str) -> Package | None:
    name, version = text(entry.get("name")), text(entry.get("version"))
    if not name or not version:
        return None
    return Package(
        name=name,
        version=version,
        ecosystem="composer",
        path=path,
        licenses=_licenses(entry.get("license")),
        analyzer=analyzer,
        extra=dev_extra(name in dev),
    )


def _licenses(value: object) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(text(v) for v in values if text(v))
