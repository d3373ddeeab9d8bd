"""Polling an Amazon ECR registry end to end: the stored registry's kind picks the ECR provider,
which logs in and lists through the real boto3 calls (moto in server mode on loopback), and the
poll queues each tag's digest. Nothing is pulled: the images live on AWS's hosts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from spyglass.jobs.poll import poll_registry
from spyglass.jobs.runtime import Runtime
from spyglass.store import registries
from spyglass.store.crypto import SecretBox
from spyglass.store.engine import Database
from spyglass.store.models import QueueEntry, utcnow
from tests.helpers.backends import Backend
from tests.helpers.cloud import clear_cloud_config, moto_url
from tests.helpers.images import build_image

__all__ = ["moto_url"]

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
KEY = ("AKIAIOSFODNN7EXAMPLE", "test-secret")  # moto accepts any key


@pytest.fixture
def runtime(backend: Backend, db: Database) -> Iterator[Runtime]:
    """The backend's runtime over the emptied database."""
    made = Runtime.from_settings(backend.settings)
    yield made
    made.close()


@pytest.fixture
def ecr(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> object:
    """An emptied moto ECR that boto3 reaches through its standard endpoint variable."""
    clear_cloud_config(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", moto_url)
    httpx.post(f"{moto_url}/moto-api/reset").raise_for_status()
    return boto3.client("ecr", region_name="us-east-1", endpoint_url=moto_url,
                        aws_access_key_id=KEY[0], aws_secret_access_key=KEY[1])


def _put(client: object, repository: str, marker: str, tag: str) -> str:
    manifest = build_image([{"etc/marker": marker.encode()}], kind="docker").manifest
    answer = client.put_image(  # type: ignore[attr-defined]
        repositoryName=repository, imageManifest=manifest.decode(), imageTag=tag,
        imageManifestMediaType=json.loads(manifest)["mediaType"])
    return str(answer["image"]["imageId"]["imageDigest"])


def _add_ecr(runtime: Runtime) -> int:
    box = SecretBox.from_config(runtime.settings.data_dir)
    with runtime.db.transaction() as session:
        return registries.create(
            session, box, name="aws", kind="ecr", url=HOST, username=KEY[0], password=KEY[1],
            insecure=False, repositories=None, scan_interval=3600, now=utcnow(),
        ).id


def test_ecr_registry_is_listed_through_the_provider_and_new_digests_queued(
        runtime: Runtime, ecr: object) -> None:
    ecr.create_repository(repositoryName="team/app")  # type: ignore[attr-defined]
    first = _put(ecr, "team/app", "one", "v1")
    registry_id = _add_ecr(runtime)

    poll = poll_registry(runtime, registry_id)

    assert poll.failures == []
    assert poll.digests == {f"{HOST}/team/app:v1": first}
    with runtime.db.transaction() as session:
        queued = [(e.reference, e.digest, e.state) for e in session.query(QueueEntry)]
    assert queued == [(f"{HOST}/team/app:v1@{first}", first, "queued")]

    second = _put(ecr, "team/app", "two", "v1")  # the tag moves to a new image
    again = poll_registry(runtime, registry_id)
    assert again.digests == {f"{HOST}/team/app:v1": second}
    assert len(again.queued) == 1


def test_refused_aws_credentials_are_a_poll_failure_not_a_crash(
        runtime: Runtime, ecr: object, moto_url: str) -> None:
    registry_id = _add_ecr(runtime)
    # moto checks signatures and IAM from now on; our key belongs to no IAM user
    httpx.post(f"{moto_url}/moto-api/reset-auth", content=b"0").raise_for_status()
    try:
        poll = poll_registry(runtime, registry_id)
    finally:
        httpx.post(f"{moto_url}/moto-api/reset-auth", content=b"inf").raise_for_status()
    assert poll.queued == []
    assert len(poll.failures) == 1 and "ECR" in poll.failures[0]
