"""lang/python: installed distributions, checked against every installed-package case in
../shared/data/pkgdb/python, plus the paths the analyzer asks for."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.lang.python import PythonAnalyzer, parse_metadata
from spyglass.analyze.lang.python_lock import PythonLockAnalyzer, parse_requirements
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package
from tests import conftest
from tests.analyze.lang.cases import cases, got_rows, load_want, stage, want_rows
from tests.helpers.analyzers import run_tree

DATA = conftest.testdata_root() / "pkgdb" / "python"
SITE = "usr/lib/python3.11/site-packages"

LOCK_FORMATS = ("requirements", "Pipfile.lock", "poetry.lock", "uv.lock", "pdm", "pylock")


def _is_lock_case(case: str) -> bool:
    fmt = load_want(DATA / case)["format"]
    return any(word in fmt for word in LOCK_FORMATS) or case == "syft-python-pdm-lock"


INSTALLED = [c for c in cases(DATA) if not _is_lock_case(c)]

# Where an image holds each single-file input (the data names them for the test, not the image).
PLACES = {
    "egginfo": f"{SITE}/pycups-2.0.1.egg-info",
    "egginfo_pkginfo": f"{SITE}/setuptools-57.4.0.egg-info/PKG-INFO",
    "pkginfo": f"{SITE}/httplib2-0.20.4.egg-info/PKG-INFO",
    "distlib-0.3.1-py3.9.egg-info": f"{SITE}/distlib-0.3.1-py3.9.egg-info",
    "setuptools-51.3.3-py3.8.egg-info.PKG-INFO": f"{SITE}/setuptools.egg-info/PKG-INFO",
    "unidecode-egg-info.PKG-INFO": f"{SITE}/Unidecode-0.4.1.egg-info/PKG-INFO",
}

# Upstream resolves this License-File by classifying the licence text (a licence scanner, not
# metadata parsing); Spyglass reports the reference, so only name and version are compared.
LICENCE_FROM_FILE_TEXT = {"trivy-site-packages-license-file-dist", "trivy-egg-sample_package.egg"}


# syft lower-cases distribution names in its expectations; Spyglass keeps them as written (the
# matcher normalises), so names are compared lower-cased for syft's cases.
def _names_lowered(case: str, packages: list[Package]) -> list[Package]:
    if not case.startswith("syft-"):
        return packages
    return [replace(p, name=p.name.lower()) for p in packages]


def _place(case: str, source: str) -> str:
    if source.rstrip("/") == "input":
        # syft's "partial.dist-info" case is the inside of a folder named like the case.
        suffix = case.removeprefix("syft-python-")
        return f"{SITE}/{suffix}" if suffix.endswith(".dist-info") else SITE
    if source in PLACES:
        return PLACES[source]
    if source.endswith((".egg", ".whl")):
        return f"{SITE}/{source}"
    return f"{SITE}/case.dist-info/METADATA"


@pytest.mark.realdata
@pytest.mark.parametrize("case", INSTALLED)
def test_installed_case_matches_want(case: str, testdata: Path, tmp_path: Path) -> None:
    want = load_want(DATA / case)
    rootfs = stage(DATA / case, tmp_path, _place(case, want["input"]))
    run = run_tree(PythonAnalyzer(), rootfs)
    wanted = want["packages"]
    if case in LICENCE_FROM_FILE_TEXT:
        wanted = [{k: v for k, v in p.items() if k != "licenses"} for p in wanted]
    if want.get("error"):
        assert run.unknowns and not run.packages
        return
    assert not run.unknowns
    assert got_rows(_names_lowered(case, run.packages), wanted) == want_rows(wanted)


def test_all_installed_cases_are_exercised() -> None:
    if not DATA.is_dir():
        pytest.skip("real test data not found")
    assert len(INSTALLED) >= 35


@pytest.mark.parametrize(
    "path",
    [
        f"{SITE}/requests-2.31.0.dist-info/METADATA",
        "usr/lib/python3/dist-packages/PyYAML-6.0.egg-info",
        f"{SITE}/six-1.16.0-py3.11.egg-info/PKG-INFO",
        f"{SITE}/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO",
        f"{SITE}/monotonic-1.6-py3.10.egg",
        "app/.venv/lib/python3.12/site-packages/idna-3.6.dist-info/METADATA",
    ],
)
def test_wants_metadata_files(path: str) -> None:
    assert PythonAnalyzer().required(path, 4096)


@pytest.mark.parametrize(
    "path",
    [
        f"{SITE}/requests-2.31.0.dist-info/RECORD",
        f"{SITE}/requests/METADATA",
        "src/foo-1.0/PKG-INFO",
        f"{SITE}/requests/__init__.py",
    ],
)
def test_ignores_other_files(path: str) -> None:
    assert not PythonAnalyzer().required(path, 4096)


def test_header_ends_at_first_blank_line() -> None:
    text = "Name: a\nVersion: 1\nLicense: X\n\nClassifier: License :: OSI Approved :: MIT License\n"
    assert parse_metadata(text, "a.dist-info/METADATA").licenses == ("X",)


def test_license_expression_wins() -> None:
    text = "Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: BSD\n"
    assert parse_metadata(text, "a.dist-info/METADATA").licenses == ("MIT OR Apache-2.0",)


def test_metadata_without_name_is_an_error() -> None:
    with pytest.raises(AnalyzerError, match="no Name"):
        parse_metadata("Version: 1.0\n", "x.dist-info/METADATA")


def test_broken_wheel_becomes_an_error() -> None:
    data = b"PK\x03\x04 not really a zip"
    file = FileInput("w-1.0-py3-none-any.whl", len(data), 0o644, io.BytesIO(data))
    with pytest.raises(AnalyzerError, match="zip"):
        PythonAnalyzer().analyze(file)


def test_wheel_metadata_is_read_from_the_dist_info_folder() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pkg/METADATA", "Name: wrong\nVersion: 0\n")
        archive.writestr("pkg-2.0.dist-info/METADATA", "Name: pkg\nVersion: 2.0\n")
    buffer.seek(0)
    result = PythonAnalyzer().analyze(FileInput("pkg-2.0-py3-none-any.whl", 1, 0o644, buffer))
    assert [(p.name, p.version, p.ecosystem) for p in result.packages] == [("pkg", "2.0", "pypi")]


# --- lang/python-lock: lock and requirements files -------------------------------------------

LOCKS = [c for c in cases(DATA) if _is_lock_case(c)]

LOCK_PLACES = {
    "pip requirements file": "app/requirements.txt",
    "Pipfile.lock": "app/Pipfile.lock",
    "poetry.lock": "app/poetry.lock",
    "uv.lock": "app/uv.lock",
    "pylock.toml (PEP 751)": "app/pylock.toml",
}


@pytest.mark.realdata
@pytest.mark.parametrize("case", LOCKS)
def test_lock_case_matches_want(case: str, testdata: Path, tmp_path: Path) -> None:
    want = load_want(DATA / case)
    if (want.get("test_options") or {}).get("useMinVersion"):
        _check_min_version(case, want)
        return
    place = LOCK_PLACES.get(want["format"], "app")
    run = run_tree(PythonLockAnalyzer(), stage(DATA / case, tmp_path, place))
    assert run.wanted
    if want.get("error"):
        assert run.unknowns and not run.packages
        return
    assert not run.unknowns
    assert got_rows(run.packages, want["packages"]) == want_rows(want["packages"])


def _check_min_version(case: str, want: dict[str, Any]) -> None:
    """Upstream's non-default option, which the parser offers as ``use_min_version``."""
    content = (DATA / case / want["input"]).read_text()
    found = list(parse_requirements(content, use_min_version=True))
    assert sorted(found) == sorted((p["name"], p["version"]) for p in want["packages"])


def test_all_lock_cases_are_exercised() -> None:
    if not DATA.is_dir():
        pytest.skip("real test data not found")
    assert len(LOCKS) >= 20


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/requirements.txt", True),
        ("app/requirements-dev.txt", True),
        ("app/poetry.lock", True),
        ("app/pylock.prod.toml", True),
        ("app/uv.lock", True),
        (f"{SITE}/somepkg/requirements.txt", False),
        ("app/pyproject.toml", False),
        ("app/Pipfile", False),
    ],
)
def test_lock_required(path: str, wanted: bool) -> None:
    assert PythonLockAnalyzer().required(path, 4096) is wanted


def test_requirements_report_only_exact_pins() -> None:
    content = (
        "a==1.0\nb>=2\nc==3.*\n-r other.txt\n"
        "d[x] == 4.0 ; python_version < '3.8' \\\n  --hash=sha256:00\n"
    )
    assert list(parse_requirements(content)) == [("a", "1.0"), ("d", "4.0")]


def test_requirements_min_version_takes_the_highest_lower_bound() -> None:
    content = "a>=1.0,>=1.5,<3\nb>1.0\nc<2\nd~=2.2.0\ne==3.*,!=3.0.1\nf==1.0\n"
    assert list(parse_requirements(content, use_min_version=True)) == [
        ("a", "1.5"),
        ("d", "2.2.0"),
        ("e", "3.0"),
        ("f", "1.0"),
    ]
