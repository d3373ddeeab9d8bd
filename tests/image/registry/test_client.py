"""Protocol edge cases of the registry client, against an in-memory registry (MockTransport)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from spyglass.errors import (
    AuthError,
    DigestMismatch,
    ManifestError,
    NotFoundError,
    RateLimited,
    RegistryError,
    RegistryUnreachable,
)
from spyglass.image.interface import OpenOptions
from spyglass.image.manifest import parse_manifest_document
from spyglass.image.registry.client import RegistryClient
from tests.helpers.images import build_image
from tests.image.registry.fake import HOST, BrokenStream, FakeRegistry

REPO = "team/app"
MANIFEST = f"/v2/{REPO}/manifests/1.0"


@pytest.fixture
def image():  # type: ignore[no-untyped-def]
    return build_image([{"etc/os-release": b"ID=alpine\n"}, {"app/main": b"print(1)\n"}])


def client_for(
    fake: FakeRegistry, sleeps: list[float] | None = None, **options: object
) -> RegistryClient:
    opts = OpenOptions(docker_config="/nonexistent/config.json", **options)  # type: ignore[arg-type]
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    return RegistryClient(HOST, opts, transport=fake.transport(), sleep=record)


def test_anonymous_manifest_and_blob(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    with client_for(fake) as client:
        fetched = client.get_manifest(REPO, "1.0")
        assert fetched.data == image.manifest
        assert fetched.digest == image.digest
        layer = parse_manifest_document(fetched.data, fetched.media_type).layers[0]  # type: ignore[union-attr]
        with client.open_blob(REPO, layer) as stream:
            assert stream.read() == image.blobs[layer.digest]
    assert fake.requests[0].url == f"https://{HOST}/v2/"  # HTTPS by default
    assert "authorization" not in fake.requests[1].headers


def test_manifest_request_accepts_every_image_type(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    with client_for(fake) as client:
        client.get_manifest(REPO, "1.0")
    accept = fake.requests[-1].headers["accept"]
    for media_type in (
        "manifest.v2+json",
        "manifest.list.v2+json",
        "image.manifest.v1+json",
        "image.index.v1+json",
    ):
        assert media_type in accept


def test_timeouts_come_from_options(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    with client_for(fake, connect_timeout=3.0, read_timeout=7.0) as client:
        client.get_manifest(REPO, "1.0")
    timeout = fake.requests[-1].extensions["timeout"]
    assert (timeout["connect"], timeout["read"]) == (3.0, 7.0)


def test_unknown_tag_is_not_found_and_names_it() -> None:
    with client_for(FakeRegistry()) as client, pytest.raises(NotFoundError) as caught:
        client.get_manifest(REPO, "nope")
    assert f"{HOST}/{REPO}:nope" in str(caught.value)
    assert "MANIFEST_UNKNOWN" in str(caught.value)


def test_manifest_fetched_by_digest_is_verified(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.manifests[(REPO, image.digest)] = (image.manifest + b" ", image.media_type)
    with client_for(fake) as client, pytest.raises(DigestMismatch, match=image.digest[:20]):
        client.get_manifest(REPO, image.digest)


def test_schema1_is_refused_by_name() -> None:
    fake = FakeRegistry()
    schema1 = b'{"schemaVersion": 1, "name": "team/app", "tag": "old", "fsLayers": []}'
    fake.manifests[(REPO, "old")] = (
        schema1,
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    )
    with client_for(fake) as client:
        fetched = client.get_manifest(REPO, "old")
    with pytest.raises(ManifestError, match="schema 1"):
        parse_manifest_document(fetched.data, fetched.media_type)


def test_oversized_manifest_is_refused() -> None:
    fake = FakeRegistry()
    fake.manifests[(REPO, "big")] = (b" " * (4 << 20) + b"{}", "application/json")
    with client_for(fake) as client, pytest.raises(ManifestError, match="larger than"):
        client.get_manifest(REPO, "big")


# --- blobs ----------------------------------------------------------------------------------


def _layer(image):  # type: ignore[no-untyped-def]
    return parse_manifest_document(image.manifest, image.media_type).layers[0]  # type: ignore[union-attr]


def test_altered_blob_is_refused_at_eof(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    layer = _layer(image)
    original = image.blobs[layer.digest]
    fake.blobs[layer.digest] = original[:-1] + bytes([original[-1] ^ 1])
    with (
        client_for(fake) as client,
        client.open_blob(REPO, layer) as stream,
        pytest.raises(DigestMismatch, match="damaged or altered"),
    ):
        stream.read()


def test_short_blob_is_refused(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    layer = _layer(image)
    fake.blobs[layer.digest] = image.blobs[layer.digest][:-5]
    with (
        client_for(fake) as client,
        client.open_blob(REPO, layer) as stream,
        pytest.raises(DigestMismatch, match="expected"),
    ):
        stream.read()


def test_broken_stream_is_unreachable_not_a_crash(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    layer = _layer(image)
    fake.script[f"/v2/{REPO}/blobs/{layer.digest}"].append(
        httpx.Response(200, stream=BrokenStream(image.blobs[layer.digest][:10]))
    )
    with (
        client_for(fake) as client,
        client.open_blob(REPO, layer) as stream,
        pytest.raises(RegistryUnreachable, match=f"broke while reading blob {layer.digest}"),
    ):
        stream.read()


def test_blob_asks_for_identity_encoding(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    with client_for(fake) as client, client.open_blob(REPO, _layer(image)) as stream:
        stream.read()
    assert fake.requests[-1].headers["accept-encoding"] == "identity"


def test_blob_redirect_is_followed(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    layer = _layer(image)
    path = f"/v2/{REPO}/blobs/{layer.digest}"
    fake.script[path].append(httpx.Response(307, headers={"Location": "https://cdn.test/x"}))
    fake.script["/x"].append(httpx.Response(200, content=image.blobs[layer.digest]))
    with client_for(fake) as client, client.open_blob(REPO, layer) as stream:
        assert stream.read() == image.blobs[layer.digest]


# --- retries --------------------------------------------------------------------------------


def test_429_waits_as_retry_after_says(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    fake.script[MANIFEST].append(httpx.Response(429, headers={"Retry-After": "3"}))
    sleeps: list[float] = []
    with client_for(fake, sleeps) as client:
        assert client.get_manifest(REPO, "1.0").data == image.manifest
    assert sleeps == [3.0]


def test_retry_after_as_http_date(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake.script[MANIFEST].append(httpx.Response(429, headers={"Retry-After": when}))
    sleeps: list[float] = []
    with client_for(fake, sleeps) as client:
        client.get_manifest(REPO, "1.0")
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 30


def test_429_every_time_is_rate_limited() -> None:
    fake = FakeRegistry()
    fake.script[MANIFEST] = [httpx.Response(429) for _ in range(3)]
    sleeps: list[float] = []
    with (
        client_for(fake, sleeps, retries=2) as client,
        pytest.raises(RateLimited, match="after 2 retries"),
    ):
        client.get_manifest(REPO, "1.0")
    assert sleeps == [0.5, 1.0]  # exponential back-off without Retry-After


def test_5xx_is_retried_with_backoff(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    fake.script[MANIFEST] = [httpx.Response(503), httpx.Response(502), httpx.Response(500)]
    sleeps: list[float] = []
    with client_for(fake, sleeps) as client:
        assert client.get_manifest(REPO, "1.0").data == image.manifest
    assert sleeps == [0.5, 1.0, 2.0]


def test_5xx_after_every_retry_is_a_registry_error() -> None:
    fake = FakeRegistry()
    fake.script[MANIFEST] = [httpx.Response(500) for _ in range(2)]
    with client_for(fake, retries=1) as client, pytest.raises(RegistryError, match="HTTP 500"):
        client.get_manifest(REPO, "1.0")


def test_connection_errors_are_retried_then_reported(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.script["/v2/"] = [httpx.ConnectError("connection refused") for _ in range(3)]
    sleeps: list[float] = []
    with (
        client_for(fake, sleeps, retries=2) as client,
        pytest.raises(RegistryUnreachable) as caught,
    ):
        client.get_manifest(REPO, "1.0")
    assert sleeps == [0.5, 1.0]
    message = str(caught.value)
    assert f"https://{HOST}" in message and f"--insecure-registry {HOST}" in message


def test_timeout_says_how_long() -> None:
    fake = FakeRegistry()
    fake.script["/v2/"] = [httpx.ConnectTimeout("timed out")]
    with (
        client_for(fake, retries=0, connect_timeout=2.5) as client,
        pytest.raises(RegistryUnreachable, match=r"2\.5 s"),
    ):
        client.ping()


def test_no_http_fallback_for_a_remote_host() -> None:
    fake = FakeRegistry()
    fake.script["/v2/"] = [httpx.ConnectError("ssl: wrong version number")]
    with client_for(fake, retries=0) as client, pytest.raises(RegistryUnreachable):
        client.ping()
    assert [r.url.scheme for r in fake.requests] == ["https"]


def test_insecure_registry_falls_back_to_http(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry()
    fake.push(REPO, "1.0", image)
    fake.script["/v2/"] = [httpx.ConnectError("ssl: wrong version number")]
    with client_for(fake, insecure_registries=(HOST,)) as client:
        client.get_manifest(REPO, "1.0")
    assert [r.url.scheme for r in fake.requests] == ["https", "http", "http"]


@pytest.mark.parametrize(
    ("registry", "insecure"),
    [
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("[::1]:5000", True),
        ("127.0.0.2", True),
        ("registry.test", False),
        ("docker.io", False),
    ],
)
def test_loopback_is_insecure_by_default(registry: str, insecure: bool) -> None:
    with RegistryClient(registry, OpenOptions(docker_config="/nonexistent")) as client:
        assert client.insecure is insecure


# --- auth -----------------------------------------------------------------------------------


def test_bearer_token_fetched_once_per_scope(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry(auth="bearer")
    fake.push(REPO, "1.0", image)
    with client_for(fake, username="alice", password="secret") as client:
        client.get_manifest(REPO, "1.0")
        with client.open_blob(REPO, _layer(image)) as stream:
            stream.read()
    assert fake.tokens_issued == 1
    token_request = next(r for r in fake.requests if r.url.host == "auth.test")
    assert token_request.url.params["scope"] == f"repository:{REPO}:pull"
    assert token_request.url.params["service"] == HOST
    assert fake.requests[-1].headers["authorization"] == "Bearer token-1"


def test_bearer_anonymous_token(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry(auth="bearer", anonymous_pull=True)
    fake.push(REPO, "1.0", image)
    with client_for(fake) as client:
        assert client.get_manifest(REPO, "1.0").data == image.manifest
    token_request = next(r for r in fake.requests if r.url.host == "auth.test")
    assert "authorization" not in token_request.headers


def test_bearer_wrong_password_says_docker_login() -> None:
    fake = FakeRegistry(auth="bearer")
    with (
        client_for(fake, username="alice", password="wrong") as client,
        pytest.raises(AuthError, match=f"docker login {HOST}"),
    ):
        client.get_manifest(REPO, "1.0")


def test_bearer_without_credentials_says_how_to_give_them() -> None:
    fake = FakeRegistry(auth="bearer")
    with client_for(fake) as client, pytest.raises(AuthError, match="wants credentials"):
        client.get_manifest(REPO, "1.0")


def test_stale_token_is_refetched_once(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry(auth="bearer")
    fake.push(REPO, "1.0", image)
    refused = httpx.Response(
        401,
        headers={"WWW-Authenticate": f'Bearer realm="https://auth.test/token",service="{HOST}"'},
    )
    with client_for(fake, username="alice", password="secret") as client:
        client.get_manifest(REPO, "1.0")
        fake.script[MANIFEST].append(refused)
        client.get_manifest(REPO, "1.0")
    assert fake.tokens_issued == 2


def test_401_after_a_token_is_an_auth_error() -> None:
    fake = FakeRegistry(auth="bearer")
    challenge = {"WWW-Authenticate": f'Bearer realm="https://auth.test/token",service="{HOST}"'}
    fake.script[MANIFEST] = [httpx.Response(401, headers=challenge) for _ in range(2)]
    with (
        client_for(fake, username="alice", password="secret") as client,
        pytest.raises(AuthError, match="refused the credentials"),
    ):
        client.get_manifest(REPO, "1.0")


def test_403_is_an_auth_error() -> None:
    fake = FakeRegistry()
    fake.script[MANIFEST].append(
        httpx.Response(403, json={"errors": [{"code": "DENIED", "message": "no"}]})
    )
    with client_for(fake) as client, pytest.raises(AuthError, match="DENIED"):
        client.get_manifest(REPO, "1.0")


def test_basic_auth_sends_credentials_on_every_request(image) -> None:  # type: ignore[no-untyped-def]
    fake = FakeRegistry(auth="basic")
    fake.push(REPO, "1.0", image)
    with client_for(fake, username="alice", password="secret") as client:
        client.get_manifest(REPO, "1.0")
        client.get_manifest(REPO, image.digest)
    assert fake.requests[0].url.path == "/v2/" and "authorization" not in fake.requests[0].headers
    assert all(r.headers["authorization"].startswith("Basic ") for r in fake.requests[1:])
    assert len(fake.requests) == 3  # the ping taught the challenge: no 401 round trip after it


def test_basic_auth_without_credentials() -> None:
    fake = FakeRegistry(auth="basic")
    with (
        client_for(fake) as client,
        pytest.raises(AuthError, match="wants a username and password"),
    ):
        client.get_manifest(REPO, "1.0")


def test_basic_auth_wrong_password() -> None:
    fake = FakeRegistry(auth="basic")
    with (
        client_for(fake, username="alice", password="nope") as client,
        pytest.raises(AuthError, match="refused the credentials"),
    ):
        client.get_manifest(REPO, "1.0")
