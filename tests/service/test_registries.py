"""Registries over the REST API on both backends: CRUD, write-only encrypted credentials, roles,
and "scan now" against a real registry on loopback."""

from __future__ import annotations

import os
import stat
from typing import Any

from sqlalchemy import text

from spyglass.errors import AuthError, NotFoundError
from spyglass.jobs.poll import failure
from spyglass.store.crypto import KEY_FILE, SECRET_KEY_ENV
from spyglass.store.models import Registry
from tests.helpers.images import build_image
from tests.helpers.push import push_image
from tests.helpers.registry import USERS, RunningRegistry, basic_registry, registry
from tests.service.conftest import Api

__all__ = ["basic_registry", "registry"]

URL = "/api/v1/registries"
PASSWORD = "hunter2-very-secret"


def _create(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": "corp", "url": "https://registry.example.com:5000", "username": "bot",
            "password": PASSWORD, "repositories": ["team/app"], **fields}
    response = api.post(URL, body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _raw_secret(api: Api, registry_id: int) -> bytes:
    with api.service.runtime.db.engine.connect() as conn:
        value = conn.execute(text("SELECT secret FROM registries WHERE id = :i"),
                             {"i": registry_id}).scalar_one()
    return bytes(value)


def test_crud_round_trip_with_defaults(api: Api) -> None:
    created = _create(api)
    assert created["url"] == "registry.example.com:5000"
    assert (created["kind"], created["scan_interval"], created["has_password"]) == ("oci", 3600,
                                                                                    True)
    assert api.get(f"{URL}/{created['id']}").json() == created
    changed = api.service.client.patch(f"{URL}/{created['id']}", headers=api._headers(None),
                                       json={"scan_interval": 600, "repositories": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["scan_interval"], changed.json()["repositories"]) == (600, None)
    assert [r["name"] for r in api.get(URL).json()] == ["corp"]
    gone = api.service.client.delete(f"{URL}/{created['id']}", headers=api._headers(None))
    assert gone.status_code == 204
    assert api.get(f"{URL}/{created['id']}").status_code == 404
    assert api.get(URL).json() == []


def test_credentials_are_encrypted_and_never_returned(api: Api) -> None:
    created = _create(api)
    for response in (api.get(URL), api.get(f"{URL}/{created['id']}")):
        assert PASSWORD not in response.text
        assert "password" not in response.text.replace("has_password", "")
    raw = _raw_secret(api, created["id"])
    assert PASSWORD.encode() not in raw and raw.startswith(b"gAAAAA")  # a Fernet token
    if not os.environ.get(SECRET_KEY_ENV):
        key = api.service.backend.settings.data_dir / KEY_FILE
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    removed = api.service.client.patch(f"{URL}/{created['id']}", headers=api._headers(None),
                                       json={"password": None})
    assert removed.json()["has_password"] is False


def test_viewer_reads_but_cannot_write(api: Api) -> None:
    created = _create(api)
    assert api.get(URL, token=api.viewer).status_code == 200
    assert api.post(URL, {"name": "x", "url": "r.example"}, token=api.viewer).status_code == 403
    client, viewer = api.service.client, api._headers(api.viewer)
    assert client.patch(f"{URL}/{created['id']}", headers=viewer,
                        json={"name": "y"}).status_code == 403
    assert client.delete(f"{URL}/{created['id']}", headers=viewer).status_code == 403
    assert api.post(f"{URL}/{created['id']}/scan", {}, token=api.viewer).status_code == 403
    assert api.get(f"{URL}/{created['id']}").json()["name"] == "corp"


def test_kinds_names_and_urls_are_checked(api: Api) -> None:
    hub = _create(api, name="hub", kind="dockerhub", url="https://whatever")
    assert hub["url"] == "docker.io"
    assert api.post(URL, {"name": "hub", "url": "r.example"}).status_code == 409
    assert api.post(URL, {"name": "h2", "kind": "dockerhub"}).status_code == 422  # no catalog
    assert api.post(URL, {"name": "e", "kind": "ecr", "url": "example.com"}).status_code == 422
    ecr = _create(api, name="ecr", kind="ecr", url="123456789012.dkr.ecr.eu-west-1.amazonaws.com")
    assert ecr["kind"] == "ecr"
    assert api.post(URL, {"name": "a", "kind": "acr", "url": "x.azurecr.io"}).status_code == 422
    assert api.post(URL, {"name": "i", "url": "r.example", "scan_interval": 5}).status_code == 422


def _image(marker: str) -> Any:
    return build_image([
        {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"},
        {"lib/apk/db/installed": f"P:{marker}\nV:1.0-r0\nA:x86_64\no:{marker}\n\n".encode()},
    ])


def test_scan_now_queues_every_watched_tag(api: Api, registry: RunningRegistry,
                                           worker: Any) -> None:
    repo = f"scan-now/{api.service.backend.name}"
    digest = push_image(registry.url, repo, "1.0", _image("one"))
    push_image(registry.url, repo, "2.0", _image("two"))
    created = _create(api, name="local", url=registry.url, password=None, username=None,
                      repositories=[repo])
    response = api.post(f"{URL}/{created['id']}/scan", {})
    assert response.status_code == 202, response.text
    result = response.json()
    assert (result["tags"], len(result["queued"]), result["failures"]) == (2, 2, [])
    entries = api.wait(result["queued"])
    assert {e["state"] for e in entries.values()} == {"scanned"}
    assert digest in {e["digest"] for e in entries.values()}
    # Scan now again: the same digests are queued again (already scanned, not active).
    again = api.post(f"{URL}/{created['id']}/scan", {}).json()
    assert len(again["queued"]) == 2
    api.wait(again["queued"])


def test_scan_now_without_usable_credentials_says_how_to_update_them(
        api: Api, basic_registry: RunningRegistry) -> None:
    repo = f"private/{api.service.backend.name}"
    push_image(basic_registry.url, repo, "1", _image("private"),
               headers=basic_registry.push_headers(repo))
    created = _create(api, name="private", url=basic_registry.url, password=None, username=None,
                      repositories=[repo])
    patch = f"PATCH /api/v1/registries/{created['id']}"
    [missing] = api.post(f"{URL}/{created['id']}/scan", {}).json()["failures"]
    assert "username and password" in missing and patch in missing
    assert "docker login" not in missing and "--username" not in missing

    [(user, _)] = USERS.items()
    wrong = {"username": user, "password": "not-the-password"}
    assert api.service.client.patch(f"{URL}/{created['id']}", json=wrong,
                                    headers=api._headers(None)).status_code == 200
    [refused] = api.post(f"{URL}/{created['id']}/scan", {}).json()["failures"]
    assert "refused the credentials" in refused and patch in refused
    assert "docker login" not in refused and "--username" not in refused


def test_cloud_advice_is_kept_and_other_failures_are_unchanged() -> None:
    registry = Registry(id=7, name="ecr", url="123.dkr.ecr.eu-west-1.amazonaws.com")
    cloud = AuthError("AWS refused the credentials; the role needs ecr:ListImages")
    assert failure(registry, cloud) == (
        f"{cloud}; or update the registry's credentials with PATCH /api/v1/registries/7 with a "
        "username and password")
    cli = AuthError("h wants credentials; run `docker login h` or pass --username and --password")
    assert failure(registry, cli).startswith("h wants credentials; if the repository is private")
    other = NotFoundError("team/app not found; check the repository name")
    assert failure(registry, other) == str(other)


def test_schemathesis_finds_no_server_error_with_an_admin_token(api: Api) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error

    _create(api)  # so that reads, updates and deletes of id 1.. sometimes find a row
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.service.client.app)
    mine = schema.include(path_regex="^/api/v1/registries").exclude(path_regex="/scan$")
    headers = {"Authorization": f"Bearer {api.admin}"}
    tested = []
    for found in mine.get_all_operations():
        operation = found.ok()

        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        check()
        tested.append(operation.label)
    assert len(tested) == 5, tested
