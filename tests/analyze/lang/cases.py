"""Stage a ``want.json`` case of ../shared/data/pkgdb at a real path and compare the result.

A case's input is one file with a test name (``asyncssh-2.14.2.METADATA``) or an ``input/``
tree; :func:`stage` copies it into a temporary root file system at the path where an image
would hold it, so that the analyzer's ``required`` is exercised too. :func:`compare` checks
the packages as a multiset of (name, version, dev[, licenses]), as the data README says:
licences are compared for a case whose ``want.json`` gives them for any package.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from spyglass.inventory import Package

Row = tuple[str, str, bool, tuple[str, ...] | None]


def cases(root: Path, *, skip: Iterable[str] = ()) -> list[str]:
    """Names of the case folders under ``root`` (a pkgdb/<ecosystem> folder), sorted."""
    skipped = set(skip)
    if not root.is_dir():
        return []
    found = (p.name for p in root.iterdir() if (p / "want.json").exists())
    return sorted(name for name in found if name not in skipped)


def load_want(case: Path) -> dict[str, Any]:
    """The case's ``want.json``."""
    data: dict[str, Any] = json.loads((case / "want.json").read_text())
    return data


def stage(case: Path, rootfs: Path, place: str) -> Path:
    """Copy the case's input to ``rootfs/place`` (a file path, or a folder for ``input/``)."""
    want = load_want(case)
    target = rootfs / place
    if want["input"].rstrip("/") == "input":
        shutil.copytree(case / "input", target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case / want["input"], target)
    return rootfs


def _with_licenses(wanted: list[dict[str, Any]]) -> bool:
    return any("licenses" in p for p in wanted)


def want_rows(wanted: list[dict[str, Any]]) -> Counter[Row]:
    """The expected packages as comparable rows."""
    licensed = _with_licenses(wanted)
    return Counter(
        (
            p["name"],
            p.get("version") or "",
            bool(p.get("dev", False)),
            tuple(p.get("licenses") or ()) if licensed else None,
        )
        for p in wanted
    )


def got_rows(packages: Iterable[Package], wanted: list[dict[str, Any]]) -> Counter[Row]:
    """What the analyzer found, as rows comparable with :func:`want_rows`."""
    licensed = _with_licenses(wanted)
    return Counter(
        (p.name, p.version, ("dev", "true") in p.extra, p.licenses if licensed else None)
        for p in packages
    )
