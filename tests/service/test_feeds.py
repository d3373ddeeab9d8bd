"""Feed status, "refresh now", and re-evaluation after a refresh without pulling the image.

The image comes from the real loopback registry; the vulnerability data is an OSV folder in a
temporary directory, configured as the ``osv/Alpine`` feed's source the way an operator would
(``SPYGLASS_FEEDS`` and ``SPYGLASS_FEED_OSV_ALPINE``). Both backends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from spyglass.jobs.worker import EmbeddedWorker
from spyglass.store.models import Finding, FindingEvent
from tests.helpers.images import build_image
from tests.helpers.push import push_image
from tests.helpers.registry import RunningRegistry, registry
from tests.service.conftest import Api

__all__ = ["registry"]

REPO = "feeds/app"


def osv_record(vuln_id: str, package: str, fixed: str, **extra: Any) -> dict[str, Any]:
    """An OSV record for an Alpine 3.19 package, affected below ``fixed``."""
    return {
        "schema_version": "1.6.0", "id": vuln_id, "modified": "2026-01-01T00:00:00Z",
        "summary": f"{package} test advisory",
        "affected": [{
            "package": {"ecosystem": "Alpine:v3.19", "name": package},
            "ranges": [{"type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        }],
        **extra,
    }


def write_records(folder: Path, *records: dict[str, Any]) -> None:
    """The feed's folder holds exactly ``records``, one JSON file each."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record))


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def osv_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty OSV folder configured as the only feed the service refreshes."""
    folder = tmp_path / "osv-alpine"
    folder.mkdir()
    monkeypatch.setenv("SPYGLASS_FEEDS", "osv/Alpine")
    monkeypatch.setenv("SPYGLASS_FEED_OSV_ALPINE", str(folder))
    return folder


def refresh(api: Api) -> None:
    response = api.post("/api/v1/feeds/refresh", None)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued" and response.json()["task_id"]


def open_findings(api: Api, image_id: int) -> set[str]:
    detail = api.get(f"/api/v1/images/{image_id}").json()
    return {f"{f['advisory_id']} {f['package']}" for f in detail["findings"]}


def test_feed_routes_need_tokens_and_admin_to_refresh(api: Api) -> None:
    client = api.service.client
    assert client.get("/api/v1/feeds").status_code == 401
    listed = api.get("/api/v1/feeds", token=api.viewer)
    assert listed.status_code == 200
    assert listed.json()["items"] == [] and listed.json()["interval_hours"] == 6.0
    refused = api.post("/api/v1/feeds/refresh", None, token=api.viewer)
    assert refused.status_code == 403


def test_refresh_changes_findings_and_events_without_pulling(
    api: Api, worker: EmbeddedWorker, registry: RunningRegistry, osv_folder: Path
) -> None:
    write_records(osv_folder, osv_record("CVE-2099-1000", "zlib", "1.3.1-r1"))
    refresh(api)
    wait_for("the first refresh", lambda: [f["records"] for f in
                                           api.get("/api/v1/feeds").json()["items"]] == [1])
    [status] = api.get("/api/v1/feeds").json()["items"]
    assert status["name"] == "osv/Alpine" and status["source"] == str(osv_folder)
    assert status["refreshed_at"] and status["checked_at"]

    installed = "".join(f"P:{n}\nV:{v}\nA:x86_64\no:{n}\n\n"
                        for n, v in {"musl": "1.2.4-r2", "zlib": "1.3.1-r0"}.items())
    image = build_image([{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"},
                         {"lib/apk/db/installed": installed.encode()}])
    push_image(registry.url, REPO, "1.0", image)
    entry = api.submit(f"{registry.host}/{REPO}:1.0")
    done = api.wait([entry["id"]])[entry["id"]]
    assert done["state"] == "scanned", done["reason"]
    image_id = done["image_id"]
    assert open_findings(api, image_id) == {"CVE-2099-1000 zlib"}
    pulled = registry.pulled_blobs(REPO)
    assert pulled  # the scan did pull the layers

    # Withdraw the zlib advisory, add one that affects musl.
    withdrawn = osv_record("CVE-2099-1000", "zlib", "1.3.1-r1", withdrawn="2026-06-01T00:00:00Z")
    added = osv_record("CVE-2099-2000", "musl", "1.2.4-r3",
                       database_specific={"severity": "critical"})
    write_records(osv_folder, withdrawn, added)
    refresh(api)
    wait_for("the re-evaluation", lambda: open_findings(api, image_id) == {"CVE-2099-2000 musl"})

    row = api.get("/api/v1/images", repository=REPO).json()["items"][0]
    assert row["severities"]["critical"] == 1 and row["fixable"] == 1
    with api.service.runtime.db.transaction() as session:
        found = session.execute(
            select(Finding.advisory_id, FindingEvent.kind, FindingEvent.at)
            .join(Finding, Finding.id == FindingEvent.finding_id)
            .where(FindingEvent.image_id == image_id).order_by(FindingEvent.id)
        ).all()
    events = [(advisory, kind) for advisory, kind, _ in found]
    assert events[0] == ("CVE-2099-1000", "new")
    assert sorted(events[1:]) == [("CVE-2099-1000", "resolved"), ("CVE-2099-2000", "new")]
    assert found[1].at == found[2].at > found[0].at
    assert registry.pulled_blobs(REPO) == pulled  # re-evaluated from the stored inventory
