"""lang/php: Composer's installed.json and composer.lock, checked against every case in
../shared/data/pkgdb/php, plus Composer 1's list form and dev marking."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.analyze.lang.php import ComposerAnalyzer, parse_composer_lock, parse_installed
from tests import conftest
from tests.analyze.lang.cases import cases, got_rows, load_want, stage, want_rows
from tests.helpers.analyzers import run_tree

DATA = conftest.testdata_root() / "pkgdb" / "php"
ALL = cases(DATA)


def _place(want: dict[str, object]) -> str:
    if want["input"] == "installed.json":
        return "var/www/html/vendor/composer/installed.json"
    return "var/www/html/composer.lock"


@pytest.mark.realdata
@pytest.mark.parametrize("case", ALL)
def test_case_matches_want(case: str, testdata: Path, tmp_path: Path) -> None:
    want = load_want(DATA / case)
    run = run_tree(ComposerAnalyzer(), stage(DATA / case, tmp_path, _place(want)))
    assert run.wanted
    assert not run.unknowns
    assert got_rows(run.packages, want["packages"]) == want_rows(want["packages"])


def test_all_cases_are_exercised() -> None:
    if not DATA.is_dir():
        pytest.skip("real test data not found")
    assert len(ALL) >= 2


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/www/html/vendor/composer/installed.json", True),
        ("app/composer.lock", True),
        ("app/vendor/guzzlehttp/psr7/composer.lock", False),
        ("app/composer.json", False),
    ],
)
def test_required(path: str, wanted: bool) -> None:
    assert ComposerAnalyzer().required(path, 4096) is wanted


def test_composer1_installed_list() -> None:
    found = parse_installed([{"name": "psr/log", "version": "1.1.4", "license": ["MIT"]}], "x")
    assert [(p.name, p.version, p.licenses, p.ecosystem) for p in found] == [
        ("psr/log", "1.1.4", ("MIT",), "composer")
    ]


def test_dev_packages_are_marked() -> None:
    installed = {
        "packages": [{"name": "a/b", "version": "1.0.0"}, {"name": "c/d", "version": "2.0.0"}],
        "dev-package-names": ["c/d"],
    }
    lock = {
        "packages": [{"name": "a/b", "version": "1.0.0"}],
        "packages-dev": [{"name": "c/d", "version": "2.0.0"}],
    }
    for found in (parse_installed(installed, "x"), parse_composer_lock(lock, "y")):
        assert {p.name: p.extra for p in found} == {"a/b": (), "c/d": (("dev", "true"),)}


def test_fields_of_the_wrong_type_are_ignored_not_fatal() -> None:
    data = {"packages": [{"name": "a/b", "version": "1.0.0"}], "dev-package-names": True}
    assert [p.name for p in parse_installed(data, "x")] == ["a/b"]
    assert parse_composer_lock({"packages": 1, "packages-dev": True}, "y") == []
