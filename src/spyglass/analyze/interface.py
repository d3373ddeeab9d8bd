"""The analyzer seam: an analyzer asks for paths cheaply, then parses the files it asked for.

The layer walker streams every member of a layer past :meth:`Analyzer.required`; the few files
that are wanted are spooled (memory first, a temporary file past a few megabytes) and handed to
:meth:`Analyzer.analyze`. Nothing else in a layer is kept. Results are per file, so that layers
can be cached by diff_id and merged later with whiteouts applied.

Error handling: ``analyze`` raises :class:`~spyglass.errors.AnalyzerError` (or returns an
:class:`~spyglass.inventory.Unknown`) for a file it cannot parse; the walker turns any such
error into an Unknown and goes on with the layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from spyglass.inventory import Package, Secret, Unknown


@dataclass(frozen=True)
class FileInput:
    """A file an analyzer asked for: its path in the image and a seekable stream of its bytes."""

    path: str
    """Path inside the image, normalised: no leading ``/`` or ``./``, no ``..``."""
    size: int
    mode: int
    reader: IO[bytes]
    """Positioned at 0; seekable. The analyzer must not close it."""


@dataclass(frozen=True)
class AnalyzerResult:
    """What one analyzer found in one file."""

    packages: tuple[Package, ...] = ()
    secrets: tuple[Secret, ...] = ()
    unknowns: tuple[Unknown, ...] = ()
    captured: tuple[tuple[str, str], ...] = ()
    """(path, text) of small files kept verbatim for a decision taken after the merge
    (OS detection needs several release files of the final file system)."""
    owned_files: tuple[tuple[str, str], ...] = ()
    """(path, package name) for files that belong to an OS package, so that language
    analyzers can leave libraries shipped by the distro to the distro's data."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the layer cache."""
        return {
            "packages": [p.to_dict() for p in self.packages],
            "secrets": [s.to_dict() for s in self.secrets],
            "unknowns": [u.to_dict() for u in self.unknowns],
            "captured": [list(c) for c in self.captured],
            "owned_files": [list(o) for o in self.owned_files],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalyzerResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            packages=tuple(Package.from_dict(p) for p in data.get("packages", ())),
            secrets=tuple(Secret.from_dict(s) for s in data.get("secrets", ())),
            unknowns=tuple(Unknown.from_dict(u) for u in data.get("unknowns", ())),
            captured=tuple((c[0], c[1]) for c in data.get("captured", ())),
            owned_files=tuple((o[0], o[1]) for o in data.get("owned_files", ())),
        )


@dataclass(frozen=True)
class PathHint:
    """Where an analyzer's ``required`` can be true: the path, in lower case, has one of these
    base names, ends with one of these suffixes or starts with one of these prefixes.

    Entries are lower case; matching ignores case, so a hint is looser than a case-sensitive test.
    """

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        entries = (*self.names, *self.suffixes, *self.prefixes)
        if any(entry != entry.lower() for entry in entries):
            raise ValueError("PathHint entries are compared with the lower-cased path")

    def matches(self, path: str) -> bool:
        """Whether ``required`` may be true for this path."""
        low = path.lower()
        return (
            low[low.rfind("/") + 1 :] in self.names
            or low.endswith(self.suffixes)
            or low.startswith(self.prefixes)
        )


class Analyzer(ABC):
    """A named, versioned plugin that turns the files it asks for into packages or secrets.

    Bump ``version`` whenever the output for the same input can change: cached layer results
    made by another version are then ignored.
    """

    name: ClassVar[str]
    """Stable name, ``group/kind``: ``os/release``, ``pkgdb/dpkg``, ``lang/python``."""
    version: ClassVar[int]
    group: ClassVar[str] = ""
    """Selection group for ``--analyzers``: ``os``, ``python``, ``node``, ``java``, ``secrets``…
    Defaults to the part of ``name`` before the slash."""
    max_size: ClassVar[int] = 256 * 1024 * 1024
    """Files larger than this are not spooled; the walker records an Unknown instead."""
    path_hint: ClassVar[PathHint | None] = None
    """A superset of the paths ``required`` can want: the walker asks about no other path
    (tests/analyze/test_dispatch.py proves each hint). None: asked about every file."""
    lockfiles_only: ClassVar[bool] = False
    """``required`` is false for every path when ``lockfiles`` is off: ``select`` leaves it out."""

    lockfiles: bool = True
    """Whether application lock files (package-lock.json, yarn.lock, Gemfile.lock,
    composer.lock, requirements/Pipfile/poetry/uv locks) are read. They say what a repository
    *would* install; an image scan reads what *is* installed instead (as Trivy does), so that one
    library is not reported twice. ``select`` turns it off for image scans."""

    def __init__(self, *, lockfiles: bool = True) -> None:
        self.lockfiles = lockfiles

    @abstractmethod
    def required(self, path: str, size: int) -> bool:
        """Cheap test on the path (and size) alone: does this analyzer want the file?"""

    @abstractmethod
    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Parse one wanted file. Raise AnalyzerError for input that cannot be parsed."""

    @classmethod
    def selection_group(cls) -> str:
        """The group this analyzer is selected by."""
        return cls.group or cls.name.split("/", 1)[0]


@dataclass(frozen=True)
class AnalyzerInfo:
    """(name, version), as stored beside results."""

    name: str
    version: int
    extra: dict[str, str] = field(default_factory=dict)
