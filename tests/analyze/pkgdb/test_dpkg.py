"""The dpkg analyzer: every case of ../shared/data/pkgdb/dpkg, and the files packages own.

Cases that ``dpkg-query`` rejects (exit code 2) are decided one by one in ``REJECTED``; the rule
behind every decision is the same: a stanza dpkg would reject is an Unknown with its line
number, and every other stanza of the file is still read.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.pkgdb.dpkg import DpkgAnalyzer, is_installed, parse_stanzas, version_error
from spyglass.inventory import Package
from tests import conftest
from tests.helpers.analyzers import TreeRun, run_tree
from tests.helpers.services import require_tool

FIELDS = ("name", "version", "arch", "source_name", "source_version")

REJECTED: dict[str, str] = {
    "claircore-vcpkg": "unknown",  # vcpkg "Feature" stanzas have no Version: Unknowns; the
    # stanzas with a Version are still reported (see test_rejected_case)
    "scalibr-invalid": "unknown",  # no line is "Field: value"; scalibr expects an error too
    "scalibr-nopackage": "expectation",  # stanza without Package skipped, as scalibr does
    "scalibr-noversion": "expectation",  # stanza without Version skipped, as scalibr does
    "syft-corrupt": "unknown",  # syft expects an error too
    "syft-doc-examples": "none-installed",  # no stanza has a Status: dpkg's rule says none
    # is installed, so nothing is reported (syft lists them, ignoring Status)
    "syft-empty": "unknown",  # "Package:" with no name
    "syft-image-dpkg": "expectation",  # leading empty "Package:" stanza is an Unknown
    "syft-multiple": "expectation",  # as syft, less "no-version", which has no Status
    # (not installed) and no Version (nothing to match)
}
"""Per ``dpkg_query_exit_code: 2`` case: ``unknown`` (a clear Unknown, no package beyond the
stanzas that parse), ``expectation`` (the source project's packages, plus an Unknown for the
stanza dpkg rejects) or ``none-installed``."""

STATUS_D_WITHOUT_STATUS = {"scalibr-statusd": [("foo", "1.2.3", "amd64", "foo", "1.2.3")]}
"""Where we knowingly differ from dpkg-query: a distroless ``status.d`` stanza without a
``Status`` field is installed (scalibr's test "status.d file without Status field set should
work" expects foo 1.2.3; the want.json of syft-distroless-statusd states the same convention)."""


def _cases() -> list[str]:
    root = conftest.testdata_root() / "pkgdb" / "dpkg"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else ["missing"]


def _key(pkg: dict[str, Any] | Package, fields: tuple[str, ...] = FIELDS) -> tuple[Any, ...]:
    data = pkg if isinstance(pkg, dict) else pkg.to_dict()
    return tuple(data.get(f) for f in fields)


def _load(testdata: Path, case: str) -> tuple[dict[str, Any], TreeRun]:
    folder = testdata / "pkgdb" / "dpkg" / case
    return json.loads((folder / "want.json").read_text()), run_tree(DpkgAnalyzer(), folder)


@pytest.mark.realdata
def test_every_rejected_case_is_decided(testdata: Path) -> None:
    root = testdata / "pkgdb" / "dpkg"
    rejected = {
        case.name
        for case in root.iterdir()
        if json.loads((case / "want.json").read_text()).get("dpkg_query_exit_code") == 2
    }
    assert rejected == set(REJECTED)


@pytest.mark.realdata
@pytest.mark.parametrize("case", [c for c in _cases() if c not in REJECTED])
def test_case(testdata: Path, case: str) -> None:
    want, run = _load(testdata, case)
    expected = Counter(_key(p) for p in want["packages"])
    expected.update(STATUS_D_WITHOUT_STATUS.get(case, []))
    assert Counter(_key(p) for p in run.packages) == expected
    assert not run.unknowns
    assert all(p.ecosystem == "deb" and p.analyzer == "pkgdb/dpkg" for p in run.packages)
    assert all(p.path.startswith("var/lib/dpkg/status") for p in run.packages)


@pytest.mark.realdata
@pytest.mark.parametrize("case", _cases())
def test_not_installed_never_reported(testdata: Path, case: str) -> None:
    want, run = _load(testdata, case)
    reported = {(p.name, p.version) for p in run.packages}
    assert not reported & {(p["name"], p["version"]) for p in want.get("not_installed", [])}


@pytest.mark.realdata
@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_case(testdata: Path, case: str) -> None:
    want, run = _load(testdata, case)
    assert want["dpkg_query_exit_code"] == 2
    decision = REJECTED[case]
    got = Counter(_key(p, ("name", "version")) for p in run.packages)
    if decision == "none-installed":
        assert not run.packages and not run.unknowns
        return
    assert run.unknowns and all("line " in u.reason for u in run.unknowns)
    if decision == "expectation":
        expected = [p for p in want["source_project_expectation"]["packages"] if p["version"]]
        assert got == Counter(_key(p, ("name", "version")) for p in expected)
        for pkg in expected:  # every field the source project states, where it states it
            fields = tuple(f for f in ("arch", "source_name") if f in pkg)
            assert any(
                _key(p, fields) == _key(pkg, fields) for p in run.packages if p.name == pkg["name"]
            )
    elif case == "claircore-vcpkg":
        assert all("has no Version" in u.reason for u in run.unknowns)
        assert all(p.version for p in run.packages) and len(run.packages) + len(run.unknowns) == 24
    else:
        assert not run.packages


def _status(text: str, path: str = "var/lib/dpkg/status") -> list[Package]:
    data = text.encode()
    result = DpkgAnalyzer().analyze(FileInput(path, len(data), 0o644, io.BytesIO(data)))
    return list(result.packages)


def test_source_field_forms() -> None:
    text = (
        "Package: libgcc1\nStatus: hold ok installed\nVersion: 1:5.1.1-12ubuntu1\n"
        "Source: gcc-5 (5.1.1-12ubuntu1)\nArchitecture: amd64\n\n"
        "Package: git-core\nStatus: install ok installed\nVersion: 1:2.14.2-1\nSource: git\n\n"
        "Package: sed\nStatus: install ok installed\nVersion: 4.4-2\n"
    )
    got = [_key(p) for p in _status(text)]
    assert got == [
        ("libgcc1", "1:5.1.1-12ubuntu1", "amd64", "gcc-5", "5.1.1-12ubuntu1"),
        ("git-core", "1:2.14.2-1", None, "git", "1:2.14.2-1"),
        ("sed", "4.4-2", None, "sed", "4.4-2"),
    ]


def test_continuation_lines_and_case_insensitive_fields() -> None:
    text = (
        "package: a\nDescription: x\n more\n .\n end\nSTATUS: install ok installed\nversion: 1.0\n"
    )
    (stanza,) = parse_stanzas(text)
    assert stanza.fields["description"] == "x\nmore\n.\nend"
    assert [p.name for p in _status(text)] == ["a"]


def test_version_dpkg_rejects_is_unknown_one_it_warns_about_is_kept() -> None:
    text = (
        "Package: bad\nStatus: install ok installed\nVersion: 1.0-\n\n"
        "Package: odd\nStatus: install ok installed\nVersion: 1:5.#\n\n"
        "Package: ok\nStatus: install ok installed\nVersion: 2\n"
    )
    data = text.encode()
    result = DpkgAnalyzer().analyze(
        FileInput("var/lib/dpkg/status", len(data), 0o644, io.BytesIO(data))
    )
    assert [p.name for p in result.packages] == ["odd", "ok"]
    (unknown,) = result.unknowns
    assert unknown.reason.startswith(
        "line 1: package 'bad' Version '1.0-': revision number is empty"
    )
    assert unknown.analyzer == "pkgdb/dpkg" and unknown.path == "var/lib/dpkg/status"


VERSIONS = [
    *("1.0", "1:2.3-4", "2.1.2-54+usrmerge", "5:20.10.7~3-0~debian-buster", "1.2-3-4", "0:1.0"),
    *("1:5.#", "A1.0", "1::2", "6.0-4.el6.x86_64", "7.4.052-!1ubuntu3.1"),  # dpkg only warns
    *("a:1.0", ":1", "1:", "1.0-", "-1", "2:-1ubuntu3.1", "1.0 2", "99999999999:1", "1a:2"),
]


@pytest.mark.parametrize("version", VERSIONS)
def test_version_error_agrees_with_dpkg_query(tmp_path: Path, version: str) -> None:
    dpkg_query = require_tool("dpkg-query", "apt-get install dpkg")
    (tmp_path / "updates").mkdir()
    (tmp_path / "status").write_text(
        f"Package: p\nStatus: install ok installed\nVersion: {version}\n"
        "Architecture: all\nMaintainer: m\nDescription: d\n"
    )
    done = subprocess.run(
        [dpkg_query, f"--admindir={tmp_path}", "-W"], capture_output=True, text=True, check=False
    )
    dpkg_rejects = "error:" in done.stderr
    assert bool(version_error(version)) is dpkg_rejects, done.stderr


@pytest.mark.parametrize(
    ("status", "installed"),
    [
        ("install ok installed", True),
        ("hold ok installed", True),
        ("deinstall reinstreq installed", True),
        ("deinstall ok config-files", False),
        ("install ok unpacked", False),
        ("install reinstreq half-installed", False),
        ("", False),
    ],
)
def test_is_installed(status: str, installed: bool) -> None:
    assert is_installed(status) is installed


def test_required() -> None:
    analyzer = DpkgAnalyzer()
    assert analyzer.required("var/lib/dpkg/status", 10)
    assert analyzer.required("var/lib/dpkg/status.d/libssl3", 10)
    assert analyzer.required("var/lib/dpkg/status.d/libssl3.md5sums", 10)
    assert analyzer.required("var/lib/dpkg/info/libc6:amd64.list", 10)
    assert not analyzer.required("var/lib/dpkg/status.d/libssl3.preinst", 10)
    assert not analyzer.required("var/lib/dpkg/status-old", 10)
    assert not analyzer.required("var/lib/dpkg/available", 10)
    assert not analyzer.required("var/lib/dpkg/info/libc6:amd64.md5sums", 10)
    assert not analyzer.required("usr/var/lib/dpkg/status", 10)


def test_owned_files_from_info_lists(tmp_path: Path) -> None:
    info = tmp_path / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_text(
        "Package: python3-six\nStatus: install ok installed\nVersion: 1.16.0-4\nArchitecture: all\n"
    )
    (info / "python3-six.list").write_text("/.\n/usr\n/usr/lib/python3/dist-packages/six.py\n")
    (info / "libc6:amd64.list").write_text("/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n")
    (info / "python3-six.md5sums").write_text("abc  usr/lib/python3/dist-packages/six.py\n")
    run = run_tree(DpkgAnalyzer(), tmp_path)
    assert run.owned_files == {
        "usr": "python3-six",
        "usr/lib/python3/dist-packages/six.py": "python3-six",
        "usr/lib/x86_64-linux-gnu/libc.so.6": "libc6",
    }
    assert [p.name for p in run.packages] == ["python3-six"]


@pytest.mark.realdata
def test_owned_files_from_distroless_md5sums(testdata: Path) -> None:
    _, run = _load(testdata, "syft-distroless-statusd")
    assert run.owned_files["usr/lib/aarch64-linux-gnu/libsqlite3.so.0.8.6"] == "libsqlite3-0"
    assert set(run.owned_files.values()) == {"libsqlite3-0"}
