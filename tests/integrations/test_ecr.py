"""The ECR provider through real boto3 against moto in server mode on loopback."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from spyglass.errors import AuthError, NotFoundError, RegistryUnreachable, UsageError
from spyglass.integrations import provider_for
from spyglass.integrations.ecr import EcrProvider, parse_host
from spyglass.integrations.interface import REFRESH_MARGIN, Link, Login, Tag
from spyglass.inventory import Digest
from tests.helpers.images import build_image
from tests.helpers.registry import free_port

ACCOUNT = "123456789012"  # moto's default account
HOST = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
KEY = ("AKIAEXAMPLEKEY000001", "example-secret")


def _ecr(url: str) -> Any:
    return boto3.client("ecr", region_name="eu-west-1", endpoint_url=url,
                        aws_access_key_id=KEY[0], aws_secret_access_key=KEY[1])


def _put(client: Any, repository: str, marker: str, tag: str | None) -> Digest:
    manifest = build_image([{"etc/marker": marker.encode()}], kind="docker").manifest
    params = {"imageTag": tag} if tag else {}
    answer = client.put_image(repositoryName=repository, imageManifest=manifest.decode(),
                              imageManifestMediaType=json.loads(manifest)["mediaType"], **params)
    return Digest(answer["image"]["imageId"]["imageDigest"])


def _link(url: str, **changes: Any) -> Link:
    fields: dict[str, Any] = {"username": KEY[0], "password": KEY[1], "endpoint_url": url}
    return Link("ecr", HOST, **{**fields, **changes})


@pytest.fixture
def pushed(ecr_url: str) -> dict[str, Digest]:
    """Two repositories; team/app has v1 and latest on one image, v2 on another, one untagged."""
    client = _ecr(ecr_url)
    for name in ("team/app", "base"):
        client.create_repository(repositoryName=name)
    first = _put(client, "team/app", "one", "v1")
    client.put_image(repositoryName="team/app", imageTag="latest",
                     imageManifest=client.batch_get_image(
                         repositoryName="team/app", imageIds=[{"imageTag": "v1"}]
                     )["images"][0]["imageManifest"])
    return {"v1": first, "v2": _put(client, "team/app", "two", "v2"),
            "untagged": _put(client, "team/app", "three", None)}


def test_lists_repositories_and_tags_and_logs_in(ecr_url: str, pushed: dict[str, Digest]) -> None:
    provider = EcrProvider(_link(ecr_url))
    assert provider.repositories() == ["base", "team/app"]
    assert provider.tags("team/app") == [
        Tag("latest", pushed["v1"]), Tag("v1", pushed["v1"]), Tag("v2", pushed["v2"])
    ]
    assert provider.tags("base") == []
    token = _ecr(ecr_url).get_authorization_token()["authorizationData"][0]
    username, _, password = base64.b64decode(token["authorizationToken"]).decode().partition(":")
    assert provider.credentials() == Login(username, password) == Login("AWS", password)
    assert password


def test_describes_images_with_their_tags(ecr_url: str, pushed: dict[str, Digest]) -> None:
    images = {image.digest: image for image in EcrProvider(_link(ecr_url)).images("team/app")}
    assert set(images) == {pushed["v1"], pushed["v2"], pushed["untagged"]}
    assert images[pushed["v1"]].tags == ("latest", "v1")
    assert images[pushed["untagged"]].tags == ()
    assert images[pushed["v2"]].pushed_at is not None


def test_the_login_is_cached_until_shortly_before_it_expires(
    ecr_url: str, pushed: dict[str, Digest]
) -> None:
    calls: list[str] = []
    expires = _ecr(ecr_url).get_authorization_token()["authorizationData"][0]["expiresAt"]
    now = [expires.timestamp() - 3600]
    provider = EcrProvider(_link(ecr_url), clock=lambda: now[0])
    provider._ecr.meta.events.register(
        "before-call.ecr.GetAuthorizationToken", lambda **_: calls.append("token")
    )
    provider.credentials()
    provider.credentials()
    assert calls == ["token"]
    now[0] = expires.timestamp() - REFRESH_MARGIN + 1
    provider.credentials()
    assert calls == ["token", "token"]


def test_options_carry_the_login(ecr_url: str) -> None:
    options = EcrProvider(_link(ecr_url)).options()
    assert options.username == "AWS"
    assert options.password


def test_the_boto3_chain_and_its_endpoint_variable(
    ecr_url: str, pushed: dict[str, Digest], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEY[1])
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", ecr_url)
    provider = EcrProvider(Link("ecr", HOST))
    assert provider.repositories() == ["base", "team/app"]
    assert provider.credentials() is not None


def test_no_credentials_at_all_says_what_to_set(ecr_url: str) -> None:
    with pytest.raises(AuthError, match="AWS_PROFILE"):
        EcrProvider(Link("ecr", HOST, endpoint_url=ecr_url)).credentials()


@pytest.fixture
def enforced_iam(ecr_url: str) -> Iterator[tuple[str, str]]:
    """moto checking signatures and IAM policies; an access key allowed only to log in."""
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=ecr_url,
                       aws_access_key_id=KEY[0], aws_secret_access_key=KEY[1])
    iam.create_user(UserName="puller")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}]}
    iam.put_user_policy(UserName="puller", PolicyName="login-only",
                        PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="puller")["AccessKey"]
    httpx.post(f"{ecr_url}/moto-api/reset-auth", content=b"0").raise_for_status()
    try:
        yield key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        httpx.post(f"{ecr_url}/moto-api/reset-auth", content=b"inf").raise_for_status()


def test_refused_credentials_name_the_permissions(
    ecr_url: str, enforced_iam: tuple[str, str]
) -> None:
    with pytest.raises(AuthError, match="ecr:GetAuthorizationToken"):
        EcrProvider(_link(ecr_url, username="AKIAUNKNOWN000000000")).credentials()
    limited = EcrProvider(_link(ecr_url, username=enforced_iam[0], password=enforced_iam[1]))
    assert limited.credentials() is not None
    with pytest.raises(AuthError, match="AWS refused the credentials for ECR in eu-west-1"):
        limited.repositories()


def test_a_missing_repository_is_not_found(ecr_url: str) -> None:
    with pytest.raises(NotFoundError, match="'nope'"):
        EcrProvider(_link(ecr_url)).tags("nope")


def test_an_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    provider = EcrProvider(_link(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(RegistryUnreachable, match="cannot be reached"):
        provider.repositories()


def test_region_and_account_come_from_the_host() -> None:
    assert parse_host(HOST) == (ACCOUNT, "eu-west-1")
    assert parse_host(f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com")[1] == "us-gov-west-1"
    assert parse_host(f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn")[1] == "cn-north-1"
    with pytest.raises(UsageError, match=r"ACCOUNT\.dkr\.ecr\.REGION\.amazonaws\.com"):
        parse_host("registry.example.com")


def test_half_an_access_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="both"):
        EcrProvider(Link("ecr", HOST, username=KEY[0]))


def test_provider_for_shares_one_provider_per_link(ecr_url: str) -> None:
    link = _link(ecr_url)
    assert provider_for(link) is provider_for(_link(ecr_url))
    assert isinstance(provider_for(link), EcrProvider)
    assert provider_for(_link(ecr_url, password="other")) is not provider_for(link)
