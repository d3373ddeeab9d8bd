"""Path hints are safe: every path an analyzer's ``required`` wants is one its hint matches.

The corpus is every path of the benchmark image's layers (when ``bench/scan.py`` has built it),
every tail of every path under the real test data (lock files, package databases, release files
and rootfs tarballs of many ecosystems) and the tarballs' members; Hypothesis adds generated
paths built from the names the analyzers look for, in mixed case, at odd depths and sizes.
"""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.analyze.dispatch import Dispatch
from spyglass.analyze.interface import Analyzer, PathHint
from spyglass.analyze.registry import ANALYZERS, select

REPO = Path(__file__).resolve().parents[2]
BENCH_LAYOUT = REPO / ".bench-cache" / "debian-layout"
SIZES = (0, 1, 8, 4096, 64 * 1024, 64 * 1024 + 1, 2 * 1024 * 1024, 40 * 1024 * 1024)
HINTED = [a for a in ANALYZERS if a.path_hint is not None]


def every_analyzer() -> list[Analyzer]:
    """Each analyzer in both modes: a hint must hold whether lock files are read or not."""
    return [a(lockfiles=mode) for mode in (True, False) for a in ANALYZERS]


def unhinted(path: str, size: int, analyzers: list[Analyzer]) -> list[Analyzer]:
    """The analyzers whose ``required`` is true, asked without any hint."""
    return [a for a in analyzers if a.required(path, size)]


def check(path: str, size: int, analyzers: list[Analyzer], dispatch: Dispatch) -> int:
    """Asserts that hints and dispatch cover ``required``; returns how many hinted ones want it."""
    candidates, hinted = dispatch.candidates(path), 0
    for analyzer in unhinted(path, size, analyzers):
        hint = analyzer.path_hint
        assert hint is None or hint.matches(path), (analyzer.name, path, size)
        assert analyzer in candidates, (analyzer.name, path, size)
        hinted += hint is not None
    return hinted


def tails(relative: Path) -> Iterator[str]:
    """``a/b/c`` -> ``a/b/c``, ``b/c``, ``c``: the file as if the image root were any parent."""
    parts = relative.parts
    for i in range(len(parts)):
        yield "/".join(parts[i:])


def tarball_names(testdata: Path) -> Iterator[str]:
    for tarball in sorted(testdata.glob("images/**/*.tar.gz")):
        with tarfile.open(tarball) as tar:
            for name in tar.getnames():
                yield name.removeprefix("./")


def bench_names() -> Iterator[str]:
    for blob in sorted((BENCH_LAYOUT / "blobs" / "sha256").iterdir()):
        if blob.stat().st_size < 1024 * 1024:  # manifest and config, not layers
            continue
        listing = subprocess.run(["tar", "-tzf", str(blob)], capture_output=True, text=True)
        yield from (n.removeprefix("./") for n in listing.stdout.splitlines())


@pytest.mark.realdata
def test_hints_cover_required_on_real_paths(testdata: Path) -> None:
    files = (f.relative_to(testdata) for f in testdata.rglob("*") if f.is_file())
    paths = {tail for f in files for tail in tails(f)}
    paths.update(tarball_names(testdata))
    if (BENCH_LAYOUT / "index.json").exists():
        paths.update(bench_names())
    analyzers = every_analyzer()
    dispatch = Dispatch(analyzers)
    wanted = sum(check(path, 4096, analyzers, dispatch) for path in sorted(paths))
    # the corpus does reach the hinted analyzers (the shared test data alone gives 411 hits;
    # the bench image, when it has been built, adds thousands)
    assert wanted > 300


DIRS = [
    "", "usr", "lib", "etc", "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status.d",
    "var/lib/dpkg/info", "lib/apk/db", "var/lib/rpm", "usr/lib/sysimage/rpm", "var/lib/rpmmanifest",
    "usr/lib/python3/dist-packages", "usr/lib/python3.11/site-packages", "six-1.16.0.dist-info",
    "six.egg-info", "srv/app", "node_modules", "node_modules/@scope", "node_modules/.bin",
    "specifications", "specifications/default", "gems", "vendor", "vendor/composer", "WEB-INF/lib",
    "app", "x", "Ü", "\u212a",
]
NAMES = sorted({
    "os-release", "lsb-release", "debian_version", "alpine-release", "redhat-release",
    "SuSE-release",
    "status", "status.d", "installed", "Packages", "Packages.db", "rpmdb.sqlite",
    "container-manifest-2", "METADATA", "PKG-INFO", "x.egg", "x.whl", "x.egg-info", "Pipfile.lock",
    "requirements.txt", "requirements-dev.txt", "poetry.lock", "pdm.lock", "uv.lock", "pylock.toml",
    "pylock.dev.toml", "package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock",
    "pnpm-lock.yaml", "bun.lock", "rack-3.0.8.gemspec", "Gemfile.lock", "gems.locked",
    "installed.json", "composer.lock", "app.deps.json", "a.jar", "a.WAR", "a.ear", "a.par",
    "libc.so.6", "bash", "README.md", "x.list", "x.md5sums", "x.postinst", "Cargo.lock",
})


@st.composite
def paths(draw: st.DrawFn) -> str:
    """Realistic paths with a twist: mixed case, extra text, odd characters, odd joins."""
    parts = draw(st.lists(st.sampled_from(DIRS), max_size=4))
    name = draw(st.sampled_from(NAMES) | st.text(min_size=1, max_size=12))
    twist = draw(st.sampled_from(["", "upper", "lower", "prefix", "suffix", "newline"]))
    extra = draw(st.text(max_size=3))
    name = {
        "upper": name.upper(), "lower": name.lower(), "prefix": extra + name,
        "suffix": name + extra, "newline": name + "\n",
    }.get(twist, name)
    return "/".join(p for p in (*parts, name) if p)


@settings(max_examples=1500, deadline=None)
@given(paths(), st.sampled_from(SIZES))
def test_hints_cover_required_on_generated_paths(path: str, size: int) -> None:
    analyzers = every_analyzer()
    check(path, size, analyzers, Dispatch(analyzers))


def test_name_and_suffix_analyzers_are_hinted() -> None:
    assert {a.name for a in HINTED} == {
        "os/release", "pkgdb/dpkg", "pkgdb/apk", "pkgdb/rpm", "lang/python", "lang/python-lock",
        "lang/node", "lang/ruby", "lang/php", "lang/dotnet", "lang/java",
    }


def test_dispatch_keeps_order_and_asks_unhinted_analyzers_always() -> None:
    analyzers = select()
    dispatch = Dispatch(analyzers)
    unhinted_names = [a.name for a in analyzers if a.path_hint is None]
    assert [a.name for a in dispatch.candidates("usr/bin/bash")] == unhinted_names
    asked = [a.name for a in dispatch.candidates("var/lib/dpkg/status")]
    assert asked == [a.name for a in analyzers if a.name in {"pkgdb/dpkg", *unhinted_names}]


def test_a_hint_must_be_lower_case() -> None:
    with pytest.raises(ValueError, match="lower"):
        PathHint(names=frozenset({"METADATA"}))


def test_lock_file_only_analyzers_are_left_out_of_image_scans() -> None:
    assert "lang/python-lock" not in {a.name for a in select()}
    assert "lang/python-lock" in {a.name for a in select(lockfiles=True)}
    assert "lang/python-lock" not in {a.name for a in select(["python"])}


@settings(max_examples=500, deadline=None)
@given(paths(), st.sampled_from(SIZES))
def test_lock_file_only_analyzers_want_nothing_without_lock_files(path: str, size: int) -> None:
    for analyzer in ANALYZERS:
        if analyzer.lockfiles_only:
            assert not analyzer(lockfiles=False).required(path, size)
