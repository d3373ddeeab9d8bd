"""Ruby gems: installed ``specifications/*.gemspec`` files and Bundler's ``Gemfile.lock``.

RubyGems writes an installed gem's specification as Ruby source
(``Gem::Specification.new do |s| s.name = "rake".freeze …``). Spyglass never runs it: the
assignments RubyGems writes are read with regular expressions, on the block's own variable
only, and a file without a non-empty name and a version is reported as unreadable. Bundler's
lock file lists every resolved gem as ``    name (version[-platform])`` under the ``specs:`` of
its ``GEM`` and ``GIT`` sources. Both parsers are written by hand: no Python library reads
either format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput, PathHint
from spyglass.analyze.lang.files import read_text
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

_GEMSPEC = re.compile(r"(?:^|/)specifications/(?:default/)?[^/]+\.gemspec$")
_LOCKS = ("Gemfile.lock", "gems.locked")
_MAX_GEMSPEC = 1024 * 1024
_MAX_LOCK = 16 * 1024 * 1024

_BLOCK = re.compile(r"Gem::Specification\.new\s+do\s*\|\s*(\w+)\s*\|")
# "double", 'single' and %q{…} (what RubyGems before 1.9 wrote) string literals.
_STRINGS = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%q\{([^}]*)\}""")
_SPEC_LINE = re.compile(r"^ {4}([^\s(]+) \(([^)]+)\)\s*$")


class RubyAnalyzer(Analyzer):
    """Finds installed gems by their specifications, and gems locked by Bundler."""

    name: ClassVar[str] = "lang/ruby"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "ruby"
    path_hint: ClassVar[PathHint | None] = PathHint(
        names=frozenset(n.lower() for n in _LOCKS), suffixes=(".gemspec",)
    )

    def required(self, path: str, size: int) -> bool:
        """Wants installed gem specifications and lock files outside installed gems."""
        if path.endswith(".gemspec"):
            return size <= _MAX_GEMSPEC and _GEMSPEC.search(path) is not None
        in_gem = "/gems/" in f"/{path}"  # a gem's own development lock file, not the app's
        is_lock = path.rpartition("/")[2] in _LOCKS
        return self.lockfiles and is_lock and size <= _MAX_LOCK and not in_gem

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """The gem a specification describes, or the gems a lock file resolves."""
        content = read_text(file)
        if file.path.endswith(".gemspec"):
            return AnalyzerResult(packages=(parse_gemspec(content, file.path, self.name),))
        return AnalyzerResult(packages=tuple(parse_gemfile_lock(content, file.path, self.name)))


def parse_gemspec(content: str, path: str, analyzer: str = RubyAnalyzer.name) -> Package:
    """The gem an installed specification describes."""
    block = _BLOCK.search(content)
    if block is None:
        raise AnalyzerError(f"{path} has no Gem::Specification block; it is not a gemspec")
    fields = dict(_assignments(content[block.end() :], block[1]))
    name, version = _first_string(fields.get("name", "")), _first_string(fields.get("version", ""))
    if not name or not version:
        raise AnalyzerError(f"{path} does not set both the gem's name and version")
    return Package(
        name=name,
        version=version,
        ecosystem="gem",
        path=path,
        licenses=_licenses(fields),
        analyzer=analyzer,
    )


def _assignments(body: str, var: str) -> Iterator[tuple[str, str]]:
    """(attribute, right-hand side) of each ``var.attribute = …`` line, first one wins."""
    pattern = re.compile(rf"^\s*{re.escape(var)}\.(\w+)\s*=\s*(.*)$", re.MULTILINE)
    seen = set()
    for match in pattern.finditer(body):
        if match[1] not in seen:
            seen.add(match[1])
            yield match[1], match[2]


def _first_string(rhs: str) -> str:
    """The first string literal of an expression (``"1.0".freeze``, ``Gem::Version.new("1.0")``)."""
    literal = _STRINGS.search(rhs)
    return _literal(literal) if literal else ""


def _literal(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None).strip()


def _licenses(fields: dict[str, str]) -> tuple[str, ...]:
    """``license = "MIT"`` or ``licenses = ["MIT", …]``; any other form is ignored."""
    single = fields.get("license", "").strip()
    if _STRINGS.match(single):
        return (_first_string(single),) if _first_string(single) else ()
    many = fields.get("licenses", "").strip()
    if not many.startswith("["):
        return ()
    values = (_literal(m) for m in _STRINGS.finditer(many.split("]", 1)[0]))
    return tuple(v for v in values if v)


def parse_gemfile_lock(content: str, path: str, analyzer: str = RubyAnalyzer.name) -> list[Package]:
    """Every gem resolved from a gem server or git source, once each."""
    found: dict[tuple[str, str], Package] = {}
    for name, version in _locked_specs(content):
        version = version.split("-", 1)[0]  # "1.13.6-x86_64-linux": the platform is not a version
        found.setdefault(
            (name, version),
            Package(name=name, version=version, ecosystem="gem", path=path, analyzer=analyzer),
        )
    return list(found.values())


def _locked_specs(content: str) -> Iterator[tuple[str, str]]:
    section = ""
    for line in content.splitlines():
        if line and not line[0].isspace():
            section = line.strip()
            continue
        spec = _SPEC_LINE.match(line)
        if spec and section in ("GEM", "GIT"):
            yield spec[1], spec[2]
