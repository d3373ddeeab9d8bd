"""The API on each backend: a session-wide app and queue, emptied before every test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from spyglass.jobs.runtime import Runtime
from spyglass.jobs.tasks import Jobs
from spyglass.jobs.worker import EmbeddedWorker
from spyglass.service.app import create_app
from spyglass.store.models import utcnow
from spyglass.store.tokens import create_token
from tests.helpers.backends import Backend, backend, truncate
from tests.helpers.images import build_image, write_oci_layout

__all__ = ["backend"]

FINISHED = ("scanned", "invalid")


@dataclass
class Service:
    """One backend's runtime, queue and app, for the whole session."""

    backend: Backend
    runtime: Runtime
    jobs: Jobs
    client: TestClient


@pytest.fixture(scope="session")
def service(backend: Backend) -> Iterator[Service]:
    runtime = Runtime.from_settings(backend.settings)
    jobs = Jobs(runtime)
    with TestClient(create_app(runtime, jobs)) as client:
        yield Service(backend, runtime, jobs, client)
    runtime.close()


@dataclass
class Api:
    """The test client with an admin and a viewer token, and helpers to wait for the queue."""

    service: Service
    admin: str
    viewer: str

    def _headers(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin}"}

    def get(self, path: str, token: str | None = None, **params: Any) -> httpx.Response:
        return self.service.client.get(path, headers=self._headers(token), params=params)

    def post(self, path: str, body: Any, token: str | None = None) -> httpx.Response:
        return self.service.client.post(path, headers=self._headers(token), json=body)

    def submit(self, reference: str) -> dict[str, Any]:
        response = self.post("/api/v1/scans", {"reference": reference})
        assert response.status_code in (200, 201), response.text
        entry: dict[str, Any] = response.json()
        return entry

    def wait(self, entry_ids: list[int], timeout: float = 60) -> dict[int, dict[str, Any]]:
        """The entries once all are finished (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = {i: self.get(f"/api/v1/queue/{i}").json() for i in entry_ids}
            if all(e["state"] in FINISHED for e in entries.values()):
                return entries
            assert time.monotonic() < deadline, f"entries not finished: {entries}"
            time.sleep(0.1)


@pytest.fixture
def api(service: Service) -> Api:
    """An empty database and queue, with fresh tokens."""
    truncate(service.runtime.db)
    service.jobs.flush()
    with service.runtime.db.transaction() as session:
        _, admin = create_token(session, "admin", "test admin", now=utcnow())
        _, viewer = create_token(session, "viewer", "test viewer", now=utcnow())
    return Api(service, admin, viewer)


@pytest.fixture
def worker(service: Service) -> Iterator[EmbeddedWorker]:
    """A consumer running in this process for the test."""
    with EmbeddedWorker(service.jobs, concurrency=2) as running:
        yield running


def alpine_layout(root: Path, packages: dict[str, str], *, tag: str = "1.0",
                  version: str = "3.19.1") -> str:
    """An Alpine image with ``packages`` (name -> version) as an OCI layout; its reference."""
    installed = "".join(f"P:{n}\nV:{v}\nA:x86_64\no:{n}\n\n" for n, v in packages.items())
    built = build_image([
        {"etc/os-release": f"ID=alpine\nVERSION_ID={version}\n".encode()},
        {"lib/apk/db/installed": installed.encode()},
    ])
    root.mkdir(parents=True, exist_ok=True)
    write_oci_layout(built, root, tag=tag)
    return f"oci:{root}:{tag}"
