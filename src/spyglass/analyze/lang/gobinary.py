"""lang/go: the modules compiled into a Go executable, read from its embedded build info.

Go links a ``.go.buildinfo`` blob into every module-aware binary (Go >= 1.13): a 32-byte
header starting ``\\xff Go buildinf:``, then the Go version and the module information
(``path``/``mod``/``dep``/``=>``/``build`` lines). Go >= 1.18 stores both strings inline as
varint-prefixed bytes (flag bit 2); older binaries store pointers to Go string headers, which
are followed through the load segments (32- or 64-bit, either byte order). This is the same
layout that Go's own ``debug/buildinfo`` reads; it is decoded here in pure Python because no
maintained Python library reads it.

What is reported (ecosystem ``golang``): the main module (its version, ``(devel)`` when built
from a checkout, is taken from ``-ldflags -X main.version=…`` when that holds a semantic
version, else left empty), every ``dep`` (a ``=>`` replacement wins), and ``stdlib`` at the Go
version (``go1.21.5`` -> ``v1.21.5``) so that standard-library advisories match.

Which files are opened is decided by :func:`~spyglass.analyze.lang.elf.binary_candidate`;
``analyze`` reads 4 bytes and returns nothing for a file that is not ELF (scripts, data) or an
ELF file without build info (C programs). A damaged ELF file becomes an Unknown.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import ClassVar, Literal

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.analyze.lang.elf import ElfFile, binary_candidate, is_elf, open_elf
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

Order = Literal["little", "big"]
MAGIC = b"\xff Go buildinf:"
_HEADER = 32
_ALIGN = 16
_SEARCH = 64 * 1024
"""How far from the start of the data segment the header is looked for (as Go does)."""
_MAX_STRING = 16 * 1024 * 1024
_GO_VERSION = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?$")
_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


@dataclass(frozen=True)
class Module:
    """One module line of the build info, after any ``=>`` replacement."""

    path: str
    version: str


@dataclass(frozen=True)
class BuildInfo:
    """The build info of one Go executable."""

    go_version: str
    """As the binary records it: ``go1.21.5``, possibly with ``X:experiment`` suffixes."""
    main: Module | None
    deps: tuple[Module, ...]
    settings: tuple[tuple[str, str], ...]


def read_build_info(file: FileInput) -> BuildInfo | None:
    """The build info of an ELF file, or None when it has none; AnalyzerError when broken."""
    elf = open_elf(file.reader, file.size)
    blob = _find_header(elf)
    if blob is None:
        return None
    version, modinfo = _strings(elf, blob)
    if not version:
        return None
    return parse_modinfo(version, modinfo)


def _find_header(elf: ElfFile) -> bytes | None:
    section = elf.section(".go.buildinfo")
    if section is not None:
        data = elf.read_section(section, _SEARCH)
    else:
        start = elf.data_start()
        data = elf.read_at(start, _SEARCH) if start is not None else b""
    at = data.find(MAGIC)
    while at >= 0:
        if at % _ALIGN == 0 and len(data) - at >= _HEADER:
            return data[at:]
        at = data.find(MAGIC, at + 1)
    return None


def _strings(elf: ElfFile, blob: bytes) -> tuple[str, str]:
    ptr_size, flags = blob[14], blob[15]
    if flags & 2:  # Go >= 1.18: inline varint-prefixed strings after the header
        version, rest = _varint_string(blob[_HEADER:])
        modinfo, _ = _varint_string(rest)
    else:
        if ptr_size not in (4, 8):
            raise AnalyzerError(f"Go build info with a pointer size of {ptr_size}; file skipped")
        order: Order = "big" if flags else "little"  # before 1.18 the byte is the byte order
        version = _pointed_string(elf, blob[16:], ptr_size, order)
        modinfo = _pointed_string(elf, blob[16 + ptr_size :], ptr_size, order)
    return version.decode("utf-8", "replace"), _unframe(modinfo).decode("utf-8", "replace")


def _varint_string(data: bytes) -> tuple[bytes, bytes]:
    length, shift, at = 0, 0, 0
    while at < len(data) and at < 10:
        byte = data[at]
        length |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return data[at : at + length], data[at + length :]
        shift += 7
    return b"", b""


def _pointed_string(elf: ElfFile, field: bytes, ptr_size: int, order: Order) -> bytes:
    """Follow a pointer to a Go string header (data pointer, length) and read the string."""
    addr = int.from_bytes(field[:ptr_size], order)
    header = elf.read_at(addr, 2 * ptr_size)
    if len(header) < 2 * ptr_size:
        return b""
    data = int.from_bytes(header[:ptr_size], order)
    length = int.from_bytes(header[ptr_size:], order)
    if length > _MAX_STRING:
        raise AnalyzerError(f"Go build info string of {length} bytes is implausible; file skipped")
    return elf.read_at(data, length)


def _unframe(modinfo: bytes) -> bytes:
    """Strip the 16-byte sentinels that frame the module info (as runtime/debug does)."""
    if len(modinfo) >= 33 and modinfo[-17] == ord("\n"):
        return modinfo[16:-16]
    return b""


def parse_modinfo(go_version: str, modinfo: str) -> BuildInfo:
    """Parse the ``path``/``mod``/``dep``/``=>``/``build`` lines that follow the Go version."""
    main: Module | None = None
    deps: list[Module] = []
    settings: list[tuple[str, str]] = []
    last = ""
    for line in modinfo.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "mod":
            main = Module(fields[0], _field(fields, 1))
        elif kind == "dep":
            deps.append(Module(fields[0], _field(fields, 1)))
        elif kind == "=>" and last == "dep" and fields[0]:
            deps[-1] = _replaced(deps[-1], Module(fields[0], _field(fields, 1)))
        elif kind == "build":
            settings.append(_setting(rest))
        last = kind
    return BuildInfo(go_version, main, tuple(deps), tuple(settings))


def _replaced(original: Module, replacement: Module) -> Module:
    """What was built: the replacement module, or for a local directory (``=> ../fork``, no
    version) the original module path with an unknown version."""
    if replacement.path.startswith((".", "/")) or not replacement.version:
        return Module(original.path, "")
    return replacement


def _field(fields: list[str], index: int) -> str:
    return fields[index] if index < len(fields) else ""


def _setting(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    if value.startswith('"'):
        try:
            value = json.loads(value)  # Go's strconv.Quote agrees with JSON on the usual escapes
        except ValueError:
            value = value.strip('"')
    return key, value


def ldflags_version(settings: tuple[tuple[str, str], ...]) -> str:
    """A semantic version set with ``-ldflags -X main.version=…`` (or ``…/version.version``,
    ``…/cmd.version``), with a ``v`` prefix; ``""`` when there is none."""
    for assignment in _x_flags(dict(settings).get("-ldflags", "")):
        key, _, value = assignment.partition("=")
        key, value = key.strip("'\"").lower(), value.strip("'\"")
        good_key = key == "main.version" or key.endswith(("/version.version", "/cmd.version"))
        if good_key and _SEMVER.match(value):
            return value if value.startswith("v") else f"v{value}"
    return ""


def _x_flags(flags: str) -> list[str]:
    """The ``name=value`` operands of every ``-X`` in a linker flag string."""
    try:
        words = shlex.split(flags)
    except ValueError:  # unbalanced quotes: fall back to plain splitting
        words = flags.split()
    found = []
    for at, word in enumerate(words):
        if word in ("-X", "--X") and at + 1 < len(words):
            found.append(words[at + 1])
        elif word.startswith(("-X=", "--X=")):
            found.append(word.split("=", 1)[1])
    return found


def stdlib_version(go_version: str) -> str:
    """``go1.21.5`` -> ``v1.21.5``, ``go1.21`` -> ``v1.21.0``, ``go1.21rc2`` ->
    ``v1.21.0-rc.2`` (Go's own semver spelling); ``""`` for development builds."""
    match = _GO_VERSION.match(go_version.split(" ", 1)[0])
    if match is None:
        return ""
    major, minor, patch, pre, pre_n = match.groups()
    version = f"v{major}.{minor or 0}.{patch or 0}"
    return f"{version}-{pre}.{pre_n}" if pre else version


def packages(info: BuildInfo) -> list[Package]:
    """The packages a build info stands for: main module, stdlib, then dependencies."""
    found: list[Package] = []
    if info.main is not None and info.main.path:
        version = info.main.version
        if version in ("(devel)", ""):
            version = ldflags_version(info.settings)
        found.append(_package(info.main.path, version, "root"))
    stdlib = stdlib_version(info.go_version)
    if stdlib:
        found.append(_package("stdlib", stdlib, "direct"))
    # Old toolchains listed the main module among deps with an empty path; skip those.
    found.extend(_package(d.path, d.version, "") for d in info.deps if d.path)
    return found


def _package(name: str, version: str, relationship: str) -> Package:
    extra = (("relationship", relationship),) if relationship else ()
    return Package(name=name, version=version, ecosystem="golang", extra=extra)


class GoBinaryAnalyzer(Analyzer):
    """Modules and the Go version from the build info of Go executables."""

    name: ClassVar[str] = "lang/go"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "go"

    def required(self, path: str, size: int) -> bool:
        """Likely executables: see :func:`~spyglass.analyze.lang.elf.binary_candidate`."""
        return binary_candidate(path, size)

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Packages of a Go executable; nothing for other files."""
        if not is_elf(file.reader):
            return AnalyzerResult()
        try:
            info = read_build_info(file)
        except AnalyzerError as exc:
            raise AnalyzerError(f"{file.path}: {exc}") from exc
        return AnalyzerResult(packages=tuple(packages(info))) if info else AnalyzerResult()
