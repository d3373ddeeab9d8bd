"""pkgdb/rpm against the real rpm tool: packages built with rpmbuild, installed into a fresh
SQLite rpmdb, and a GPG key imported; ``rpm -qa`` and ``rpm -ql`` are the oracle."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from spyglass.analyze.pkgdb.rpm.analyzer import RpmAnalyzer
from tests.analyze.pkgdb.test_rpm import got_row, layer
from tests.helpers.analyzers import TreeRun, run_tar
from tests.helpers.services import require_tool

TAGS = ("NAME", "EPOCH", "VERSION", "RELEASE", "ARCH", "SOURCERPM", "MODULARITYLABEL", "LICENSE")
QUERY = "\t".join(f"%{{{tag}}}" for tag in (*TAGS, "VENDOR")) + "\n"

SPEC = """Name: {name}
{epoch}Version: 1.2.3
Release: 4.test
Summary: a probe package for Spyglass tests
License: MIT AND (BSD-2-Clause OR Apache-2.0)
{vendor}BuildArch: {arch}

%description
A probe.

%install
mkdir -p %{{buildroot}}/usr/share/{name}
echo hello > %{{buildroot}}/usr/share/{name}/hello.txt

%files
/usr/share/{name}
"""


def run(args: Sequence[str | Path]) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


def build(
    top: Path, name: str, *, epoch: int | None, vendor: str | None, arch: str, label: str
) -> Path:
    spec = top / f"{name}.spec"
    spec.write_text(
        SPEC.format(
            name=name,
            epoch=f"Epoch: {epoch}\n" if epoch is not None else "",
            vendor=f"Vendor: {vendor}\n" if vendor else "",
            arch=arch,
        )
    )
    defines = ["--define", f"_topdir {top}", "--define", "debug_package %{nil}"]
    if label:
        defines += ["--define", f"modularitylabel {label}"]
    run([require_tool("rpmbuild"), *defines, "-bb", spec])
    (built,) = (top / "RPMS").glob(f"*/{name}-*.rpm")
    return built


def import_key(home: Path, rpm: list[str]) -> None:
    gpg = require_tool("gpg", "apt-get install gpg")
    home.mkdir(mode=0o700)
    base = [gpg, "--batch", "--homedir", str(home), "--passphrase", ""]
    run(
        [
            *base,
            "--quick-gen-key",
            "Spyglass Test <test@example.invalid>",
            "ed25519",
            "sign",
            "never",
        ]
    )
    (home / "key.asc").write_text(run([*base, "--armor", "--export"]))
    run([*rpm, "--import", home / "key.asc"])


@pytest.fixture(scope="module")
def rpmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rpmdb")
    rpm = [require_tool("rpm", "apt-get install rpm"), "--dbpath", str(root / "db")]
    rpm += ["--define", "_db_backend sqlite"]
    run([*rpm, "--initdb"])
    top = root / "top"
    top.mkdir()
    packages = [
        build(
            top, "spyglass-zero", epoch=0, vendor="Spyglass", arch="noarch", label="probe:1:2:ab"
        ),
        build(top, "spyglass-none", epoch=None, vendor=None, arch="noarch", label=""),
        build(top, "spyglass-three", epoch=3, vendor="Spyglass", arch="x86_64", label=""),
    ]
    flags = ["--justdb", "--nodeps", "--nosignature", "--nodigest", "--noscripts", "--ignorearch"]
    run([*rpm, "-i", *flags, *packages])
    import_key(root / "gnupg", rpm)
    return root / "db"


def analyze(db: Path) -> TreeRun:
    return run_tar(
        RpmAnalyzer(), layer({"var/lib/rpm/rpmdb.sqlite": (db / "rpmdb.sqlite").read_bytes()})
    )


def rpm_query(db: Path, *args: str) -> list[str]:
    base = ["rpm", "--dbpath", str(db), "--define", "_db_backend sqlite"]
    return run([*base, *args]).splitlines()


def test_packages_match_rpm_qa(rpmdb: Path) -> None:
    printed = rpm_query(rpmdb, "-qa", "--qf", QUERY)
    assert any(line.startswith("gpg-pubkey\t") for line in printed)
    want = sorted(
        tuple(None if f == "(none)" else f for f in line.split("\t"))
        for line in printed
        if not line.startswith("gpg-pubkey\t")
    )
    got = analyze(rpmdb)
    assert got.unknowns == []
    rows = []
    for p in got.packages:
        name, epoch, version, release, arch, _, _, _, label, license_, vendor = got_row(p)
        source = f"{p.source_name}-{p.source_version}-{p.source_release}.src.rpm"
        epoch_text = None if epoch is None else str(epoch)
        rows.append((name, epoch_text, version, release, arch, source, label, license_, vendor))
    assert sorted(rows) == want
    assert {p.name: p.epoch for p in got.packages} == {
        "spyglass-zero": 0,
        "spyglass-none": None,
        "spyglass-three": 3,
    }


def test_owned_files_match_rpm_ql(rpmdb: Path) -> None:
    printed = rpm_query(rpmdb, "-qa", "--qf", "[%{FILENAMES}\t%{=NAME}\n]")
    want = {line.split("\t")[0].lstrip("/"): line.split("\t")[1] for line in printed}
    want.pop("(none)", None)  # the gpg-pubkey entry owns no files
    assert analyze(rpmdb).owned_files == want
    assert want["usr/share/spyglass-zero/hello.txt"] == "spyglass-zero"
