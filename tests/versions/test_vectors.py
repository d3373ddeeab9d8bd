"""Every comparison vector in ``../shared/data/versions`` (see its README), per ecosystem.

Rows whose versions the ecosystem's tool rejects are checked to *raise* ``InvalidVersion``
(Spyglass never gives an invalid version a silent place), and where the tool still compares
them (apk-tools, x/mod) the module's lenient comparison or the test restates the tool's answer.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from spyglass.errors import InvalidVersion
from spyglass.versions import apk, compare, golang, npm, npm_range, rpm, valid
from tests.versions.vectors import ordered, params

pytestmark = pytest.mark.realdata


def _sign(expected: str) -> int:
    return int(expected)


@pytest.mark.parametrize("row", params("dpkg.tsv") + params("dpkg-extra.tsv"))
def test_dpkg_order(testdata: Path, row: tuple[str, ...]) -> None:
    a, b, expected = row[:3]
    assert compare("deb", a, b) == _sign(expected)


@pytest.mark.parametrize("row", params("dpkg-valid.tsv"))
def test_dpkg_validity(testdata: Path, row: tuple[str, ...]) -> None:
    version, _, dpkg_says = row
    assert valid("deb", version) is (dpkg_says == "1")


@pytest.mark.parametrize("row", params("rpm.tsv") + params("rpm-claircore.tsv"))
def test_rpmvercmp(testdata: Path, row: tuple[str, ...]) -> None:
    a, b, expected = row
    assert rpm.vercmp(a, b) == _sign(expected)
    if not any(c in a + b for c in ":-"):
        assert compare("rpm", a, b) == _sign(expected)


@pytest.mark.parametrize("row", params("apk.tsv"))
def test_apk_order(testdata: Path, row: tuple[str, ...]) -> None:
    a, b, expected = row
    assert apk.compare_lenient(a, b) == _sign(expected)
    if valid("apk", a) and valid("apk", b):
        assert compare("apk", a, b) == _sign(expected)
    else:
        with pytest.raises(InvalidVersion):
            compare("apk", a, b)


@pytest.mark.parametrize("row", params("apk-fuzzy.tsv"))
def test_apk_fuzzy(testdata: Path, row: tuple[str, ...]) -> None:
    a, op, b, holds = row
    assert apk.matches(a, op, b) is (holds == "true")


@pytest.mark.parametrize("row", params("apk-valid.tsv"))
def test_apk_validity(testdata: Path, row: tuple[str, ...]) -> None:
    version, expected = row
    assert valid("apk", version) is (expected == "1")


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("pypi", "pep440-ordered.txt"),
        ("maven", "maven-ordered-number.txt"),
        ("maven", "maven-ordered-qualifier.txt"),
    ],
)
def test_strictly_increasing(testdata: Path, kind: str, name: str) -> None:
    versions = ordered(name)
    assert versions
    for a, b in itertools.combinations(versions, 2):
        assert compare(kind, a, b) == -1, (a, b)
        assert compare(kind, b, a) == 1, (b, a)


@pytest.mark.parametrize("row", params("maven.tsv"))
def test_maven(testdata: Path, row: tuple[str, ...]) -> None:
    a, b, expected = row
    assert compare("maven", a, b) == _sign(expected)
    assert compare("maven", b, a) == -_sign(expected)


@pytest.mark.parametrize(
    "row", params("npm-semver-comparisons.tsv") + params("npm-semver-equality.tsv")
)
def test_npm_order(testdata: Path, row: tuple[str, ...]) -> None:
    a, b, expected, options = row
    if '"loose": true' in options:
        assert npm.compare(a, b, loose=True) == _sign(expected)
    else:
        assert compare("npm", a, b) == _sign(expected)
        assert compare("npm", b, a) == -_sign(expected)


@pytest.mark.parametrize("row", params("npm-semver-valid.tsv"))
def test_npm_valid_versions(testdata: Path, row: tuple[str, ...]) -> None:
    version, major, minor, patch, pre, _build = row
    want_pre = tuple(str(i) for i in json.loads(pre))
    assert npm.parts(version) == (int(major), int(minor), int(patch), want_pre)


@pytest.mark.parametrize("row", params("go-semver.tsv"))
def test_go_order(testdata: Path, row: tuple[str, ...]) -> None:
    """x/mod sorts invalid versions first and equal to each other; Spyglass raises instead."""
    a, b, expected = row
    if valid("golang", a) and valid("golang", b):
        assert compare("golang", a, b) == _sign(expected)
        return
    with pytest.raises(InvalidVersion):
        compare("golang", a, b)
    # the row still states x/mod's rule, which the validity split reproduces:
    assert _sign(expected) == valid("golang", a) - valid("golang", b)


@pytest.mark.parametrize("row", params("go-semver-canonical.tsv"))
def test_go_canonical(testdata: Path, row: tuple[str, ...]) -> None:
    version, want = row
    if want:
        assert golang.canonical(version) == want
    else:
        assert not valid("golang", version)


@pytest.mark.parametrize("row", params("rubygems.tsv"))
def test_rubygems(testdata: Path, row: tuple[str, ...]) -> None:
    a, b, expected = row[:3]
    if expected == "!=":
        assert compare("gem", a, b) != 0
    else:
        assert compare("gem", a, b) == _sign(expected)


# PHP's own tests via osv.dev: rows with "#" are osv.dev's additions; Composer's version parser
# rejects "#", and PHP 8.2's version_compare ranks "1.2.3.#" below itself, so Spyglass refuses.
@pytest.mark.parametrize("row", params("packagist.tsv"))
def test_packagist(testdata: Path, row: tuple[str, ...]) -> None:
    a, b, expected = row
    if "#" in a + b:
        with pytest.raises(InvalidVersion):
            compare("composer", a, b)
        return
    assert compare("composer", a, b) == _sign(expected)


def _js_truthy(value: object) -> bool:
    return value not in (None, False, 0, "")


def _npm_options(column: str) -> tuple[bool, bool]:
    """(loose, includePrerelease) from the fixture's options column, read as node-semver does
    (``true`` alone means loose; any JavaScript-truthy ``loose`` value turns it on)."""
    if not column:
        return False, False
    options = json.loads(column)
    if not isinstance(options, dict):
        return bool(options), False
    return _js_truthy(options.get("loose")), _js_truthy(options.get("includePrerelease"))


@pytest.mark.parametrize(
    "row", params("npm-semver-range-include.tsv") + params("npm-semver-range-exclude.tsv")
)
def test_npm_ranges(testdata: Path, row: tuple[str, ...]) -> None:
    range_, version, expected = row[:3]
    loose, include_prerelease = _npm_options(row[3] if len(row) > 3 else "")
    # the fixture file writes node-semver's literal tab in "<\t2.0.0" as the two characters \t
    range_ = range_.replace("\\t", "\t")
    got = npm_range.satisfies(range_, version, loose=loose, include_prerelease=include_prerelease)
    assert got is (expected == "true")
