"""Alpine secdb: per release and repository, fixed versions of each origin package.

A secdb file (YAML in the old git repository, JSON on secdb.alpinelinux.org) names the
*origin* package (``pkg.name``; apk's ``o:`` field), and ``secfixes`` maps a fixed version to
the ids it fixes. Alpine's convention for version ``0`` is "this package was never affected"
(maintainers reject a CVE by attributing it to version 0), so those become ``not-affected``
rows, which lets the matcher silence an OSV or NVD claim for that package. Entries may carry
extra words (``CVE-2017-2887 TALOS-2017-0394``, ``CVE-… (+ regression fix)``): the first
id is the advisory and the rest is ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.download import local_path
from spyglass.vulndb.feeds.interface import Feed, Target
from spyglass.vulndb.feeds.osv import load_document
from spyglass.vulndb.model import (
    FIXED,
    NOT_AFFECTED,
    Advisory,
    AdvisoryId,
    Affected,
    Event,
    FeedData,
    Range,
    Skipped,
)

DEFAULT_BASE = "https://secdb.alpinelinux.org"
RELEASES_ENV = "SPYGLASS_ALPINE_RELEASES"
DEFAULT_RELEASES = "v3.18,v3.19,v3.20,v3.21,v3.22,edge"
REPOSITORIES = ("main", "community")
# CVE-…, XSA-…, TALOS-…, wnpa-sec-… (Wireshark); upstream typos write "CVE_" and "CVE ".
_ID = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z]+)*-\d[\w.:-]*")
_TYPO = re.compile(r"\bCVE[ _](?=\d)")


class AlpineSecdbFeed(Feed):
    """The Alpine secdb for the configured releases (``SPYGLASS_ALPINE_RELEASES``)."""

    name = "alpine/secdb"
    version = 1

    def default_source(self) -> str:
        """secdb.alpinelinux.org (``<base>/<release>/<repo>.json``)."""
        return DEFAULT_BASE

    def targets(self) -> list[Target]:
        """One JSON file per release and repository, or the local file or folder given."""
        if local_path(self.source) is not None:
            return [Target(self.source, "")]
        releases = os.environ.get(RELEASES_ENV, "") or DEFAULT_RELEASES
        base = self.source.rstrip("/")
        return [
            Target(f"{base}/{release}/{repo}.json", f"{release}-{repo}.json")
            for release in (r.strip() for r in releases.split(",") if r.strip())
            for repo in REPOSITORIES
        ]

    def parse(self, path: Path) -> FeedData:
        """Every secdb document in ``path`` (a ``.yaml`` / ``.json`` file or a folder of them)."""
        advisories: dict[str, Advisory] = {}
        affected: list[Affected] = []
        skipped: list[Skipped] = []
        for name, raw in _documents(path):
            try:
                found, bad = parse_secdb(load_document(name, raw), self.name)
            except FeedError as exc:
                skipped.append(Skipped(name, str(exc)))
                continue
            affected.extend(found)
            skipped.extend(Skipped(name, reason) for reason in bad)
            for row in found:
                advisories.setdefault(row.advisory_id, _advisory(row.advisory_id, self.name))
        if not affected and skipped:
            raise FeedError(f"no Alpine secdb data could be read from {path}: {skipped[0].reason}")
        return FeedData(tuple(advisories.values()), tuple(affected), skipped=tuple(skipped))


def _documents(path: Path) -> Iterator[tuple[str, bytes]]:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for item in files:
        if item.suffix in (".json", ".yaml", ".yml"):
            yield str(item.relative_to(path) if path.is_dir() else item.name), item.read_bytes()


def _advisory(advisory_id: str, feed: str) -> Advisory:
    return Advisory(
        id=AdvisoryId(advisory_id),
        feed=feed,
        url=f"https://security.alpinelinux.org/vuln/{advisory_id}",
    )


def parse_secdb(data: Any, feed: str = "alpine/secdb") -> tuple[list[Affected], list[str]]:
    """(affected rows, reasons for skipped entries) of one secdb document."""
    if not isinstance(data, dict) or "packages" not in data:
        raise FeedError("not an Alpine secdb document: no 'packages'")
    packages = data["packages"] or []  # an empty repository is written null or {}
    if not isinstance(packages, list):
        raise FeedError("Alpine secdb 'packages' is not a list")
    release = str(data.get("distroversion") or "").lstrip("v")
    if not release:
        raise FeedError("Alpine secdb document without 'distroversion'")
    distro = f"alpine:{release}"
    rows: list[Affected] = []
    bad: list[str] = []
    for entry in packages:
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        if not isinstance(pkg, dict) or not pkg.get("name"):
            bad.append(f"package entry without a name: {entry!r:.80}")
            continue
        for version, ids in (pkg.get("secfixes") or {}).items():
            rows.extend(_rows(distro, str(pkg["name"]), str(version).strip(), ids or (), bad))
    return rows, bad


def _rows(distro: str, name: str, version: str, ids: Any, bad: list[str]) -> Iterator[Affected]:
    for text in ids if isinstance(ids, list) else [ids] if ids else []:
        found = _ID.findall(_TYPO.sub("CVE-", str(text)))
        if not found:
            bad.append(f"{name} {version}: no advisory id in {text!r}")
            continue
        not_affected = version == "0"
        yield Affected(
            advisory_id=AdvisoryId(found[0]),
            ecosystem="apk",
            distro=distro,
            name=name,
            ranges=() if not_affected else _fixed_in(version),
            state=NOT_AFFECTED if not_affected else FIXED,
        )


def _fixed_in(version: str) -> tuple[Range, ...]:
    return (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", version))),)
