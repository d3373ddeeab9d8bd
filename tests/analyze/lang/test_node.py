"""lang/node: installed node_modules packages and npm / Yarn / pnpm / Bun lock files, checked
against every case in ../shared/data/pkgdb/npm, plus wanted paths."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest

from spyglass.analyze.interface import FileInput
from spyglass.analyze.lang.bun_lock import loads_jsonc, parse_bun_lock
from spyglass.analyze.lang.node import NodeAnalyzer
from spyglass.analyze.lang.yarn_lock import parse_classic
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package
from tests import conftest
from tests.analyze.lang.cases import cases, got_rows, load_want, stage, want_rows
from tests.helpers.analyzers import run_tree

DATA = conftest.testdata_root() / "pkgdb" / "npm"
ALL = cases(DATA)

# Upstream logs a broken lock file and reports nothing; Spyglass reports nothing and an Unknown.
UPSTREAM_SWALLOWS_ERROR = {"trivy-npm-analyzer-sad"}

PLACES = {
    "package-lock.json": "app/package-lock.json",
    "yarn.lock": "app/yarn.lock",
    "pnpm-lock.yaml": "app/pnpm-lock.yaml",
    "bun.lock": "app/bun.lock",
}


def _place(want: dict[str, object]) -> str:
    if str(want["input"]).rstrip("/") == "input":
        return "app"
    return PLACES.get(str(want["format"]), "app/node_modules/case/package.json")


def _expected(want: dict[str, object]) -> list[dict[str, object]]:
    wanted = list(want["packages"])  # type: ignore[call-overload]
    options = want.get("test_options") or {}
    if isinstance(options, dict) and options.get("includeDeps"):
        # Upstream's option also lists the ranges a manifest declares; those are not installed
        # packages, so Spyglass reports only the package itself (the first one listed).
        return wanted[:1]
    return wanted


def _comparable(case: str, packages: list[Package]) -> list[Package]:
    if case.startswith("trivy-pnpm-") and _pnpm_major(case) < 9:
        # Upstream's v5/v6 parser drops dev-only packages; Spyglass keeps them, marked.
        return [p for p in packages if ("dev", "true") not in p.extra]
    return packages


def _pnpm_major(case: str) -> int:
    lock = next((DATA / case).glob("*.yaml")).read_text()
    return int(float(lock.split("lockfileVersion:", 1)[1].split()[0].strip("'\"")))


@pytest.mark.realdata
@pytest.mark.parametrize("case", ALL)
def test_case_matches_want(case: str, testdata: Path, tmp_path: Path) -> None:
    want = load_want(DATA / case)
    run = run_tree(NodeAnalyzer(), stage(DATA / case, tmp_path, _place(want)))
    wanted = _expected(want)
    if want.get("error"):
        assert run.unknowns and not run.packages
        return
    assert not run.unknowns or case in UPSTREAM_SWALLOWS_ERROR
    if case == "trivy-npm-analyzer-happy":
        _check_project(run.packages, wanted)
        return
    assert got_rows(_comparable(case, run.packages), wanted) == want_rows(wanted)


def _check_project(packages: list[Package], wanted: list[dict[str, object]]) -> None:
    """A project with both a lock file and node_modules: upstream reports the lock file's
    packages with licences read from node_modules. Spyglass reports each file's own packages
    (the lock file has no licences), so each half is checked against the expectation."""
    locked = [p for p in packages if p.path.endswith("package-lock.json")]
    unlicensed = [{k: v for k, v in p.items() if k != "licenses"} for p in wanted]
    assert got_rows(locked, unlicensed) == want_rows(unlicensed)
    installed = got_rows([p for p in packages if p not in locked], wanted)
    assert set(installed) <= set(want_rows(wanted))


def test_all_cases_are_exercised() -> None:
    if not DATA.is_dir():
        pytest.skip("real test data not found")
    assert len(ALL) >= 60


@pytest.mark.parametrize(
    "path",
    [
        "app/node_modules/express/package.json",
        "app/node_modules/@babel/parser/package.json",
        "app/node_modules/express/node_modules/debug/package.json",
        "usr/lib/node_modules/npm/package.json",
        "app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json",
        "app/package-lock.json",
        "srv/web/yarn.lock",
        "pnpm-lock.yaml",
        "app/bun.lock",
    ],
)
def test_wants_installed_manifests_and_lock_files(path: str) -> None:
    assert NodeAnalyzer().required(path, 4096)


@pytest.mark.parametrize(
    "path",
    [
        "app/package.json",
        "app/node_modules/express/lib/package.json",
        "app/node_modules/@babel/package.json",
        "app/node_modules/.bin/package.json",
        "app/node_modules/express/package-lock.json",
        "app/node_modules/.package-lock.json",
        "app/node_modules/a/bun.lock",
        "app/bun.lockb",
    ],
)
def test_ignores_other_files(path: str) -> None:
    assert not NodeAnalyzer().required(path, 4096)


def _analyze(path: str, content: str) -> list[Package]:
    data = content.encode()
    file = FileInput(path, len(data), 0o644, io.BytesIO(data))
    return list(NodeAnalyzer().analyze(file).packages)


def test_package_lock_v3_marks_dev_and_dedupes() -> None:
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app"},
            "node_modules/a": {"version": "1.0.0", "dev": True},
            "node_modules/b": {"version": "2.0.0", "license": "MIT"},
            "node_modules/b/node_modules/a": {"version": "1.0.0"},
        },
    }
    found = _analyze("app/package-lock.json", json.dumps(lock))
    assert Counter((p.name, p.version, p.extra, p.licenses) for p in found) == Counter(
        {("a", "1.0.0", (), ()): 1, ("b", "2.0.0", (), ("MIT",)): 1}
    )


def test_yarn_classic_alias_reports_the_real_package() -> None:
    lock = '"string-width-cjs@npm:string-width@^4.2.0":\n  version "4.2.3"\n'
    found = parse_classic(lock, "yarn.lock", "lang/node")
    assert [(p.name, p.version) for p in found] == [("string-width", "4.2.3")]


def test_invalid_package_json_is_an_error() -> None:
    with pytest.raises(AnalyzerError, match="not valid JSON"):
        _analyze("node_modules/a/package.json", '{"name" "a"}')


def test_jsonc_keeps_strings_that_look_like_comments_or_commas() -> None:
    content = '{"a": "x // y, ]", /* note */ "b": ["/*z*/", 1,], // end\n}'
    assert loads_jsonc(content, "bun.lock") == {"a": "x // y, ]", "b": ["/*z*/", 1]}


def test_bun_lock_resolves_nested_copies_and_marks_dev() -> None:
    lock = """{
      "lockfileVersion": 1,
      "workspaces": {"": {"dependencies": {"a": "^1"}, "devDependencies": {"@s/b": "^2"}}},
      "packages": {
        "a": ["a@1.0.0", "", {"dependencies": {"c": "^1"}}, "sha512-"],
        "@s/b": ["@s/b@2.0.0", {"dependencies": {"c": "^2"}}, "sha512-"],
        "@s/b/c": ["c@2.0.0", "", {}, "sha512-"],
        "c": ["c@1.0.0", "", {}, "sha512-"],
        "g": ["g@github:o/g#abc", {}, "abc"],
      },
    }"""
    found = parse_bun_lock(lock, "bun.lock", "lang/node")
    assert Counter((p.name, p.version, p.extra) for p in found) == Counter(
        {
            ("a", "1.0.0", ()): 1,
            ("c", "1.0.0", ()): 1,
            ("@s/b", "2.0.0", (("dev", "true"),)): 1,
            ("c", "2.0.0", (("dev", "true"),)): 1,
        }
    )


@pytest.mark.parametrize("content", ['{"lockfileVersion": "1",}', "[1,]", '{"packages": {'])
def test_broken_bun_lock_is_an_error(content: str) -> None:
    with pytest.raises(AnalyzerError, match=r"bun\.lock"):
        parse_bun_lock(content, "app/bun.lock", "lang/node")
