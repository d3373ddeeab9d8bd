"""The store on SQLite and PostgreSQL: per-feed replacement, candidates, KEV, fetch state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from spyglass.errors import DataError
from spyglass.vulndb import rows
from spyglass.vulndb.feeds.interface import FetchState, Validator
from spyglass.vulndb.feeds.kev import KevFeed
from spyglass.vulndb.feeds.osv import OsvFeed
from spyglass.vulndb.model import (
    Advisory,
    AdvisoryId,
    Affected,
    Event,
    Exploited,
    FeedData,
    Range,
)
from spyglass.vulndb.store import VulnStore, database_url

STATE = FetchState(
    1,
    {"https://x.example/all.zip": Validator('"abc"', "Wed, 01 Jan 2025 00:00:00 GMT")},
    "sha256:1",
)


def _advisory(advisory_id: str, *aliases: str, withdrawn: str | None = None) -> Advisory:
    return Advisory(id=AdvisoryId(advisory_id), feed="a", aliases=aliases, withdrawn=withdrawn)


def _affected(
    advisory_id: str, name: str, ecosystem: str = "pypi", distro: str | None = None
) -> Affected:
    ranges = (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "2.0"))),)
    return Affected(AdvisoryId(advisory_id), ecosystem, distro, name, ranges, ("1.0",))


def _data(*pairs: tuple[str, str]) -> FeedData:
    advisories = tuple(_advisory(i) for i in dict.fromkeys(i for i, _ in pairs))
    return FeedData(advisories, tuple(_affected(i, n) for i, n in pairs))


def test_replace_and_candidates_round_trip(store: VulnStore) -> None:
    store.replace("osv/PyPI", _data(("PYSEC-1", "django"), ("PYSEC-2", "requests")), STATE, "src")
    (found,) = store.candidates("pypi", None, ["django", "flask"])
    assert found.advisory.id == "PYSEC-1" and found.advisory.feed == "osv/PyPI"
    assert found.affected == _affected("PYSEC-1", "django")
    assert store.candidates("npm", None, ["django"]) == []
    assert store.candidates("pypi", "debian:12", ["django"]) == []


def test_replace_swaps_only_that_feed(store: VulnStore) -> None:
    store.replace("a", _data(("A-1", "x")), STATE, "src")
    store.replace("b", _data(("B-1", "x")), STATE, "src")
    store.replace("a", _data(("A-2", "y")), STATE, "src")
    assert {c.advisory.id for c in store.candidates("pypi", None, ["x", "y"])} == {"B-1", "A-2"}
    assert {f.name: f.records for f in store.feeds()} == {"a": 1, "b": 1}


def test_failed_replace_keeps_previous_rows(
    store: VulnStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.replace("a", _data(("A-1", "x")), STATE, "src")

    original = rows.feed_rows

    def broken(name: str, data: FeedData) -> Iterator[Any]:
        yield from list(original(name, data))[:1]  # the advisories go in, then the failure
        raise RuntimeError("disk full half-way")

    monkeypatch.setattr(rows, "feed_rows", broken)
    with pytest.raises(RuntimeError):
        store.replace("a", _data(("A-2", "y")), FetchState(1, {}, "sha256:2"), "src")
    assert [c.advisory.id for c in store.candidates("pypi", None, ["x", "y"])] == ["A-1"]
    assert store.fetch_state("a").content_hash == "sha256:1"


def test_withdrawn_left_out_unless_asked(store: VulnStore) -> None:
    data = FeedData((_advisory("W-1", withdrawn="2024-01-01T00:00:00Z"),), (_affected("W-1", "x"),))
    store.replace("a", data, STATE, "src")
    assert store.candidates("pypi", None, ["x"]) == []
    assert len(store.candidates("pypi", None, ["x"], include_withdrawn=True)) == 1


def test_many_names_in_one_call(store: VulnStore) -> None:
    names = [f"pkg-{i}" for i in range(1200)]
    store.replace("a", _data(*((f"A-{i}", n) for i, n in enumerate(names))), STATE, "src")
    assert len(store.candidates("pypi", None, names)) == 1200


def test_known_exploited_by_alias(store: VulnStore) -> None:
    data = FeedData(
        (_advisory("GHSA-xxxx", "CVE-2021-44228"),), (_affected("GHSA-xxxx", "log4j", "maven"),)
    )
    store.replace("osv/Maven", data, STATE, "src")
    kev = FeedData(exploited=(Exploited("CVE-2021-44228", "2021-12-10", vendor="Apache"),))
    store.replace("cisa/kev", kev, STATE, "src")
    (found,) = store.candidates("maven", None, ["log4j"])
    assert found.known_exploited
    assert store.is_known_exploited(found.advisory)
    assert store.is_known_exploited("CVE-2021-44228")
    assert not store.is_known_exploited("CVE-2000-0001")
    assert store.exploited(["CVE-2021-44228"])["CVE-2021-44228"].vendor == "Apache"


def test_known_exploited_by_a_cve_an_erratum_fixes(store: VulnStore) -> None:
    erratum = Advisory(AdvisoryId("ALSA-2023:5929"), "osv/AlmaLinux", fixes=("CVE-2023-44487",))
    data = FeedData((erratum,), (_affected("ALSA-2023:5929", "tomcat", "rpm", "alma:9"),))
    store.replace("osv/AlmaLinux", data, STATE, "src")
    store.replace("cisa/kev", FeedData(exploited=(Exploited("CVE-2023-44487"),)), STATE, "src")
    (found,) = store.candidates("rpm", "alma:9", ["tomcat"])
    assert found.known_exploited and found.advisory == erratum
    assert store.is_known_exploited(erratum)
    assert store.feed_data("osv/AlmaLinux").advisories == (erratum,)


def test_a_store_from_before_fixes_gains_the_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = VulnStore.open(url)
    with old.engine.begin() as conn:
        conn.execute(text("ALTER TABLE vuln_advisory DROP COLUMN fixes"))
    old.close()
    reopened = VulnStore.open(url)
    reopened.replace("a", _data(("A-1", "x")), STATE, "src")
    (found,) = reopened.candidates("pypi", None, ["x"])
    assert found.advisory.fixes == ()
    reopened.close()


def test_fetch_state_and_status(store: VulnStore) -> None:
    assert store.fetch_state("a") == FetchState()
    store.replace("a", _data(("A-1", "x")), STATE, "https://x.example/all.zip")
    assert store.fetch_state("a") == STATE
    status = store.status("a")
    assert status is not None and status.records == 1 and status.refreshed_at
    assert status.source == "https://x.example/all.zip"
    store.mark_checked("a")


def test_feed_data_round_trip(store: VulnStore) -> None:
    data = FeedData(
        (_advisory("A-1", "CVE-1"),),
        (_affected("A-1", "x"), _affected("A-1", "libssl3", "deb", "debian:12")),
        (Exploited("CVE-1"),),
    )
    store.replace("a", data, STATE, "src")
    assert store.feed_data("a") == data


@pytest.mark.realdata
def test_real_pypi_and_kev(store: VulnStore, advisories: Path) -> None:
    pypi = OsvFeed("PyPI").parse(advisories / "osv-pypi/vulns")
    store.replace("osv/PyPI", pypi, STATE, "local")
    store.replace(
        "cisa/kev",
        KevFeed().parse(advisories / "kev/known_exploited_vulnerabilities.json"),
        STATE,
        "local",
    )
    assert {f.name: f.records for f in store.feeds()} == {"osv/PyPI": 2661, "cisa/kev": 1404}
    found = store.candidates("pypi", None, ["django", "accesscontrol", "no-such-package"])
    assert {c.affected.name for c in found} == {"django", "accesscontrol"}
    assert all(c.advisory.withdrawn is None for c in found)
    assert store.feed_data("osv/PyPI").affected == pypi.affected


def test_unreachable_database_is_a_data_error() -> None:
    with pytest.raises(DataError, match="SPYGLASS_DATABASE_URL"):
        VulnStore.open(
            "postgresql://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
        )


def test_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPYGLASS_DATABASE_URL", "postgresql://u@h/db")
    assert database_url() == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("SPYGLASS_DATABASE_URL")
    assert database_url().startswith("sqlite:///") and database_url().endswith("spyglass.db")
