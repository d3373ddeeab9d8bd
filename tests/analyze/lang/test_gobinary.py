"""lang/go: Go build info from real executables in ../shared/data/pkgdb/go-binaries, and from
ELF files built here in every word size and byte order, in both build info layouts."""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.lang.gobinary import (
    MAGIC,
    GoBinaryAnalyzer,
    ldflags_version,
    parse_modinfo,
    read_build_info,
    stdlib_version,
)
from spyglass.errors import AnalyzerError
from tests import conftest
from tests.analyze.lang.cases import cases, got_rows, load_want, stage, want_rows
from tests.analyze.lang.elf_builder import build_elf
from tests.helpers.analyzers import run_tree

DATA = conftest.testdata_root() / "pkgdb" / "go-binaries"
ALL = cases(DATA)
BASE = 0x500000
MODINFO = (
    "path\texample.com/app\n"
    "mod\texample.com/app\tv1.2.3\th1:abc=\n"
    "dep\tgolang.org/x/text\tv0.3.7\th1:def=\n"
    "dep\tgithub.com/old/lib\tv1.0.0\n"
    "=>\tgithub.com/new/lib\tv1.1.0\th1:ghi=\n"
    "build\t-ldflags=\"-s -X 'main.version=2.0.0'\"\n"
)


def _file(data: bytes, path: str = "usr/local/bin/app") -> FileInput:
    return FileInput(path, len(data), 0o755, io.BytesIO(data))


@pytest.mark.realdata
@pytest.mark.parametrize("case", ALL)
def test_case_matches_want(case: str, testdata: Path, tmp_path: Path) -> None:
    want = load_want(DATA / case)
    if want.get("error"):  # upstream's parser test: the file is not an executable at all
        with (DATA / case / want["input"]).open("rb") as reader:
            size = (DATA / case / want["input"]).stat().st_size
            with pytest.raises(AnalyzerError):
                read_build_info(FileInput(want["input"], size, 0o755, reader))
        return
    run = run_tree(GoBinaryAnalyzer(), stage(DATA / case, tmp_path, f"usr/local/bin/{case}"))
    assert got_rows(run.packages, want["packages"]) == want_rows(want["packages"])
    assert all(p.ecosystem == "golang" for p in run.packages)


def test_all_cases_are_exercised() -> None:
    if not DATA.is_dir():
        pytest.skip("real test data not found")
    assert len(ALL) == 6


@pytest.mark.realdata
def test_broken_elf_is_an_error_and_a_script_is_nothing(testdata: Path) -> None:
    broken = (DATA / "trivy-gobinary-broken_elf" / "broken_elf").read_bytes()
    with pytest.raises(AnalyzerError, match="broken ELF"):
        GoBinaryAnalyzer().analyze(_file(broken))
    script = (DATA / "trivy-gobinary-not-a-binary-shell-script" / "executable_bash").read_bytes()
    assert GoBinaryAnalyzer().analyze(_file(script)).packages == ()


def _frame(modinfo: str) -> bytes:
    return b"\x30" * 16 + modinfo.encode() + b"\xf9" * 16


def _varint(n: int) -> bytes:
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def inline_blob(version: str, modinfo: str, ptr: int, big: bool) -> bytes:
    """Go >= 1.18: flags bit 2, strings inline after the 32-byte header."""
    header = MAGIC + bytes([ptr, 2 | int(big)])
    header += b"\0" * (32 - len(header))
    framed = _frame(modinfo)
    return header + _varint(len(version)) + version.encode() + _varint(len(framed)) + framed


def pointer_blob(version: str, modinfo: str, ptr: int, big: bool) -> bytes:
    """Go < 1.18: two pointers to string headers (data pointer, length) elsewhere in memory."""
    word = (">" if big else "<") + ("Q" if ptr == 8 else "I")
    framed, vers = _frame(modinfo), version.encode()
    headers = BASE + 32
    strings = headers + 4 * ptr
    header = MAGIC + bytes([ptr, int(big)]) + struct.pack(word, headers)
    header += struct.pack(word, headers + 2 * ptr)
    header += b"\0" * (32 - len(header))
    body = struct.pack(word, strings) + struct.pack(word, len(vers))
    body += struct.pack(word, strings + len(vers)) + struct.pack(word, len(framed))
    return header + body + vers + framed


@pytest.mark.parametrize("layout", [inline_blob, pointer_blob])
@pytest.mark.parametrize(
    ("is64", "big"), [(True, False), (True, True), (False, False), (False, True)]
)
def test_every_word_size_byte_order_and_layout(
    layout: Callable[[str, str, int, bool], bytes], is64: bool, big: bool
) -> None:
    blob = layout("go1.17.13", MODINFO, 8 if is64 else 4, big)
    elf = build_elf(
        [(".text", b"\x90" * 64, 0x400000), (".go.buildinfo", blob, BASE)], is64=is64, big=big
    )
    result = GoBinaryAnalyzer().analyze(_file(elf))
    assert [(p.name, p.version) for p in result.packages] == [
        ("example.com/app", "v1.2.3"),
        ("stdlib", "v1.17.13"),
        ("golang.org/x/text", "v0.3.7"),
        ("github.com/new/lib", "v1.1.0"),
    ]


def test_header_found_in_data_segment_without_section_name() -> None:
    blob = inline_blob("go1.22.0", MODINFO, 8, False)
    elf = build_elf([(".data", b"\0" * 48 + blob, BASE)])
    names = [p.name for p in GoBinaryAnalyzer().analyze(_file(elf)).packages]
    assert names[:2] == ["example.com/app", "stdlib"]


def test_elf_without_build_info_is_nothing() -> None:
    elf = build_elf([(".text", b"\x90" * 64, 0x400000), (".data", b"\1" * 64, BASE)])
    assert GoBinaryAnalyzer().analyze(_file(elf)).packages == ()


def test_real_c_program_of_this_machine_is_nothing() -> None:
    path = Path("/usr/bin/true")
    if not path.exists():
        pytest.skip("/usr/bin/true not present")
    with path.open("rb") as reader:
        result = GoBinaryAnalyzer().analyze(
            FileInput("usr/bin/true", path.stat().st_size, 0o755, reader)
        )
    assert result.packages == ()


def test_damaged_files_never_crash() -> None:
    elf = build_elf([(".go.buildinfo", pointer_blob("go1.16", MODINFO, 8, False), BASE)])
    for at in range(0, len(elf), 3):
        for value in (0x00, 0xFF, 0x7F):
            damaged = elf[:at] + bytes([value]) + elf[at + 1 :]
            with contextlib.suppress(AnalyzerError):
                GoBinaryAnalyzer().analyze(_file(damaged))
    for cut in range(0, len(elf), 7):
        with contextlib.suppress(AnalyzerError):
            GoBinaryAnalyzer().analyze(_file(elf[:cut]))


def test_local_directory_replacement_keeps_the_module_path_without_version() -> None:
    info = parse_modinfo(
        "go1.21.5",
        "mod\texample.com/a\tv1.0.0\t\n"
        "dep\tgithub.com/x/y\tv1.2.0\th1:a=\n=>\t../y-fork\t\t\n"
        "dep\tgithub.com/x/z\tv0.1.0\th1:b=\n",
    )
    assert [(d.path, d.version) for d in info.deps] == [
        ("github.com/x/y", ""),
        ("github.com/x/z", "v0.1.0"),
    ]


def test_devel_main_module_uses_ldflags_version_else_empty() -> None:
    info = parse_modinfo(
        "go1.21.5", 'mod\texample.com/a\t(devel)\t\nbuild\t-ldflags="-X main.version=1.4.0"\n'
    )
    assert ldflags_version(info.settings) == "v1.4.0"
    plain = parse_modinfo("go1.21.5", "mod\texample.com/a\t(devel)\t\n")
    assert ldflags_version(plain.settings) == ""


@pytest.mark.parametrize(
    ("flags", "want"),
    [
        ("-X main.version=v1.0.0", "v1.0.0"),
        ("-X=main.version=1.2.3", "v1.2.3"),
        ("-w -X 'github.com/x/y/version.Version=0.9.1'", "v0.9.1"),
        ("-X github.com/x/y/cmd.version=2.0.0-rc.1", "v2.0.0-rc.1"),
        ("-X main.commit=abcdef", ""),
        ("-X main.version=dev", ""),
        ('-X "main.version', ""),
    ],
)
def test_ldflags_version(flags: str, want: str) -> None:
    assert ldflags_version((("-ldflags", flags),)) == want


@pytest.mark.parametrize(
    ("go", "want"),
    [
        ("go1.21.5", "v1.21.5"),
        ("go1.21", "v1.21.0"),
        ("go1.21rc2", "v1.21.0-rc.2"),
        ("go1.9beta1", "v1.9.0-beta.1"),
        ("go1.22.1 X:loopvar", "v1.22.1"),
        ("devel go1.23-abcdef", ""),
    ],
)
def test_stdlib_version(go: str, want: str) -> None:
    assert stdlib_version(go) == want


@pytest.mark.parametrize(
    ("path", "size", "wanted"),
    [
        ("usr/local/bin/app", 2_000_000, True),
        ("usr/bin/kubectl", 50_000_000, True),
        ("opt/tool/bin/run.sh", 1000, True),
        ("app/server", 8_000_000, True),
        ("usr/lib/go/pkg/tool/linux_amd64/compile", 8_000_000, True),
        ("app/server", 40, False),
        ("app/server", 300 * 1024 * 1024, False),
        ("app/main.go", 4000, False),
        ("etc/hostname", 100, False),
        ("usr/share/doc/bash/README", 5000, False),
        ("usr/lib/node_modules/npm/LICENSE", 5000, False),
        ("usr/lib/x86_64-linux-gnu/libc.so.6", 2_000_000, False),
    ],
)
def test_required(path: str, size: int, wanted: bool) -> None:
    assert GoBinaryAnalyzer().required(path, size) is wanted
