"""JavaScript packages: installed ``node_modules`` packages and npm, Yarn, pnpm and Bun lock files.

An installed package is a folder directly inside a ``node_modules`` folder
(``node_modules/a``, ``node_modules/@scope/a``, nested ``…/node_modules/a/node_modules/b``),
so only the ``package.json`` at exactly that depth is wanted: the application's own
``package.json`` and the many ``package.json`` files deep inside packages are not packages.
Lock files shipped inside ``node_modules`` describe how a dependency was developed, not what is
installed, so they are left out. The parsers live in one module per format.
"""

from __future__ import annotations

import re
from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.lang import bun_lock, npm_lock, pnpm_lock, yarn_lock
from spyglass.analyze.lang.files import (
    load_json_object,
    load_yaml_documents,
    read_text,
    yaml_documents,
)
from spyglass.analyze.lang.package_json import parse_package_json
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

_INSTALLED = re.compile(r"(?:^|/)node_modules/(?:@[^/]+/)?[^/.@][^/]*/package\.json$")
_LOCKS = frozenset(
    {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock"}
)
_MAX_MANIFEST = 8 * 1024 * 1024
_MAX_LOCK = 128 * 1024 * 1024


class NodeAnalyzer(Analyzer):
    """Finds npm packages installed in ``node_modules`` and recorded in lock files."""

    name: ClassVar[str] = "lang/node"
    version: ClassVar[int] = 2
    group: ClassVar[str] = "node"
    path_hint: ClassVar[PathHint | None] = PathHint(names=frozenset({"package.json", *_LOCKS}))

    def required(self, path: str, size: int) -> bool:
        """Wants installed packages' manifests and lock files outside ``node_modules``."""
        if path.endswith("/package.json"):
            return size <= _MAX_MANIFEST and _INSTALLED.search(path) is not None
        base = path.rpartition("/")[2]
        is_lock = base in _LOCKS and "node_modules/" not in path
        return self.lockfiles and is_lock and size <= _MAX_LOCK

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """The packages the manifest or lock file records."""
        return AnalyzerResult(packages=tuple(self._packages(file)))

    def _packages(self, file: FileInput) -> list[Package]:
        base = file.path.rpartition("/")[2]
        if base == "package.json":
            found = parse_package_json(load_json_object(file), file.path, self.name)
            return [found] if found else []
        if base == "yarn.lock":
            return _yarn(file, self.name)
        if base == "pnpm-lock.yaml":
            return pnpm_lock.parse_pnpm_lock(load_yaml_documents(file), file.path, self.name)
        if base == "bun.lock":
            return bun_lock.parse_bun_lock(read_text(file), file.path, self.name)
        return npm_lock.parse_package_lock(load_json_object(file), file.path, self.name)


def _yarn(file: FileInput, analyzer: str) -> list[Package]:
    content = read_text(file)
    if not yarn_lock.is_berry(content):
        return yarn_lock.parse_classic(content, file.path, analyzer)
    documents = yaml_documents(content, file.path)
    if not documents or not isinstance(documents[0], dict):
        raise AnalyzerError(f"{file.path} is not a Yarn lock file; the file is skipped")
    return yarn_lock.parse_berry(documents, file.path, analyzer)
