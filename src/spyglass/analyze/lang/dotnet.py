""".NET packages: the NuGet libraries an application was built with, from ``*.deps.json``.

The dependency manifest the .NET SDK writes beside every application lists ``libraries``
keyed ``Name/Version`` with a ``type``: ``package`` entries came from NuGet (``project`` and
``reference`` entries are the application's own code). JSON, so no parser library is needed.
"""

from __future__ import annotations

from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.lang.files import load_json_object, mapping, text
from spyglass.inventory import Package

_MAX_SIZE = 64 * 1024 * 1024


class DotnetAnalyzer(Analyzer):
    """Finds NuGet packages in .NET dependency manifests."""

    name: ClassVar[str] = "lang/dotnet"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "dotnet"
    path_hint: ClassVar[PathHint | None] = PathHint(suffixes=(".deps.json",))

    def required(self, path: str, size: int) -> bool:
        """Wants ``*.deps.json`` files."""
        return path.endswith(".deps.json") and size <= _MAX_SIZE

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """The NuGet packages the manifest lists."""
        return AnalyzerResult(
            packages=tuple(parse_deps_json(load_json_object(file), file.path, self.name))
        )


def parse_deps_json(
    data: dict[str, object], path: str, analyzer: str = DotnetAnalyzer.name
) -> list[Package]:
    """Every library of type ``package``, as ``Name/Version`` names it."""
    found = []
    for key, library in mapping(data.get("libraries")).items():
        name, _, version = key.partition("/")
        if text(mapping(library).get("type")).lower() == "package" and name and version:
            found.append(
                Package(name=name, version=version, ecosystem="nuget", path=path, analyzer=analyzer)
            )
    return found
