"""lang/rust: cargo-auditable executables and Cargo.lock, checked against every case in
../shared/data/pkgdb/rust-binaries and rust-cargo, plus ELF files built here."""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.lang.rust import RustAnalyzer, read_audit_data
from spyglass.errors import AnalyzerError
from tests import conftest
from tests.analyze.lang.cases import cases, got_rows, load_want, stage, want_rows
from tests.analyze.lang.elf_builder import build_elf
from tests.helpers.analyzers import run_tree

BINARIES = conftest.testdata_root() / "pkgdb" / "rust-binaries"
LOCKS = conftest.testdata_root() / "pkgdb" / "rust-cargo"
ALL = [("rust-binaries", c) for c in cases(BINARIES)] + [("rust-cargo", c) for c in cases(LOCKS)]


def _file(data: bytes, path: str = "usr/local/bin/app") -> FileInput:
    return FileInput(path, len(data), 0o755, io.BytesIO(data))


def _place(folder: str, case: str) -> str:
    return "app/Cargo.lock" if folder == "rust-cargo" else f"usr/local/bin/{case}"


@pytest.mark.realdata
@pytest.mark.parametrize(("folder", "case"), ALL)
def test_case_matches_want(folder: str, case: str, testdata: Path, tmp_path: Path) -> None:
    root = testdata / "pkgdb" / folder / case
    want = load_want(root)
    if want.get("error") and folder == "rust-binaries":  # upstream's parser test: not ELF at all
        data = (root / want["input"]).read_bytes()
        with pytest.raises(AnalyzerError, match="not an ELF"):
            read_audit_data(_file(data))
        return
    run = run_tree(RustAnalyzer(), stage(root, tmp_path, _place(folder, case)))
    if want.get("error"):
        assert run.unknowns and not run.packages
        return
    assert not run.unknowns
    assert got_rows(run.packages, want["packages"]) == want_rows(want["packages"])
    assert all(p.ecosystem == "cargo" for p in run.packages)


def test_all_cases_are_exercised() -> None:
    if not BINARIES.is_dir():
        pytest.skip("real test data not found")
    assert len(ALL) == 8


@pytest.mark.realdata
def test_root_crate_is_marked(testdata: Path) -> None:
    data = (BINARIES / "trivy-rustbinary-parser-test" / "test.elf").read_bytes()
    packages = RustAnalyzer().analyze(_file(data)).packages
    assert [p.extra for p in packages] == [(("relationship", "root"),), ()]


@pytest.mark.realdata
def test_broken_elf_is_an_error(testdata: Path) -> None:
    broken = (BINARIES / "trivy-rustbinary-broken_elf" / "broken_elf").read_bytes()
    with pytest.raises(AnalyzerError, match="broken ELF"):
        RustAnalyzer().analyze(_file(broken))


def _audit(packages: list[dict[str, object]]) -> bytes:
    return zlib.compress(json.dumps({"packages": packages}).encode())


@pytest.mark.parametrize(
    ("is64", "big"), [(True, False), (True, True), (False, False), (False, True)]
)
def test_dep_section_in_every_word_size_and_byte_order(is64: bool, big: bool) -> None:
    section = _audit(
        [
            {"name": "app", "version": "0.1.0", "source": "local", "root": True},
            {"name": "serde", "version": "1.0.190", "source": "crates.io"},
            {"name": "cc", "version": "1.0.83", "source": "crates.io", "kind": "build"},
        ]
    )
    elf = build_elf([(".text", b"\x90" * 32, 0x1000), (".dep-v0", section, 0)], is64=is64, big=big)
    found = RustAnalyzer().analyze(_file(elf)).packages
    assert [(p.name, p.version) for p in found] == [("app", "0.1.0"), ("serde", "1.0.190")]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (b"not zlib", "not zlib"),
        (zlib.compress(b"[1, 2]"), "no packages"),
        (zlib.compress(b"{"), "JSON"),
        (zlib.compress(b"\0" * (65 * 1024 * 1024)), "over"),
    ],
)
def test_bad_dep_section_is_an_error(section: bytes, message: str) -> None:
    elf = build_elf([(".dep-v0", section, 0)])
    with pytest.raises(AnalyzerError, match=message):
        RustAnalyzer().analyze(_file(elf))


def test_elf_without_section_and_non_elf_are_nothing() -> None:
    assert (
        RustAnalyzer().analyze(_file(build_elf([(".text", b"\x90" * 32, 0x1000)]))).packages == ()
    )
    assert RustAnalyzer().analyze(_file(b"#!/bin/sh\necho hi\n" * 4)).packages == ()


def test_cargo_lock_v1_without_version_key() -> None:
    lock = (
        b'[[package]]\nname = "a"\nversion = "1.0.0"\n'
        b'dependencies = ["b 0.2.0 (registry+https://github.com/rust-lang/crates.io-index)"]\n\n'
        b'[[package]]\nname = "b"\nversion = "0.2.0"\n'
        b'source = "registry+https://github.com/rust-lang/crates.io-index"\n\n'
        b"[metadata]\n"
        b'"checksum b 0.2.0 (registry+https://github.com/rust-lang/crates.io-index)" = "00"\n'
    )
    found = RustAnalyzer().analyze(_file(lock, "src/app/Cargo.lock")).packages
    assert [(p.name, p.version) for p in found] == [("a", "1.0.0"), ("b", "0.2.0")]


@pytest.mark.parametrize(
    ("path", "size", "wanted"),
    [
        ("app/Cargo.lock", 10, True),
        ("usr/local/cargo/registry/src/x/Cargo.lock", 10, True),
        ("usr/local/bin/ripgrep", 5_000_000, True),
        ("app/Cargo.toml", 100, False),
        ("app/cargo.lock.bak", 100, False),
        ("usr/share/doc/x/copyright", 100, False),
    ],
)
def test_required(path: str, size: int, wanted: bool) -> None:
    assert RustAnalyzer().required(path, size) is wanted
