"""Why a scan is invalid, said for the service: credentials are fixed through the API there,
not with ``docker login``. Against a real Basic-auth registry, on both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spyglass.jobs.runtime import Runtime
from spyglass.jobs.scan import scan_entry
from spyglass.store import queue, registries
from spyglass.store.crypto import SecretBox
from spyglass.store.engine import Database
from spyglass.store.models import QueueEntry, utcnow
from tests.helpers.backends import Backend
from tests.helpers.images import build_image
from tests.helpers.push import push_image
from tests.helpers.registry import RunningRegistry, basic_registry

__all__ = ["basic_registry"]
IMAGE = build_image([{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"}])


@pytest.fixture
def runtime(backend: Backend, db: Database) -> Iterator[Runtime]:
    """The backend's runtime over the emptied database."""
    made = Runtime.from_settings(backend.settings)
    yield made
    made.close()


def _scan(runtime: Runtime, reference: str, registry_id: int | None) -> tuple[str, str]:
    with runtime.db.transaction() as session:
        entry, _ = queue.submit(session, reference, digest=None, registry_id=registry_id,
                                now=utcnow())
        entry_id = entry.id
    state = scan_entry(runtime, entry_id)
    with runtime.db.transaction() as session:
        reason = session.get(QueueEntry, entry_id).reason  # type: ignore[union-attr]
    return state, reason or ""


@pytest.fixture
def private(basic_registry: RunningRegistry, backend: Backend) -> str:
    repo = f"reasons/{backend.name}"
    push_image(basic_registry.url, repo, "1", IMAGE, headers=basic_registry.push_headers(repo))
    return f"{basic_registry.host}/{repo}:1"


def test_no_registry_record_says_how_to_add_one(runtime: Runtime, private: str) -> None:
    state, reason = _scan(runtime, private, None)
    assert state == "invalid"
    assert "POST /api/v1/registries" in reason
    assert "docker login" not in reason and "--username" not in reason


def test_wrong_stored_password_says_how_to_update_it(
        runtime: Runtime, private: str, basic_registry: RunningRegistry) -> None:
    box = SecretBox.from_config(runtime.settings.data_dir)
    with runtime.db.transaction() as session:
        registry_id = registries.create(
            session, box, name="private", kind="oci", url=basic_registry.host, username="alice",
            password="wrong", insecure=False, repositories=None, scan_interval=3600,
            now=utcnow(),
        ).id
    state, reason = _scan(runtime, private, registry_id)
    assert state == "invalid"
    assert f"PATCH /api/v1/registries/{registry_id}" in reason
    assert "docker login" not in reason
