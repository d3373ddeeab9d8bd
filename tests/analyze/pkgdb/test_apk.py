"""The apk analyzer: every case of ../shared/data/pkgdb/apk, and three real Alpine root file
systems streamed from their tarballs with the OS detected beside the packages."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.os.release import OSReleaseAnalyzer, detect
from spyglass.analyze.pkgdb.apk import ApkAnalyzer, parse_entries, split_licenses
from spyglass.inventory import OSRelease, Package
from tests import conftest
from tests.helpers.analyzers import TreeRun, run_tar, run_tree

FIELDS = ("name", "version", "arch", "source_name", "source_version")

LICENSES_NORMALISED_UPSTREAM = {"trivy-apk"}
"""trivy rewrites licence names (``GPL2`` to ``GPL-2.0-only``) with its own table; we keep
the names the database states, so licences are compared only where upstream kept them too."""

ERROR_CASES = {
    "scalibr-invalid": 0,  # nothing in the file is a stanza
    "syft-corrupt": 1,  # a garbage line, then one good stanza, which is still reported
}
"""Cases whose upstream expects a failure: an Unknown each, and the number of packages that
still parse (apk-tools rejects the whole file; a scanner should keep what it can read)."""

MINIROOTFS = {
    "alpine-minirootfs-3.10.9-x86_64": "3.10.9",
    "alpine-minirootfs-3.18.9-x86_64": "3.18.9",
    "alpine-minirootfs-3.20.3-x86_64": "3.20.3",
}


def _cases() -> list[str]:
    root = conftest.testdata_root() / "pkgdb" / "apk"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else ["missing"]


def _key(pkg: dict[str, Any] | Package, fields: tuple[str, ...]) -> tuple[Any, ...]:
    data = pkg if isinstance(pkg, dict) else pkg.to_dict()
    return tuple(tuple(data[f]) if f == "licenses" else data.get(f) for f in fields)


def _load(testdata: Path, case: str) -> tuple[dict[str, Any], TreeRun]:
    folder = testdata / "pkgdb" / "apk" / case
    return json.loads((folder / "want.json").read_text()), run_tree(ApkAnalyzer(), folder)


@pytest.mark.realdata
@pytest.mark.parametrize("case", [c for c in _cases() if c not in ERROR_CASES])
def test_case(testdata: Path, case: str) -> None:
    want, run = _load(testdata, case)
    assert not want.get("error")
    assert run.wanted == ["lib/apk/db/installed"]
    for pkg in want["packages"]:  # source_version is stated by trivy only
        pkg.setdefault("source_version", pkg["version"] if pkg.get("source_name") else None)
    assert Counter(_key(p, FIELDS) for p in run.packages) == Counter(
        _key(p, FIELDS) for p in want["packages"]
    )
    if case not in LICENSES_NORMALISED_UPSTREAM:
        stated = [p for p in want["packages"] if "licenses" in p]
        fields = ("name", "licenses")
        assert Counter(_key(p, fields) for p in run.packages if p.licenses) >= Counter(
            _key(p, fields) for p in stated
        )
    commits = {p["name"]: p["git_commit"] for p in want["packages"] if "git_commit" in p}
    assert {
        p.name: dict(p.extra)["git_commit"] for p in run.packages if p.name in commits
    } == commits
    assert all(p.ecosystem == "apk" and p.path == "lib/apk/db/installed" for p in run.packages)


@pytest.mark.realdata
def test_stanza_without_version_is_an_unknown(testdata: Path) -> None:
    _, run = _load(testdata, "trivy-apk")
    (unknown,) = run.unknowns
    assert "invalidPackageWithoutAVersion" in unknown.reason and "line 23" in unknown.reason
    assert unknown.analyzer == "pkgdb/apk"


@pytest.mark.realdata
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_case(testdata: Path, case: str) -> None:
    want, run = _load(testdata, case)
    assert want["error"] is True
    assert run.unknowns and all("is not an 'X:value' line" in u.reason for u in run.unknowns)
    assert len(run.packages) == ERROR_CASES[case]


@pytest.mark.realdata
def test_owned_files_keep_directories_and_files(testdata: Path) -> None:
    want, run = _load(testdata, "syft-extra-file-attributes")
    expected = {path.lstrip("/"): "openjdk8-jre" for path in want["files_expected"]}
    assert run.owned_files == expected


def _read(text: str) -> list[Package]:
    data = text.encode()
    file = FileInput("lib/apk/db/installed", len(data), 0o644, io.BytesIO(data))
    return list(ApkAnalyzer().analyze(file).packages)


def test_fields_and_windows_line_ends() -> None:
    text = "P:musl\r\nV:1.2.4-r2\r\nA:aarch64\r\no:musl\r\nL:MIT\r\n\r\nP:x\r\nV:1\r\n"
    (musl, x) = _read(text)
    assert (musl.name, musl.version, musl.arch, musl.source_name, musl.licenses) == (
        "musl",
        "1.2.4-r2",
        "aarch64",
        "musl",
        ("MIT",),
    )
    assert (x.arch, x.source_name, x.source_version, x.licenses) == (None, None, None, ())


def test_file_lines_follow_their_directory() -> None:
    (entry,) = parse_entries("P:a\nV:1\nR:top\nF:etc\nR:passwd\na:0:0:644\nF:usr/bin\nR:ls\n")
    assert entry.files == ["top", "etc", "etc/passwd", "usr/bin", "usr/bin/ls"]


@pytest.mark.parametrize(
    ("value", "licenses"),
    [
        ("MIT BSD GPL2+", ("MIT", "BSD", "GPL2+")),
        ("GPL-2.0-only", ("GPL-2.0-only",)),
        (
            "MIT AND BSD-2-Clause AND GPL-2.0-or-later",
            ("MIT AND BSD-2-Clause AND GPL-2.0-or-later",),
        ),
        ("( Apache-2.0 OR MIT ) AND MPL-2.0", ("( Apache-2.0 OR MIT ) AND MPL-2.0",)),
        (
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            ("GPL-2.0-or-later WITH Classpath-exception-2.0",),
        ),
        ("", ()),
    ],
)
def test_split_licenses(value: str, licenses: tuple[str, ...]) -> None:
    assert split_licenses(value) == licenses


def test_required() -> None:
    analyzer = ApkAnalyzer()
    assert analyzer.required("lib/apk/db/installed", 10)
    assert not analyzer.required("lib/apk/db/installed.old", 10)
    assert not analyzer.required("usr/lib/apk/db/installed", 10)


def _sha512sums(folder: Path) -> dict[str, str]:
    lines = (
        line.split() for line in (folder / "SHA512SUMS").read_text().splitlines() if line.strip()
    )
    return {name.lstrip("*"): digest for digest, name in lines}


def _sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(MINIROOTFS))
def test_alpine_minirootfs(testdata: Path, name: str) -> None:
    folder = testdata / "images" / "alpine-minirootfs"
    tarball = folder / f"{name}.tar.gz"
    assert _sha512(tarball) == _sha512sums(folder)[tarball.name]
    want = json.loads((folder / f"{name}.packages.json").read_text())
    run = run_tar([OSReleaseAnalyzer(), ApkAnalyzer()], tarball)
    assert not run.unknowns
    found = detect(run.captured)
    assert found is not None and found.family == "alpine" and found.version == MINIROOTFS[name]
    assert found == OSRelease("alpine", want["os"]["alpine_release"], found.name)
    fields = ("name", "version", "arch", "source_name")
    assert Counter(_key(p, fields) for p in run.packages) == Counter(
        _key(p, fields) for p in want["packages"]
    )
    licenses = {p["name"]: split_licenses(p["license"]) for p in want["packages"]}
    assert {p.name: p.licenses for p in run.packages} == licenses
    assert run.owned_files["bin/busybox"] == "busybox"
