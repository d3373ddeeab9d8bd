"""The Debian security tracker's JSON export: per source package, CVE and release.

``{source: {cve: {description, releases: {codename: {status, fixed_version, urgency, nodsa,
nodsa_reason}}}}}``. The tracker's own meaning of each state:

- ``resolved`` with ``fixed_version`` ``0``: the release never shipped vulnerable code
  (``<not-affected>``) -> ``not-affected``;
- ``resolved`` with a version: fixed in that version -> ``fixed``;
- ``open`` / ``undetermined`` with urgency ``end-of-life``: the package is no longer supported
  in that release -> ``end-of-life``;
- ``open`` with ``nodsa_reason`` ``ignored``: the team decided not to fix -> ``will-not-fix``;
- any other ``open``: no fix yet (``postponed`` and plain ``no-dsa`` are still to be fixed).

Rows that are not ``not-affected`` carry an ``introduced: 0`` range (with the fix when there
is one), so "every version up to the fix" reads the same as in OSV. The urgency
(``unimportant``, ``low``, ``medium``, ``high``) becomes the per-package severity.
Names are *source* package names: the matcher matches a binary package by its source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.documents import read_json_file
from spyglass.vulndb.feeds.interface import Feed
from spyglass.vulndb.model import (
    END_OF_LIFE,
    FIXED,
    NOT_AFFECTED,
    UNFIXED,
    WILL_NOT_FIX,
    Advisory,
    AdvisoryId,
    Affected,
    Event,
    FeedData,
    Range,
    Skipped,
)
from spyglass.vulndb.severity import normalise_label

DEFAULT_URL = "https://security-tracker.debian.org/tracker/data/json"

CODENAMES = {
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
    "sid": "unstable",
}
"""Debian codenames to the release part of the distro key (``debian:12``)."""


class DebianTrackerFeed(Feed):
    """The Debian security tracker (source packages, every supported release)."""

    name = "debian/tracker"
    version = 1

    def default_source(self) -> str:
        """The tracker's public JSON export."""
        return DEFAULT_URL

    def parse(self, path: Path) -> FeedData:
        """Read the tracker JSON export at ``path``."""
        return parse_tracker(read_json_file(path, "Debian tracker data"), self.name)


def parse_tracker(data: Any, feed: str = "debian/tracker") -> FeedData:
    """The export as advisories (one per CVE) and affected rows (per package and release)."""
    if not isinstance(data, dict):
        raise FeedError("not a Debian tracker export: expected an object of source packages")
    advisories: dict[str, Advisory] = {}
    affected: list[Affected] = []
    skipped: list[Skipped] = []
    for source, issues in data.items():
        if not isinstance(issues, dict):
            skipped.append(Skipped(source, "package entry is not an object"))
            continue
        for issue_id, issue in issues.items():
            try:
                affected.extend(_rows(source, issue_id, issue["releases"]))
            except (KeyError, TypeError, AttributeError) as exc:
                skipped.append(Skipped(f"{source}/{issue_id}", f"malformed entry ({exc!r})"))
                continue
            advisories.setdefault(issue_id, _advisory(issue_id, issue, feed))
    return FeedData(tuple(advisories.values()), tuple(affected), skipped=tuple(skipped))


def _advisory(issue_id: str, issue: dict[str, Any], feed: str) -> Advisory:
    description = str(issue.get("description") or "")
    return Advisory(
        id=AdvisoryId(issue_id),
        feed=feed,
        summary=description.split("\n", 1)[0][:200],
        details=description,
        url=f"https://security-tracker.debian.org/tracker/{issue_id}",
    )


def _rows(source: str, issue_id: str, releases: dict[str, Any]) -> list[Affected]:
    rows = []
    for codename, info in releases.items():
        state, fixed = _state(info)
        urgency = str(info.get("urgency") or "")
        rows.append(
            Affected(
                advisory_id=AdvisoryId(issue_id),
                ecosystem="deb",
                distro=f"debian:{CODENAMES.get(codename, codename)}",
                name=source,
                ranges=_ranges(state, fixed),
                state=state,
                severity=normalise_label(urgency),
            )
        )
    return rows


def _ranges(state: str, fixed: str | None) -> tuple[Range, ...]:
    # Every version is affected until the fix; with no fix, every version ("introduced 0").
    if state == NOT_AFFECTED:
        return ()
    events = (Event("introduced", "0"), *([Event("fixed", fixed)] if fixed else []))
    return (Range("ECOSYSTEM", events),)


def _state(info: dict[str, Any]) -> tuple[str, str | None]:
    """(state, fixed version) of one release entry."""
    status = info["status"]
    fixed = info.get("fixed_version")
    if status == "resolved":
        return (NOT_AFFECTED, None) if fixed in (None, "0") else (FIXED, str(fixed))
    if str(info.get("urgency") or "") == "end-of-life":
        return END_OF_LIFE, None
    if info.get("nodsa_reason") == "ignored":
        return WILL_NOT_FIX, None
    return UNFIXED, None
