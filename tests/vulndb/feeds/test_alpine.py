"""Alpine secdb: every real YAML release and the JSON samples load; version 0 is not-affected."""

from __future__ import annotations

from pathlib import Path

import pytest

from spyglass.errors import FeedError
from spyglass.vulndb.feeds.alpine import AlpineSecdbFeed, parse_secdb
from spyglass.vulndb.model import FIXED, NOT_AFFECTED, Event

pytestmark = pytest.mark.realdata

RELEASES = ["v3.3", "v3.4", "v3.5", "v3.6", "v3.7", "v3.8", "v3.9", "v3.10", "v3.11"]


def test_all_yaml_releases_load(advisories: Path) -> None:
    data = AlpineSecdbFeed().parse(advisories / "alpine-secdb/yaml")
    assert data.skipped == ()
    # 1652 package entries across v3.3 … v3.11 main + community (the README's count).
    assert len({(a.distro, a.name) for a in data.affected}) == 1652
    assert {a.distro for a in data.affected} == {f"alpine:{r[1:]}" for r in RELEASES}
    assert {a.ecosystem for a in data.affected} == {"apk"}
    assert len(data.advisories) == len({a.advisory_id for a in data.affected})


@pytest.mark.parametrize("release", RELEASES)
def test_each_release_loads(advisories: Path, release: str) -> None:
    data = AlpineSecdbFeed().parse(advisories / "alpine-secdb/yaml" / release)
    assert data.skipped == ()
    assert {a.distro for a in data.affected} <= {f"alpine:{release[1:]}"}


def test_v310_musl_fix(advisories: Path) -> None:
    data = AlpineSecdbFeed().parse(advisories / "alpine-secdb/yaml/v3.10/main.yaml")
    musl = [a for a in data.affected if a.name == "musl"]
    assert musl and all(a.state == FIXED for a in musl)
    assert any(
        a.ranges[0].events == (Event("introduced", "0"), Event("fixed", "1.1.22-r3")) for a in musl
    )


def test_version_zero_means_not_affected(advisories: Path) -> None:
    data = AlpineSecdbFeed().parse(advisories / "alpine-secdb/yaml")
    rejected = [a for a in data.affected if a.state == NOT_AFFECTED]
    assert rejected and all(a.ranges == () for a in rejected)
    assert any(a.name == "db" and a.advisory_id == "CVE-2016-0682" for a in rejected)


def test_ids_with_extra_words_keep_the_first_id(advisories: Path) -> None:
    data = AlpineSecdbFeed().parse(advisories / "alpine-secdb/yaml")
    ids = {a.advisory_id for a in data.affected}
    assert "CVE-2017-2887" in ids and not any(" " in i for i in ids)


@pytest.mark.parametrize("sample", ["json-samples/vuln-list-update", "json-samples/claircore"])
def test_json_samples_load(advisories: Path, sample: str) -> None:
    path = advisories / "alpine-secdb" / sample
    data = AlpineSecdbFeed().parse(path)
    assert data.affected
    # vuln-list-update's golden/ files are its own per-package output, not secdb documents.
    assert all(s.path.startswith("golden/") for s in data.skipped)


def test_empty_repository_and_empty_secfixes_are_valid(advisories: Path) -> None:
    samples = advisories / "alpine-secdb/json-samples/vuln-list-update"
    assert AlpineSecdbFeed().parse(samples / "311-community.json").affected == ()
    data = AlpineSecdbFeed().parse(samples / "312-main.json")
    assert [(a.name, a.advisory_id) for a in data.affected] == [("ansible", "CVE-2018-16876")]


def test_not_a_secdb_document() -> None:
    with pytest.raises(FeedError, match="not an Alpine secdb document"):
        parse_secdb({"name": "ansible"})
