"""An image's finding events and its last re-evaluation's changes over the API, on both backends.

The image is scanned the way a worker scans it (``scan_entry``) against one advisory; the data is
then changed (a second advisory, the first withdrawn) and stored inventories are re-evaluated as
after a feed refresh, so the events come from both causes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spyglass.inventory import OSRelease
from spyglass.jobs.reevaluate import reevaluate
from spyglass.jobs.scan import scan_entry
from spyglass.store import queue
from spyglass.store.models import utcnow
from spyglass.vulndb.ecosystems import distro_key
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.model import Advisory, AdvisoryId, Affected, Event, FeedData, Range
from spyglass.vulndb.store import VulnStore
from tests.service.conftest import Api, alpine_layout

ALPINE = OSRelease("alpine", "3.19.1")


def musl_advisory(vuln_id: str, fixed: str, *, withdrawn: str | None = None
                  ) -> tuple[Advisory, Affected]:
    advisory = Advisory(id=AdvisoryId(vuln_id), feed="test", severity="high",
                        summary="musl overflow", withdrawn=withdrawn)
    ranges = (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", fixed))),)
    return advisory, Affected(AdvisoryId(vuln_id), "apk", distro_key(ALPINE), "musl", ranges)


def load(api: Api, *pairs: tuple[Advisory, Affected]) -> None:
    data = FeedData(tuple(a for a, _ in pairs), tuple(b for _, b in pairs), ())
    VulnStore(api.service.runtime.db.engine).replace("test", data, FetchState(1), "test")


def scanned_image(api: Api, root: Path) -> int:
    """Scan an Alpine image with a vulnerable musl; its image id."""
    runtime = api.service.runtime
    with runtime.db.transaction() as session:
        entry, _ = queue.submit(session, alpine_layout(root, {"musl": "1.2.4-r2"}),
                                digest=None, now=utcnow())
    assert scan_entry(runtime, entry.id) == "scanned"
    page = api.get("/api/v1/images").json()
    return int(page["items"][0]["id"])


def events(api: Api, image_id: int, **params: Any) -> dict[str, Any]:
    response = api.get(f"/api/v1/images/{image_id}/events", token=api.viewer, **params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_events_name_their_cause_newest_first(api: Api, tmp_path: Path) -> None:
    load(api, musl_advisory("CVE-2099-0001", "1.2.4-r3"))
    image_id = scanned_image(api, tmp_path / "app")
    detail = api.get(f"/api/v1/images/{image_id}").json()
    assert detail["last_reevaluation"] == {"at": None, "new": 0, "resolved": 0}
    [scanned] = events(api, image_id)["items"]
    assert (scanned["advisory_id"], scanned["package"], scanned["version"], scanned["kind"]) == (
        "CVE-2099-0001", "musl", "1.2.4-r2", "new")
    assert (scanned["cause"], scanned["scan_id"]) == ("scan", detail["scans"][0]["id"])

    load(api, musl_advisory("CVE-2099-0001", "1.2.4-r3", withdrawn="2099-01-01T00:00:00Z"),
         musl_advisory("CVE-2099-0002", "1.2.4-r4"))
    run = reevaluate(api.service.runtime)
    assert (run.new, run.resolved) == (1, 1)

    page = events(api, image_id)
    assert page["total"] == 3
    latest, scan_event = page["items"][:2], page["items"][2]
    assert sorted((e["advisory_id"], e["kind"]) for e in latest) == [
        ("CVE-2099-0001", "resolved"), ("CVE-2099-0002", "new")]
    assert {(e["cause"], e["scan_id"]) for e in latest} == {("reevaluation", None)}
    assert scan_event == scanned
    assert latest[0]["at"] >= scan_event["at"]

    changes = api.get(f"/api/v1/images/{image_id}").json()["last_reevaluation"]
    assert (changes["new"], changes["resolved"]) == (1, 1) and changes["at"] == latest[0]["at"]


def test_events_are_paginated_and_unknown_images_are_404(api: Api, tmp_path: Path) -> None:
    load(api, musl_advisory("CVE-2099-0001", "1.2.4-r3"),
         musl_advisory("CVE-2099-0002", "1.2.4-r4"))
    image_id = scanned_image(api, tmp_path / "app")
    whole = events(api, image_id)["items"]
    pages = [events(api, image_id, limit=1, offset=o) for o in (0, 1, 2)]
    assert [p["total"] for p in pages] == [2, 2, 2]
    assert [p["items"] for p in pages] == [whole[:1], whole[1:], []]
    assert api.get("/api/v1/images/999999/events").status_code == 404
    assert api.get(f"/api/v1/images/{image_id}/events", limit=0).status_code == 422
    no_token = api.service.client.get(f"/api/v1/images/{image_id}/events")
    assert no_token.status_code in (401, 403)
