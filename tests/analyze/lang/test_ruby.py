"""lang/ruby: installed gemspecs and Gemfile.lock, checked against every case in
../shared/data/pkgdb/ruby, plus the gemspec forms RubyGems writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.analyze.lang.ruby import RubyAnalyzer, parse_gemfile_lock, parse_gemspec
from spyglass.errors import AnalyzerError
from tests import conftest
from tests.analyze.lang.cases import cases, got_rows, load_want, stage, want_rows
from tests.helpers.analyzers import run_tree

DATA = conftest.testdata_root() / "pkgdb" / "ruby"
ALL = cases(DATA)


def _place(want: dict[str, object]) -> str:
    if str(want["input"]).endswith(".gemspec"):
        return f"usr/local/bundle/specifications/{want['input']}"
    return "app/Gemfile.lock"


@pytest.mark.realdata
@pytest.mark.parametrize("case", ALL)
def test_case_matches_want(case: str, testdata: Path, tmp_path: Path) -> None:
    want = load_want(DATA / case)
    run = run_tree(RubyAnalyzer(), stage(DATA / case, tmp_path, _place(want)))
    assert run.wanted
    if want.get("error"):
        assert run.unknowns and not run.packages
        return
    assert not run.unknowns
    assert got_rows(run.packages, want["packages"]) == want_rows(want["packages"])


def test_all_cases_are_exercised() -> None:
    if not DATA.is_dir():
        pytest.skip("real test data not found")
    assert len(ALL) >= 11


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("usr/local/bundle/specifications/rake-13.0.3.gemspec", True),
        ("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", True),
        ("app/Gemfile.lock", True),
        ("usr/local/bundle/gems/rake-13.0.3/rake.gemspec", False),
        ("usr/local/bundle/gems/puma-6.0.0/Gemfile.lock", False),
        ("app/Gemfile", False),
    ],
)
def test_required(path: str, wanted: bool) -> None:
    assert RubyAnalyzer().required(path, 4096) is wanted


def test_old_rubygems_string_form_and_version_object() -> None:
    spec = (
        "Gem::Specification.new do |s|\n"
        "  s.name = %q{rack}\n"
        '  s.version = Gem::Version.new("1.4.5")\n'
        "  s.license = 'MIT'\n"
        "end\n"
    )
    pkg = parse_gemspec(spec, "specifications/rack-1.4.5.gemspec")
    assert (pkg.name, pkg.version, pkg.licenses, pkg.ecosystem) == (
        "rack",
        "1.4.5",
        ("MIT",),
        "gem",
    )


def test_gemspec_without_block_is_an_error() -> None:
    with pytest.raises(AnalyzerError, match="Gem::Specification"):
        parse_gemspec('name = "x"\n', "specifications/x.gemspec")


def test_lock_platform_suffix_is_not_part_of_the_version() -> None:
    lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.15.4-x86_64-linux)\n"
    found = parse_gemfile_lock(lock, "Gemfile.lock")
    assert [(p.name, p.version) for p in found] == [("nokogiri", "1.15.4")]
