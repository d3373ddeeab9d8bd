"""The REST API end to end, on SQLite + Huey-on-SQLite and PostgreSQL + Huey-on-Redis."""

from __future__ import annotations

from pathlib import Path

from spyglass.inventory import OSRelease
from spyglass.jobs.worker import EmbeddedWorker
from spyglass.store.models import utcnow
from spyglass.store.tokens import list_tokens, revoke_token
from spyglass.vulndb.ecosystems import distro_key
from spyglass.vulndb.feeds.interface import FetchState
from spyglass.vulndb.model import Advisory, AdvisoryId, Affected, Event, FeedData, Range
from spyglass.vulndb.store import VulnStore
from tests.service.conftest import Api, alpine_layout


def test_only_healthz_is_open(api: Api) -> None:
    client = api.service.client
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["queue"] == ("sqlite" if api.service.backend.name == "sqlite" else "redis")
    for path in ("/api/v1/images", "/api/v1/queue", "/api/v1/assets", "/api/v1/images/1"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/images", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.get("/api/v1/images", token=api.viewer).status_code == 200


def test_viewer_cannot_submit_and_revoked_tokens_are_refused(api: Api) -> None:
    refused = api.post("/api/v1/scans", {"reference": "alpine"}, token=api.viewer)
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    with api.service.runtime.db.transaction() as session:
        [viewer] = [t for t in list_tokens(session) if t.role == "viewer"]
        assert revoke_token(session, viewer.id, now=utcnow())
    assert api.get("/api/v1/queue", token=api.viewer).status_code == 401
    assert api.get("/api/v1/queue").status_code == 200


def test_openapi_document_lists_the_routes(api: Api) -> None:
    doc = api.service.client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/scans", "/api/v1/queue", "/api/v1/images", "/api/v1/images/{image_id}",
            "/api/v1/assets"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_same_digest_while_queued_returns_the_existing_entry(api: Api, tmp_path: Path) -> None:
    reference = alpine_layout(tmp_path / "app", {"musl": "1.2.4-r2"})
    first = api.post("/api/v1/scans", {"reference": reference})
    again = api.post("/api/v1/scans", {"reference": reference})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["state"] == "queued"
    assert first.json()["digest"].startswith("sha256:")
    page = api.get("/api/v1/queue", state="queued").json()
    assert page["total"] == 1 and page["items"][0]["reference"] == reference


def test_scan_lists_the_image_with_inventory_history_and_assets(
    api: Api, worker: EmbeddedWorker, tmp_path: Path
) -> None:
    reference = alpine_layout(tmp_path / "app", {"musl": "1.2.4-r2", "zlib": "1.3.1-r0"})
    entry = api.submit(reference)
    done = api.wait([entry["id"]])[entry["id"]]
    assert done["state"] == "scanned", done
    assert done["sent_at"] and done["finished_at"] and done["attempt"] == 1

    page = api.get("/api/v1/images", token=api.viewer).json()
    assert page["total"] == 1
    row = page["items"][0]
    assert row["id"] == done["image_id"] and row["digest"] == entry["digest"]
    assert (row["registry"], row["repository"], row["tags"]) == ("local", f"oci:{tmp_path / 'app'}",
                                                                 ["1.0"])
    assert (row["os_family"], row["os_version"], row["packages"]) == ("alpine", "3.19.1", 2)

    detail = api.get(f"/api/v1/images/{row['id']}").json()
    names = {p["name"] for p in detail["inventory"]["packages"]}
    assert names == {"musl", "zlib"}
    assert [s["packages"] for s in detail["scans"]] == [2]
    assert detail["findings"] == [] and detail["scans"][0]["matched"] is False

    rescan = api.submit(reference)  # finished: a new entry, same image, two scans in history
    assert rescan["id"] != entry["id"]
    api.wait([rescan["id"]])
    detail = api.get(f"/api/v1/images/{row['id']}").json()
    assert len(detail["scans"]) == 2
    assets = api.get("/api/v1/assets").json()
    assert assets["count"] == 1 and assets["items"][0]["digest"] == entry["digest"]


def test_unreadable_image_ends_invalid_with_the_reason(
    api: Api, worker: EmbeddedWorker, tmp_path: Path
) -> None:
    missing = tmp_path / "gone"
    entry = api.submit(f"oci:{missing}")
    assert entry["digest"] is None
    done = api.wait([entry["id"]])[entry["id"]]
    assert done["state"] == "invalid"
    assert str(missing) in done["reason"]
    assert api.get("/api/v1/images").json()["total"] == 0
    bad = api.post("/api/v1/scans", {"reference": "UPPER/Case::bad"})
    assert bad.status_code == 422


def _load_advisory(api: Api) -> None:
    key = distro_key(OSRelease("alpine", "3.19.1"))
    advisory = Advisory(id=AdvisoryId("CVE-2099-0001"), feed="test", severity="high",
                        summary="musl overflow")
    fixed = Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "1.2.4-r3")))
    affected = Affected(AdvisoryId("CVE-2099-0001"), "apk", key, "musl", (fixed,))
    store = VulnStore(api.service.runtime.db.engine)
    store.replace("test", FeedData((advisory,), (affected,), ()), FetchState(1), "test")


def test_findings_filters_sorting_and_pagination(
    api: Api, worker: EmbeddedWorker, tmp_path: Path
) -> None:
    _load_advisory(api)
    vulnerable = alpine_layout(tmp_path / "old", {"musl": "1.2.4-r2"})
    patched = alpine_layout(tmp_path / "new", {"musl": "1.2.4-r3"}, tag="2.0")
    other = alpine_layout(tmp_path / "edge", {"zlib": "1.3.1-r0"}, version="3.20.0")
    ids = [api.submit(r)["id"] for r in (vulnerable, patched, other)]
    assert all(e["state"] == "scanned" for e in api.wait(ids).values())

    high = api.get("/api/v1/images", severity="medium").json()
    assert high["total"] == 1
    row = high["items"][0]
    assert row["severities"]["high"] == 1 and row["fixable"] == 1
    assert api.get("/api/v1/images", severity="critical").json()["total"] == 0
    assert api.get("/api/v1/images", fixable="true").json()["total"] == 1
    assert api.get("/api/v1/images", fixable="false").json()["total"] == 2
    assert api.get("/api/v1/images", os="alpine:3.20.0").json()["total"] == 1
    assert api.get("/api/v1/images", tag="2.0").json()["total"] == 1
    assert api.get("/api/v1/images", registry="docker.io").json()["total"] == 0

    by_high = api.get("/api/v1/images", sort="-high").json()["items"]
    assert by_high[0]["id"] == row["id"]
    pages = [api.get("/api/v1/images", sort="first_seen", limit=2, offset=o).json()
             for o in (0, 2)]
    assert [len(p["items"]) for p in pages] == [2, 1] and pages[1]["total"] == 3
    assert api.get("/api/v1/images", sort="nonsense").status_code == 422

    detail = api.get(f"/api/v1/images/{row['id']}").json()
    [finding] = detail["findings"]
    assert (finding["advisory_id"], finding["package"], finding["fixed_version"]) == (
        "CVE-2099-0001", "musl", "1.2.4-r3")
    assert finding["fix_command"] == "apk add musl=1.2.4-r3"
    layers = [layer["diff_id"] for layer in detail["inventory"]["layers"]]
    assert finding["layer"] == layers[1]  # the layer that installed the package
    assert detail["scans"][0]["matched"] and detail["scans"][0]["findings"] == 1


def test_unknown_ids_are_404(api: Api) -> None:
    assert api.get("/api/v1/images/999999").status_code == 404
    assert api.get("/api/v1/queue/999999").status_code == 404
    assert api.get("/api/v1/queue", state="bogus").status_code == 422
