"""Debian security tracker JSON: states, releases and urgencies from the real sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.debian import DebianTrackerFeed, parse_tracker
from spyglass.vulndb.model import END_OF_LIFE, FIXED, NOT_AFFECTED, UNFIXED, WILL_NOT_FIX, Event

SAMPLE = "debian-tracker/tracker-json-sample/debian_security_tracker_mock.json"


@pytest.mark.realdata
def test_tracker_sample(advisories: Path) -> None:
    data = DebianTrackerFeed().parse(advisories / SAMPLE)
    assert {a.id for a in data.advisories} == {"CVE-2014-1424", "CVE-2016-1585", "CVE-2017-6507"}
    assert len(data.affected) == 15 and data.skipped == ()
    rows = {(a.advisory_id, a.distro): a for a in data.affected}
    assert rows["CVE-2014-1424", "debian:12"].state == NOT_AFFECTED
    assert rows["CVE-2014-1424", "debian:12"].severity == "negligible"
    open_issue = rows["CVE-2016-1585", "debian:12"]
    assert open_issue.state == UNFIXED and open_issue.ranges[0].events == (
        Event("introduced", "0"),
    )
    fixed = rows["CVE-2016-1585", "debian:unstable"]
    assert fixed.state == FIXED and fixed.fixed == ("3.0.12-1",)
    assert rows["CVE-2017-6507", "debian:13"].severity is None  # "not yet assigned"
    assert {a.name for a in data.affected} == {"apparmor"}


def test_no_dsa_reasons_and_end_of_life() -> None:
    releases = {
        "bookworm": {
            "status": "open",
            "urgency": "low",
            "nodsa": "Minor issue",
            "nodsa_reason": "ignored",
        },
        "bullseye": {
            "status": "open",
            "urgency": "low",
            "nodsa": "Minor",
            "nodsa_reason": "postponed",
        },
        "buster": {"status": "open", "urgency": "end-of-life"},
    }
    data = parse_tracker({"foo": {"CVE-2024-0001": {"description": "x", "releases": releases}}})
    states = {a.distro: a.state for a in data.affected}
    assert states == {"debian:12": WILL_NOT_FIX, "debian:11": UNFIXED, "debian:10": END_OF_LIFE}


def test_malformed_entry_is_skipped_and_not_an_export_fails() -> None:
    data = parse_tracker({"foo": {"CVE-1": {"releases": {"bookworm": {}}}}, "bar": []})
    assert data.affected == () and len(data.skipped) == 2
    with pytest.raises(FeedError):
        parse_tracker([])


def test_truncated_export_fails_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "tracker.json"
    bad.write_text('{"apparmor": {"CVE-1": ')
    with pytest.raises(FeedError, match="not readable JSON"):
        DebianTrackerFeed().parse(bad)
