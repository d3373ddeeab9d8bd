"""CISA KEV: the full catalogue and vuln-list-update's samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.kev import KevFeed, parse_catalogue

pytestmark = pytest.mark.realdata


def test_full_catalogue(advisories: Path) -> None:
    data = KevFeed().parse(advisories / "kev/known_exploited_vulnerabilities.json")
    assert len(data.exploited) == 1404 == data.records
    assert data.skipped == ()
    log4shell = next(e for e in data.exploited if e.vuln_id == "CVE-2021-44228")
    assert log4shell.vendor == "Apache" and log4shell.date_added


def test_happy_sample(advisories: Path) -> None:
    data = KevFeed().parse(
        advisories / "kev/vuln-list-update/happy/known_exploited_vulnerabilities.json"
    )
    assert {e.vuln_id for e in data.exploited} == {"CVE-2014-0160", "CVE-2022-1388"}


def test_sad_sample_fails_cleanly(advisories: Path) -> None:
    with pytest.raises(FeedError, match="not readable JSON"):
        KevFeed().parse(
            advisories / "kev/vuln-list-update/sad/known_exploited_vulnerabilities.json"
        )


def test_entries_without_id_are_skipped() -> None:
    data = parse_catalogue({"vulnerabilities": [{"cveID": "CVE-2024-1"}, {"product": "x"}]})
    assert [e.vuln_id for e in data.exploited] == ["CVE-2024-1"] and len(data.skipped) == 1
    with pytest.raises(FeedError):
        parse_catalogue({"count": 0})
