"""osv.dev's own ordering tests (``versions/osv.dev/*.tsv``), where the ecosystem's tool wins.

osv.dev gives every string a place: ``"0"`` is its ``introduced: "0"`` sentinel and sorts
first, and invalid versions sort somewhere fixed. Spyglass follows each ecosystem's tool, so:
rows whose versions the tool rejects must raise ``InvalidVersion``; the rows in ``TOOL_WINS``
use ``"0"`` as osv.dev's sentinel and the tool orders them the other way; every other row must
agree. Files of ecosystems Spyglass does not compare are listed in ``NOT_COMPARED`` with the
reason and not collected (a test that always skips proves nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.errors import InvalidVersion
from spyglass.versions import compare, valid
from tests.versions.vectors import params

pytestmark = pytest.mark.realdata

KIND = {
    "alpine": "apk",
    "debian": "deb",
    "maven": "maven",
    "nuget": "nuget",
    "packagist": "composer",
    "pypi": "pypi",
    "redhat": "rpm",
    "rubygems": "gem",
}
NOT_COMPARED = {
    "bioconductor": "Bioconductor is not an ecosystem Spyglass scans",
    "cran": "CRAN is not an ecosystem Spyglass scans",
    "haskell": "Hackage is not an ecosystem Spyglass scans",
    "pub": "pub (Dart) is not an ecosystem Spyglass scans",
    "root-io": "Root.io's mixed deb/apk/semver scheme belongs to no single tool",
    "semver-generic": "osv.dev's catch-all SemVer is no one ecosystem's tool",
}
TOOL_WINS = {
    ("debian", "0", "0:0~0-0"): "dpkg --compare-versions: 0 > 0:0~0-0 ('~' sorts before the end)",
    ("redhat", "0", "0:0~0-0"): "rpm.labelCompare: 0 > 0~0 ('~' sorts before the end)",
    ("maven", "0", "alpha-alpha-alpha-alpha"): "ComparableVersion: alpha is below release",
    ("packagist", "0", "0-a"): "PHP version_compare('0', '0-a') is 1 (a = alpha < release)",
    ("pypi", "0", "0.dev0"): "packaging: a dev release is before its release",
    ("rubygems", "0", "0.0.0.rc0"): "Gem::Version: a prerelease is before its release",
}


def _cases() -> list[tuple[str, tuple[str, ...]]]:
    cases = []
    for name in KIND:
        cases += [(name, row) for row in params(f"osv.dev/{name}.tsv")]
    return cases


def _holds(got: int, expected: str) -> bool:
    if expected == "<=":
        return got <= 0
    if expected == ">=":
        return got >= 0
    return got == int(expected)


def test_every_osv_file_is_compared_or_excluded_with_a_reason(testdata: Path) -> None:
    files = {path.stem for path in (testdata / "versions" / "osv.dev").glob("*.tsv")}
    assert files == set(KIND) | set(NOT_COMPARED)


@pytest.mark.parametrize(("name", "row"), _cases())
def test_osv_row(testdata: Path, name: str, row: tuple[str, ...]) -> None:
    kind = KIND[name]
    a, b, expected = row[:3]
    if kind == "deb" and not (valid(kind, a) and valid(kind, b)):
        # dpkg --compare-versions only warns about "invalid" and "<end-of-life>": compare them
        assert _holds(compare(kind, a, b), expected)
    elif not (valid(kind, a) and valid(kind, b)):
        with pytest.raises(InvalidVersion):
            compare(kind, a, b)
    elif (name, a, b) in TOOL_WINS:
        assert not _holds(compare(kind, a, b), expected), TOOL_WINS[name, a, b]
    else:
        assert _holds(compare(kind, a, b), expected)
