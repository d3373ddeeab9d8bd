"""lang/dotnet: NuGet packages from ``*.deps.json``, on the fixture trees in
tests/fixtures/lang/dotnet (no public data set covers .NET)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.analyze.lang.dotnet import DotnetAnalyzer
from tests.analyze.lang.cases import cases, got_rows, load_want, want_rows
from tests.helpers.analyzers import run_tree

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lang" / "dotnet"


@pytest.mark.parametrize("case", cases(FIXTURES))
def test_fixture_matches_want(case: str) -> None:
    want = load_want(FIXTURES / case)
    run = run_tree(DotnetAnalyzer(), FIXTURES / case)
    assert run.wanted, "the analyzer asked for no file"
    if want.get("error"):
        assert run.unknowns and not run.packages
        return
    assert not run.unknowns
    assert got_rows(run.packages, want["packages"]) == want_rows(want["packages"])
    assert {p.ecosystem for p in run.packages} == {"nuget"}


def test_fixtures_exist() -> None:
    assert len(cases(FIXTURES)) >= 2


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/WebApi.deps.json", True),
        (
            "usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json",
            True,
        ),
        ("app/WebApi.runtimeconfig.json", False),
        ("app/appsettings.json", False),
    ],
)
def test_required(path: str, wanted: bool) -> None:
    assert DotnetAnalyzer().required(path, 4096) is wanted
