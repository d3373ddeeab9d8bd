"""CSV exports, the list's scan-state filter and fix commands, on both backends.

Images and findings are written straight into the store (``results.apply_findings`` keeps the
counts the filters use), so these tests need no worker and no vulnerability data.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from spyglass.service import csv_export
from spyglass.store import catalog
from spyglass.store.models import (
    INVALID,
    QUEUED,
    SCANNED,
    Image,
    QueueEntry,
    Repository,
    Tag,
    utcnow,
)
from spyglass.store.results import FindingRow, apply_findings
from tests.service.conftest import Api

DEB = FindingRow("CVE-2099-0001", "openssl", "3.0.11-1~deb12u1", "deb", "critical",
                 "3.0.13-1~deb12u1", known_exploited=True, layer="sha256:" + "a" * 64)
APK = FindingRow("CVE-2099-0002", "musl", "1.2.4-r2", "apk", "high", "1.2.4-r3")
RPM = FindingRow("CVE-2099-0003", "curl", "7.76.1-26.el9", "rpm", "medium", "7.76.1-29.el9")
PYPI = FindingRow("GHSA-xxxx-0004", "jinja2", "3.1.2", "pypi", "low", "3.1.3")
UNFIXED = FindingRow("CVE-2099-0005", "zlib", "1.3-1", "deb", "low")


def _image(api: Api, name: str, rows: list[FindingRow], *, tag: str = "1", os: str = "debian",
           state: str | None = None, age: int = 0) -> int:
    """An image scanned ``age`` hours ago with ``rows`` open; its latest queue entry in
    ``state`` (none when ``None``)."""
    now = utcnow() - timedelta(hours=age)
    with api.service.runtime.db.transaction() as session:
        repo = Repository(host="registry.test", name=name)
        session.add(repo)
        session.flush()
        image = Image(repository_id=repo.id, digest="sha256:" + name.encode().hex().ljust(64, "0"),
                      reference=f"registry.test/{name}:{tag}", os_family=os, os_version="12",
                      first_seen=now, scanned_at=now)
        session.add(image)
        session.flush()
        session.add(Tag(repository_id=repo.id, name=tag, image_id=image.id, updated_at=now))
        apply_findings(session, image, rows, now=now)
        if state is not None:
            session.add(QueueEntry(reference=image.reference, digest=None, state=state,
                                   image_id=image.id, created_at=now, enqueued_at=now))
        return image.id


def _csv(api: Api, path: str, **params: str) -> list[dict[str, str]]:
    response = api.get(path, token=api.viewer, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def _ids(rows: list[dict[str, str]]) -> list[int]:
    return [int(r["image_id"]) for r in rows]


@pytest.fixture
def three(api: Api) -> dict[str, int]:
    """Three images: critical+fixable deb, high apk (a rescan queued), unfixed low (invalid)."""
    return {
        "deb": _image(api, "team/web", [DEB, UNFIXED], tag="prod", age=3),
        "apk": _image(api, "team/edge", [APK], tag="edge", os="alpine", state=QUEUED, age=2),
        "low": _image(api, "team/base", [UNFIXED], state=INVALID, age=1),
    }


FILTERS = [{}, {"severity": "high"}, {"fixable": "true"}, {"fixable": "false"},
           {"os": "alpine"}, {"tag": "prod"}, {"state": "queued"}, {"state": "scanned"},
           {"exploited": "true"}, {"repository": "team/base"}, {"sort": "-critical"},
           {"sort": "repository"}]


@pytest.mark.parametrize("params", FILTERS, ids=[str(p) for p in FILTERS])
def test_images_csv_lists_what_the_list_lists(api: Api, three: dict[str, int],
                                              params: dict[str, str]) -> None:
    listed = api.get("/api/v1/images", **params).json()["items"]
    rows = _csv(api, "/api/v1/images.csv", **params)
    assert _ids(rows) == [i["id"] for i in listed]
    for row, item in zip(rows, listed, strict=True):
        assert row["tags"] == " ".join(item["tags"])
        assert int(row["critical"]) == item["severities"]["critical"]
        assert int(row["fixable"]) == item["fixable"]


def test_state_filter_is_the_latest_queue_entry_or_scanned(api: Api,
                                                          three: dict[str, int]) -> None:
    def ids(state: str) -> set[int]:
        return {i["id"] for i in api.get("/api/v1/images", state=state).json()["items"]}

    assert ids("queued") == {three["apk"]}
    assert ids("invalid") == {three["low"]}
    assert ids("scanned") == {three["deb"]}
    assert ids("sent") == set()
    with api.service.runtime.db.transaction() as session:  # a later scan supersedes the failure
        session.add(QueueEntry(reference="r", digest=None, state=SCANNED, image_id=three["low"],
                               created_at=utcnow(), enqueued_at=utcnow()))
    assert ids("scanned") == {three["deb"], three["low"]}
    assert api.get("/api/v1/images", state="bogus").status_code == 422


def test_rows_show_the_state_the_filter_uses(api: Api, three: dict[str, int]) -> None:
    rows = api.get("/api/v1/images", token=api.viewer).json()["items"]
    shown = {r["id"]: r["state"] for r in rows}
    assert shown == {three["deb"]: SCANNED, three["apk"]: QUEUED, three["low"]: INVALID}
    for state in (SCANNED, QUEUED, INVALID):
        items = api.get("/api/v1/images", state=state).json()["items"]
        assert [i["state"] for i in items] == [state]
    assert api.get(f"/api/v1/images/{three['apk']}").json()["state"] == QUEUED


def test_findings_csv_has_every_open_finding_with_image_columns(api: Api,
                                                               three: dict[str, int]) -> None:
    rows = _csv(api, "/api/v1/findings.csv", sort="first_seen")
    assert [(int(r["image_id"]), r["advisory_id"]) for r in rows] == [
        (three["deb"], DEB.advisory_id), (three["deb"], UNFIXED.advisory_id),
        (three["apk"], APK.advisory_id), (three["low"], UNFIXED.advisory_id)]
    first = rows[0]
    assert (first["registry"], first["repository"], first["tags"]) == (
        "registry.test", "team/web", "prod")
    assert first["fix_command"] == "apt-get install --only-upgrade openssl=3.0.13-1~deb12u1"
    assert (first["known_exploited"], first["layer"]) == ("true", DEB.layer)
    assert rows[1]["fix_command"] == rows[1]["fixed_version"] == ""


def test_findings_csv_filters_narrow_images_and_findings(api: Api,
                                                        three: dict[str, int]) -> None:
    def keys(**params: str) -> list[tuple[int, str]]:
        return [(int(r["image_id"]), r["advisory_id"])
                for r in _csv(api, "/api/v1/findings.csv", sort="first_seen", **params)]

    assert keys(severity="high") == [(three["deb"], DEB.advisory_id),
                                     (three["apk"], APK.advisory_id)]
    assert keys(fixable="true") == [(three["deb"], DEB.advisory_id),
                                    (three["apk"], APK.advisory_id)]
    assert keys(exploited="true") == [(three["deb"], DEB.advisory_id)]
    assert keys(state="invalid") == [(three["low"], UNFIXED.advisory_id)]
    assert keys(os="alpine:99") == []


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\tcmd", "\rcmd"])
def test_cells_that_start_a_formula_are_escaped(api: Api, value: str) -> None:
    hostile = FindingRow(value, value, value, "deb", "high", value, layer=value)
    _image(api, "evil", [hostile], tag="t")
    [row] = _csv(api, "/api/v1/findings.csv")
    for column in ("advisory_id", "package", "version", "fixed_version", "layer"):
        assert row[column] == "'" + value
    assert row["fix_command"].startswith("apt-get")
    [image] = _csv(api, "/api/v1/images.csv")
    assert image["repository"] == "evil" and image["high"] == "1"


def test_safe_cells_are_untouched() -> None:
    assert csv_export.cell("openssl") == "openssl"
    assert csv_export.cell("1:2.3-4") == "1:2.3-4"
    assert csv_export.cell(None) == "" and csv_export.cell(3) == 3
    assert csv_export.cell(True) == "true"


def test_export_is_streamed_in_batches(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(5):
        _image(api, f"repo{n}", [APK, PYPI], tag="t")
    monkeypatch.setattr(csv_export, "BATCH", 2)  # SQLite: rows two at a time
    monkeypatch.setattr(csv_export, "CHUNK", 1)  # PostgreSQL: each COPY row handed on
    db, wanted = api.service.runtime.db, catalog.ImageFilter()
    per_chunk = 1 if api.service.backend.name == "postgres" else 2
    chunks = list(csv_export.findings_csv(db, wanted, "-scanned_at"))
    assert len(chunks) == 1 + 10 // per_chunk  # the header, then 10 findings
    images = list(csv_export.images_csv(db, wanted, "-scanned_at"))
    assert len(images) == 1 + -(-5 // per_chunk)
    assert sum(c.count(b"\n") for c in images) == 6


def test_both_paths_write_the_same_cells(api: Api, three: dict[str, int]) -> None:
    with api.service.runtime.db.transaction() as session:
        image = session.get(Image, three["deb"])
        assert image is not None
        session.add(Tag(repository_id=image.repository_id, name="-beta", image_id=image.id))
    [row] = _csv(api, "/api/v1/images.csv", tag="prod")
    assert row["tags"] == "'-beta prod"  # sorted, and escaped as one cell
    [finding, _] = _csv(api, "/api/v1/findings.csv", tag="prod")
    assert finding["tags"] == "'-beta prod"
    [item] = api.get("/api/v1/images", tag="prod").json()["items"]
    assert datetime.fromisoformat(row["scanned_at"]) == datetime.fromisoformat(item["scanned_at"])
    assert row["scanned_at"].endswith("+00:00") and "." in row["scanned_at"]
    assert (row["os_family"], row["os_version"], row["platform"]) == ("debian", "12", "")


def test_export_needs_a_token_and_a_known_sort(api: Api) -> None:
    odd = "0642-05-14T16:08:29-16:24"  # an offset PostgreSQL refuses unless made UTC first
    assert _csv(api, "/api/v1/findings.csv", scanned_after=odd) == []
    assert api.service.client.get("/api/v1/images.csv").status_code == 401
    assert api.get("/api/v1/findings.csv", sort="nonsense").status_code == 422


def test_detail_gives_the_fix_command_of_each_os_package_manager(api: Api) -> None:
    image_id = _image(api, "mixed", [DEB, APK, RPM, PYPI, UNFIXED])
    findings = api.get(f"/api/v1/images/{image_id}", token=api.viewer).json()["findings"]
    commands = {f["package"]: f["fix_command"] for f in findings}
    assert commands == {
        "openssl": "apt-get install --only-upgrade openssl=3.0.13-1~deb12u1",
        "musl": "apk add musl=1.2.4-r3",
        "curl": "dnf upgrade curl-7.76.1-29.el9",
        "jinja2": None,  # not an OS package: pip has no fix command here
        "zlib": None,  # no fixed version yet
    }
