"""pkgdb/rpm on the real databases of ../shared/data/pkgdb/rpm, read from a layer tar.

Each case's database sits at the top of its folder (the name rpm gives it); the test puts it
into a one-layer tar at the path an image holds it, so ``required`` is exercised too, and
compares with ``want.json`` (what ``rpm -qa`` printed) as a multiset.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.pkgdb.rpm.analyzer import MANIFEST, RpmAnalyzer
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package
from tests.helpers.analyzers import TreeRun, run_tar, run_tree

DB_NAMES = ("rpmdb.sqlite", "Packages", "Packages.db")
Row = tuple[Any, ...]


def layer(files: dict[str, bytes]) -> io.BytesIO:
    """An uncompressed layer tar holding ``files`` (path -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def database(case: Path) -> Path:
    """The one database file of a case folder."""
    (found,) = [case / n for n in DB_NAMES if (case / n).exists()]
    return found


def run_case(case: Path, directory: str = "var/lib/rpm") -> TreeRun:
    """Run the analyzer on the case's database placed under ``directory`` in a layer."""
    if (case / MANIFEST).exists():
        return run_tree(RpmAnalyzer(), case)
    db = database(case)
    return run_tar(RpmAnalyzer(), layer({f"{directory}/{db.name}": db.read_bytes()}))


def got_row(p: Package) -> Row:
    extra = dict(p.extra)
    source = (p.source_name, p.source_version, p.source_release)
    license_ = p.licenses[0] if p.licenses else None
    labels = (extra.get("modularitylabel"), license_, extra.get("vendor"))
    return (p.name, p.epoch, p.version, p.release, p.arch, *source, *labels)


def want_row(p: dict[str, Any]) -> Row:
    source = (p.get("source_name"), p.get("source_version"), p.get("source_release"))
    labels = (p.get("modularitylabel"), p.get("license"), p.get("vendor"))
    return (p["name"], p["epoch"], p["version"], p.get("release"), p.get("arch"), *source, *labels)


def case_names(root: Path) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/want.json"))


@pytest.fixture(scope="module")
def rpm_data(testdata: Path) -> Path:
    return testdata / "pkgdb" / "rpm"


@pytest.mark.realdata
def test_every_case_is_covered(rpm_data: Path) -> None:
    assert set(case_names(rpm_data)) >= {
        "libuuid-bdb", "mariner-distroless-manifest", "mariner2-sqlite", "scalibr-empty-sqlite",
        "scalibr-epoch-bdb", "scalibr-invalid", "sle15-bci-ndb", "syft-dive-bdb",
    }  # fmt: skip


@pytest.mark.realdata
@pytest.mark.parametrize(
    "case",
    ["libuuid-bdb", "mariner-distroless-manifest", "mariner2-sqlite", "scalibr-epoch-bdb",
     "sle15-bci-ndb", "syft-dive-bdb"],
)  # fmt: skip
def test_case_matches_rpm_qa(rpm_data: Path, case: str) -> None:
    want = json.loads((rpm_data / case / "want.json").read_text())
    run = run_case(rpm_data / case)
    assert run.unknowns == []
    assert Counter(got_row(p) for p in run.packages) == Counter(map(want_row, want["packages"]))
    assert all(p.ecosystem == "rpm" and p.analyzer == "pkgdb/rpm" for p in run.packages)
    assert {p.path for p in run.packages} == set(run.wanted)


@pytest.mark.realdata
@pytest.mark.parametrize("case", ["scalibr-empty-sqlite", "scalibr-invalid"])
def test_error_cases_give_an_unknown(rpm_data: Path, case: str) -> None:
    assert json.loads((rpm_data / case / "want.json").read_text())["error"] is True
    run = run_case(rpm_data / case)
    assert run.packages == []
    assert len(run.unknowns) == 1
    assert run.unknowns[0].path == run.wanted[0]
    assert run.unknowns[0].reason


@pytest.mark.realdata
def test_sysimage_path_and_owned_files(rpm_data: Path) -> None:
    run = run_case(rpm_data / "sle15-bci-ndb", "usr/lib/sysimage/rpm")
    assert run.wanted == ["usr/lib/sysimage/rpm/Packages.db"]
    assert len(run.packages) == 35
    assert run.owned_files["usr/bin/bash"] == "bash"
    assert not any(path.startswith("/") for path in run.owned_files)


@pytest.mark.realdata
def test_sqlite_owned_files(rpm_data: Path) -> None:
    run = run_case(rpm_data / "mariner2-sqlite")
    # Counted with rpm 4.18: rpm -qa --qf '[%{FILENAMES}\n]' lists 7269 paths, 7047 distinct
    # (directories such as usr/share/licenses belong to several packages).
    (result,) = run.results.values()
    assert len(result.owned_files) == 7269
    assert len(run.owned_files) == 7047
    assert run.owned_files["usr/lib/libcurl.so.4"] == "curl-libs"


def test_required_paths() -> None:
    analyzer = RpmAnalyzer()
    for directory in ("var/lib/rpm", "usr/lib/sysimage/rpm"):
        for name in DB_NAMES:
            assert analyzer.required(f"{directory}/{name}", 1)
    assert analyzer.required(MANIFEST, 1)
    for path in ("var/lib/rpm/Name", "var/lib/rpm/Packages.bak", "Packages", "rpmdb.sqlite",
                 "home/x/var/lib/rpm/Packages", "var/lib/rpm/rpmdb.sqlite-wal"):  # fmt: skip
        assert not analyzer.required(path, 1)


@pytest.mark.realdata
def test_damaged_ndb_blob_loses_only_that_package(rpm_data: Path) -> None:
    data = bytearray((rpm_data / "sle15-bci-ndb" / "Packages.db").read_bytes())
    data[0x1000 + 200] ^= 0xFF  # inside the first blob after the slot page
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/Packages.db": bytes(data)}))
    assert len(run.packages) == 34
    (unknown,) = run.unknowns
    assert "checksum" in unknown.reason and unknown.analyzer == "pkgdb/rpm"


@pytest.mark.realdata
def test_damaged_sqlite_row_loses_only_that_package(rpm_data: Path, tmp_path: Path) -> None:
    copy = tmp_path / "rpmdb.sqlite"
    copy.write_bytes((rpm_data / "mariner2-sqlite" / "rpmdb.sqlite").read_bytes())
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE Packages SET blob = x'00000001' WHERE hnum = 5")
        conn.execute("UPDATE Packages SET blob = 'text' WHERE hnum = 6")
    conn.close()
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/rpmdb.sqlite": copy.read_bytes()}))
    assert len(run.packages) == 127
    assert sorted(u.reason.split(":")[0] for u in run.unknowns) == ["record 5", "record 6"]


@pytest.mark.realdata
def test_damaged_bdb_overflow_page(rpm_data: Path) -> None:
    data = bytearray((rpm_data / "libuuid-bdb" / "Packages").read_bytes())
    page_size = 4096
    overflow = next(
        n for n in range(1, len(data) // page_size) if data[n * page_size + 25] == 7
    )  # first overflow page of the header
    data[overflow * page_size + 25] = 13
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/Packages": bytes(data)}))
    assert run.packages == []
    assert len(run.unknowns) == 1 and "overflow" in run.unknowns[0].reason


def test_empty_sqlite_database_has_no_packages(tmp_path: Path) -> None:
    path = tmp_path / "rpmdb.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    conn.close()
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/rpmdb.sqlite": path.read_bytes()}))
    assert (run.packages, run.unknowns) == ([], [])


def test_sqlite_without_packages_table(tmp_path: Path) -> None:
    path = tmp_path / "rpmdb.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE Other (x)")
    conn.close()
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/rpmdb.sqlite": path.read_bytes()}))
    assert run.packages == [] and "no such table" in run.unknowns[0].reason


@pytest.mark.parametrize("name", DB_NAMES)
@pytest.mark.parametrize(
    "content", [b"", b"asdf\n", b"\0" * 8192, b"SQLite format 3\0" + b"\xff" * 200]
)
def test_garbage_gives_one_unknown(name: str, content: bytes) -> None:
    run = run_tar(RpmAnalyzer(), layer({f"var/lib/rpm/{name}": content}))
    assert run.packages == []
    assert len(run.unknowns) == 1 and run.unknowns[0].reason


def test_manifest_bad_lines_are_unknowns() -> None:
    good = "vim\t9.0-1.cm2\t1\t2\tMicrosoft Corporation\t2\t45000\tx86_64\t2\tvim-9.0-1.cm2.src.rpm"
    text = f"{good}\nbroken line\n\nzlib\t1.2-1\t1\t2\t(none)\tx\t1\tx86_64\t0\t(none)\n"
    run = run_tar(RpmAnalyzer(), layer({MANIFEST: text.encode()}))
    (vim,) = run.packages
    assert (vim.epoch, vim.version, vim.release, vim.source_name) == (2, "9.0", "1.cm2", "vim")
    assert dict(vim.extra) == {"vendor": "Microsoft Corporation"}
    assert [u.reason.split(":")[0] for u in run.unknowns] == ["record 2", "record 4"]


@pytest.mark.realdata
def test_truncated_ndb_keeps_the_blobs_before_the_cut(rpm_data: Path) -> None:
    data = (rpm_data / "sle15-bci-ndb" / "Packages.db").read_bytes()
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/Packages.db": data[: len(data) // 2]}))
    assert 0 < len(run.packages) < 35
    assert len(run.packages) + len(run.unknowns) == 35
    assert all("truncated" in u.reason for u in run.unknowns)


@pytest.mark.realdata
def test_ndb_bad_slot_page(rpm_data: Path) -> None:
    data = bytearray((rpm_data / "sle15-bci-ndb" / "Packages.db").read_bytes())
    data[0x40:0x44] = b"Xlot"
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/Packages.db": bytes(data)}))
    assert run.packages == [] and "slot" in run.unknowns[0].reason


def test_analyze_refuses_a_path_it_did_not_ask_for() -> None:
    run = run_tar(RpmAnalyzer(), layer({"var/lib/rpm/Packages": b"x"}))
    assert run.wanted == ["var/lib/rpm/Packages"]
    with pytest.raises(AnalyzerError, match="not an rpm database"):
        RpmAnalyzer().analyze(FileInput("etc/passwd", 1, 0o644, io.BytesIO(b"x")))
