"""lang/rust: crates in Rust executables built with cargo-auditable, and in Cargo.lock files.

cargo-auditable links the dependency tree into a ``.dep-v0`` ELF section as zlib-compressed
JSON (``{"packages": [{"name", "version", "source", "kind", "root", "dependencies"}]}``);
crates with ``"kind": "build"`` (build scripts, proc macros) are not in the executable and are
not reported. Cargo.lock (format v1 without a ``version`` key, v2, v3 and v4 with
``version = N``) lists every ``[[package]]`` with its name and version; it is read with the
standard library's TOML parser. Both report ecosystem ``cargo``.

Executables are chosen as for Go (:func:`~spyglass.analyze.lang.elf.binary_candidate`); a
file that is not ELF, or an ELF file without the section, gives nothing.
"""

from __future__ import annotations

import json
import zlib
from typing import Any, ClassVar

from spyglass.analyze.interface import Analyzer, AnalyzerResult, FileInput
from spyglass.analyze.lang.elf import binary_candidate, is_elf, open_elf
from spyglass.analyze.lang.files import load_toml, text
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

SECTION = ".dep-v0"
_MAX_COMPRESSED = 8 * 1024 * 1024
_MAX_JSON = 64 * 1024 * 1024
"""cargo-auditable data is a few kilobytes; far more is a decompression bomb."""


def read_audit_data(file: FileInput) -> list[Package] | None:
    """Crates from an ELF file's ``.dep-v0`` section; None when it has no such section."""
    elf = open_elf(file.reader, file.size)
    section = elf.section(SECTION)
    if section is None:
        return None
    raw = elf.read_section(section, _MAX_COMPRESSED)
    return parse_audit_json(_inflate(raw), file.path)


def _inflate(raw: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(raw, _MAX_JSON)
    except zlib.error as exc:
        raise AnalyzerError(f"the {SECTION} section is not zlib data ({exc})") from exc
    if inflater.unconsumed_tail:
        raise AnalyzerError(f"the {SECTION} section inflates to over {_MAX_JSON} bytes")
    return data


def parse_audit_json(data: bytes, path: str) -> list[Package]:
    """The runtime crates of cargo-auditable JSON, the root crate first as it is listed."""
    try:
        document: Any = json.loads(data)
    except ValueError as exc:
        raise AnalyzerError(f"{path}: {SECTION} does not hold JSON ({exc})") from exc
    listed = document.get("packages") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise AnalyzerError(f"{path}: {SECTION} JSON has no packages list")
    found = []
    for entry in listed:
        if not isinstance(entry, dict) or entry.get("kind", "runtime") != "runtime":
            continue
        name, version = text(entry.get("name")), text(entry.get("version"))
        if name:
            root = (("relationship", "root"),) if entry.get("root") else ()
            found.append(Package(name=name, version=version, ecosystem="cargo", extra=root))
    return found


def parse_cargo_lock(document: dict[str, Any], path: str) -> list[Package]:
    """Every ``[[package]]`` of a parsed Cargo.lock, once per (name, version)."""
    listed = document.get("package", [])
    if not isinstance(listed, list):
        raise AnalyzerError(f"{path}: [[package]] is not an array of tables; file skipped")
    found: dict[tuple[str, str], Package] = {}
    for entry in listed:
        name = text(entry.get("name")) if isinstance(entry, dict) else ""
        version = text(entry.get("version")) if isinstance(entry, dict) else ""
        if name and version:
            found.setdefault((name, version), Package(name, version, ecosystem="cargo"))
    return list(found.values())


class RustAnalyzer(Analyzer):
    """Crates from cargo-auditable executables and from Cargo.lock."""

    name: ClassVar[str] = "lang/rust"
    version: ClassVar[int] = 1
    group: ClassVar[str] = "rust"

    def required(self, path: str, size: int) -> bool:
        """``Cargo.lock`` anywhere, and likely executables (``binary_candidate``)."""
        return path.rpartition("/")[2] == "Cargo.lock" or binary_candidate(path, size)

    def analyze(self, file: FileInput) -> AnalyzerResult:
        """Crates of one Cargo.lock or executable; nothing for other files."""
        if file.path.rpartition("/")[2] == "Cargo.lock":
            packages = parse_cargo_lock(load_toml(file), file.path)
            return AnalyzerResult(packages=tuple(packages))
        if not is_elf(file.reader):
            return AnalyzerResult()
        try:
            crates = read_audit_data(file)
        except AnalyzerError as exc:
            raise AnalyzerError(f"{file.path}: {exc}") from exc
        return AnalyzerResult(packages=tuple(crates or ()))
