"""Polling a real registry on loopback, on both backends: a tag that moves to a new digest is
queued and scanned at the next poll, and nothing else is; plus listing with pagination."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from spyglass.errors import NotFoundError
from spyglass.image.interface import OpenOptions
from spyglass.image.registry.client import RegistryClient
from spyglass.image.registry.listing import head_digest, list_repositories, list_tags
from spyglass.jobs.poll import Poll, poll_due, poll_registry
from spyglass.jobs.runtime import Runtime
from spyglass.jobs.scan import scan_entry
from spyglass.store import registries
from spyglass.store.crypto import SecretBox
from spyglass.store.engine import Database
from spyglass.store.models import Image, QueueEntry, Registry, Tag, utcnow
from tests.helpers.backends import Backend
from tests.helpers.images import build_image
from tests.helpers.push import push_image
from tests.helpers.registry import USERS, RunningRegistry, basic_registry, registry

__all__ = ["basic_registry", "registry"]


def _image(marker: str) -> Any:
    return build_image([
        {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"},
        {"lib/apk/db/installed": f"P:{marker}\nV:1.0-r0\nA:x86_64\no:{marker}\n\n".encode()},
    ])


@pytest.fixture
def runtime(backend: Backend, db: Database) -> Iterator[Runtime]:
    """The backend's runtime over the emptied database."""
    made = Runtime.from_settings(backend.settings)
    yield made
    made.close()


def _add(runtime: Runtime, url: str, repositories: list[str] | None, interval: int = 3600,
         username: str | None = None, password: str | None = None) -> int:
    box = SecretBox.from_config(runtime.settings.data_dir)
    with runtime.db.transaction() as session:
        return registries.create(
            session, box, name="local", kind="oci", url=url, username=username, password=password,
            insecure=False, repositories=repositories, scan_interval=interval, now=utcnow(),
        ).id


def _scan(runtime: Runtime, poll: Poll) -> list[str]:
    return [scan_entry(runtime, entry_id) for entry_id in poll.queued]


def _tag_digest(runtime: Runtime, tag: str) -> str:
    with runtime.db.transaction() as session:
        row = session.query(Tag, Image).join(Image, Tag.image_id == Image.id) \
            .filter(Tag.name == tag).one()
        return row[1].digest


def test_new_digest_on_an_existing_tag_is_queued_and_scanned(
        runtime: Runtime, registry: RunningRegistry, backend: Backend) -> None:
    repo = f"poll/{backend.name}"
    first = push_image(registry.url, repo, "stable", _image("first"))
    registry_id = _add(runtime, registry.url, [repo])

    polled = poll_registry(runtime, registry_id)
    assert polled.failures == [] and len(polled.queued) == 1
    assert _scan(runtime, polled) == ["scanned"]
    assert _tag_digest(runtime, "stable") == first

    pulled = len(registry.pulled_blobs(repo))
    again = poll_registry(runtime, registry_id)
    assert (again.queued, list(again.digests.values())) == ([], [first])
    assert len(registry.pulled_blobs(repo)) == pulled  # polling only HEADs manifests

    second = push_image(registry.url, repo, "stable", _image("second"))
    moved = poll_registry(runtime, registry_id)
    assert len(moved.queued) == 1
    with runtime.db.transaction() as session:
        entry = session.get_one(QueueEntry, moved.queued[0])
        assert (entry.digest, entry.registry_id) == (second, registry_id)
    assert _scan(runtime, moved) == ["scanned"]
    assert _tag_digest(runtime, "stable") == second


def test_catalog_when_no_repositories_are_configured(
        runtime: Runtime, registry: RunningRegistry, backend: Backend) -> None:
    repos = [f"catalog-{backend.name}/a", f"catalog-{backend.name}/b"]
    for repo in repos:
        push_image(registry.url, repo, "1", _image(repo.replace("/", "-")))
    polled = poll_registry(runtime, _add(runtime, registry.url, None))
    references = set(polled.digests)
    assert {f"{registry.host}/{r}:1" for r in repos} <= references
    assert polled.failures == []


def test_only_due_registries_are_polled(runtime: Runtime, registry: RunningRegistry) -> None:
    registry_id = _add(runtime, registry.url, ["nothing/here"], interval=600)
    [first] = poll_due(runtime)
    assert first.registry_id == registry_id
    assert first.failures and "not found" in first.failures[0]  # a missing repo is reported
    assert poll_due(runtime) == []
    with runtime.db.transaction() as session:
        session.get_one(Registry, registry_id).last_polled_at = utcnow() - timedelta(seconds=601)
    assert [p.registry_id for p in poll_due(runtime)] == [registry_id]


def test_listing_a_real_registry(registry: RunningRegistry) -> None:
    repos = ["paginate/app", "paginate/other"]
    image = _image("paginate")
    digests = {tag: push_image(registry.url, repos[0], tag, image) for tag in ("a", "b", "c")}
    push_image(registry.url, repos[1], "x", image)
    repo = repos[0]
    with RegistryClient(registry.host, OpenOptions()) as client:
        # registry 2.8 paginates the catalog (Link) but ignores ?n= on tags/list.
        assert sorted(list_tags(client, repo, page_size=1)) == ["a", "b", "c"]
        assert set(repos) <= set(list_repositories(client, page_size=1))
        assert head_digest(client, repo, "b") == digests["b"]
        with pytest.raises(NotFoundError):
            head_digest(client, repo, "missing")


def test_tags_follow_relative_link_headers() -> None:
    pages = {"": (["a", "b"], "</v2/team/app/tags/list?last=b&n=2>; rel=\"next\""),
             "b": (["c"], None)}
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/":
            return httpx.Response(200)
        seen.append(str(request.url.params))
        tags, link = pages[request.url.params.get("last", "")]
        headers = {"Link": link} if link else {}
        return httpx.Response(200, json={"name": "team/app", "tags": tags}, headers=headers)

    transport = httpx.MockTransport(answer)
    with RegistryClient("registry.test", OpenOptions(), transport=transport) as client:
        assert list_tags(client, "team/app", page_size=2) == ["a", "b", "c"]
    assert seen == ["n=2", "last=b&n=2"]


def test_the_stored_credentials_are_used_to_poll_and_to_scan(
        runtime: Runtime, basic_registry: RunningRegistry, backend: Backend) -> None:
    repo = f"private/{backend.name}"
    digest = push_image(basic_registry.url, repo, "1", _image("private"),
                        headers=basic_registry.push_headers(repo))
    [(user, password)] = USERS.items()
    refused = poll_registry(runtime, _add(runtime, basic_registry.url, [repo]))
    assert refused.queued == [] and "username and password" in refused.failures[0]
    with runtime.db.transaction() as session:
        session.query(Registry).delete()
    polled = poll_registry(runtime, _add(runtime, basic_registry.url, [repo], username=user,
                                         password=password))
    assert (polled.failures, list(polled.digests.values())) == ([], [digest])
    assert _scan(runtime, polled) == ["scanned"]


def test_the_minutely_poll_is_a_periodic_task(backend: Backend, runtime: Runtime) -> None:
    from spyglass.jobs.tasks import Jobs

    names = {task.name for task in Jobs(runtime).huey._registry.periodic_tasks}
    assert "poll_registries" in names
