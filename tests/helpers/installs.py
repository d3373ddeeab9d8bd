"""Real installs for end-to-end tests, each in its own root folder, with the tool's own listing.

pip into a virtual environment and into a ``--target`` site-packages, ``npm install`` of a
pinned tree, and a Debian package copied from the machine's own dpkg database. Every install
records what the installing tool itself listed right after it (``pip list``, ``npm ls``,
``dpkg-query``): that listing is the oracle a scan is compared with, never a hand-written list.
:func:`stack` turns the separate roots into the cumulative trees that
:func:`tests.helpers.tree_layout.write_layout` makes into one layer per install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.debian import dpkg_query

TIMEOUT = 300
"""Seconds any one install or listing may take before the test gives up."""

QUIET_PIP = ("--disable-pip-version-check", "--no-input", "--timeout", "30", "--retries", "2")
QUIET_NPM = ("--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error")
# npm's default back-off waits minutes on an unreachable registry; a test should say so sooner.
NPM_FETCH = ("--fetch-retries=2", "--fetch-retry-mintimeout=2000",
             "--fetch-retry-maxtimeout=10000", "--fetch-timeout=60000")


class InstallFailed(RuntimeError):
    """An installer exited with an error (usually: its registry could not be reached)."""


@dataclass(frozen=True)
class Listed:
    """One package as the installing tool listed it."""

    name: str
    version: str
    location: str
    """Relative to the install's root: the site-packages folder (pip) or the package folder
    (npm); the dpkg database folder for Debian packages."""


@dataclass(frozen=True)
class Install:
    """A root folder holding one install and what the tool listed there at build time."""

    root: Path
    listed: tuple[Listed, ...]


def run(command: Sequence[str | Path], *, cwd: Path | None = None) -> str:
    """Run a command with a time limit; its stdout, or InstallFailed with the end of stderr."""
    try:
        done = subprocess.run(
            [str(c) for c in command], cwd=cwd, capture_output=True, text=True,
            timeout=TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InstallFailed(f"{command[0]} took more than {TIMEOUT} s: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-1500:]
        raise InstallFailed(f"{' '.join(map(str, command))} exited {done.returncode}: {tail}")
    return done.stdout


def _relative(path: str | Path, root: Path) -> str:
    return Path(path).resolve().relative_to(root.resolve()).as_posix()


def pip_list(python: Path, site: Path, root: Path) -> tuple[Listed, ...]:
    """What ``pip list --path site`` says is installed there, no exclusions."""
    out = run([python, "-m", "pip", "list", *QUIET_PIP[:2], "-v", "--format", "json",
               "--path", site])
    return tuple(
        Listed(row["name"], row["version"], _relative(row["location"], root))
        for row in json.loads(out)
    )


def site_packages(venv: Path) -> Path:
    """The one ``lib/pythonX.Y/site-packages`` folder of a virtual environment."""
    (site,) = venv.glob("lib/python3*/site-packages")
    return site


def pip_venv(root: Path, prefix: str, requirements: Sequence[str]) -> Install:
    """``python -m venv root/prefix`` (with its own pip), then ``pip install`` into it."""
    venv = root / prefix
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", *QUIET_PIP, *requirements])
    return Install(root, pip_list(python, site_packages(venv), root))


def pip_target(root: Path, site: str, requirements: Sequence[str]) -> Install:
    """``pip install --target root/site``: a system-wide site-packages as a Dockerfile makes it."""
    target = root / site
    run([sys.executable, "-m", "pip", "install", *QUIET_PIP, "--target", target, *requirements])
    return Install(root, pip_list(Path(sys.executable), target, root))


def npm_install(root: Path, app: str, specs: Sequence[str], cache: Path) -> Install:
    """``npm install`` of pinned specs into ``root/app`` (a fresh project), with its own cache."""
    project = root / app
    project.mkdir(parents=True)
    manifest = {"name": "spyglass-e2e-app", "version": "1.0.0", "private": True}
    (project / "package.json").write_text(json.dumps(manifest))
    run(["npm", "install", *QUIET_NPM, *NPM_FETCH, "--save-exact", "--cache", cache, *specs],
        cwd=project)
    tree = json.loads(run(["npm", "ls", "--all", "--json", "--long"], cwd=project))
    by_path = {n["path"]: n for n in _npm_nodes(tree.get("dependencies", {}))}
    return Install(root, tuple(
        Listed(node["name"], node["version"], _relative(path, root))
        for path, node in sorted(by_path.items())
    ))


def _npm_nodes(dependencies: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of ``npm ls`` output; a deduped package appears once per dependent."""
    for node in dependencies.values():
        yield node
        yield from _npm_nodes(node.get("dependencies", {}))


DPKG = Path("/var/lib/dpkg")


def host_deb(root: Path, package: str) -> Install:
    """Copy an installed Debian package from this machine: its files, file list and status
    stanza, and the machine's os-release, as a one-package Debian root."""
    listing = (DPKG / "info" / f"{package}.list").read_text().splitlines()
    for path in (p for p in listing if p not in ("", "/.")):
        _copy_host_path(Path(path), root / path.lstrip("/"))
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    shutil.copyfile(DPKG / "info" / f"{package}.list", info / f"{package}.list")
    (root / "var/lib/dpkg/status").write_text(run(["dpkg-query", "--status", package]))
    (root / "etc").mkdir(exist_ok=True)
    shutil.copyfile("/etc/os-release", root / "etc/os-release")
    return Install(root, tuple(
        Listed(name, version, "var/lib/dpkg") for name, version, _ in dpkg_query(root)
    ))


def _copy_host_path(source: Path, dest: Path) -> None:
    if source.is_symlink():
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.readlink(source), dest)
    elif source.is_dir():
        dest.mkdir(parents=True, exist_ok=True)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)


def stack(parts: Sequence[Path], dest: Path) -> list[Path]:
    """Cumulative roots (part 1, parts 1+2, …) made of hard links, so that write_layout's
    diff of each against the one below is exactly the next part."""
    roots: list[Path] = []
    for index, part in enumerate(parts):
        root = dest / f"{index + 1}-{part.name}"
        if roots:
            shutil.copytree(roots[-1], root, symlinks=True, copy_function=os.link)
        shutil.copytree(part, root, symlinks=True, copy_function=os.link, dirs_exist_ok=True)
        roots.append(root)
    return roots
