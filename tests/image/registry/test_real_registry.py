"""The registry client against a real registry (distribution 2.8) on loopback.

Images are built by tests.helpers.images and pushed with the upload API; the registry's access
log says which blobs were actually pulled.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path

import httpx
import pytest

from spyglass.errors import AuthError, DigestMismatch, NotFoundError
from spyglass.image.interface import Image, OpenOptions, Platform
from spyglass.image.reference import Reference
from spyglass.image.registry import open_registry_image
from tests.helpers.images import BuiltImage, build_image, build_index
from tests.helpers.push import push_image
from tests.helpers.registry import USERS, RunningRegistry

pytestmark = pytest.mark.registry

NO_CONFIG = "/nonexistent/docker/config.json"
APP = build_image(
    [{"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n"}, {"app/main.py": b"print('hi')\n"}],
    history=["ADD rootfs /", "COPY main.py /app/"],
)
AMD = build_image([{"etc/arch": b"amd64\n"}], platform="linux/amd64")
ARM = build_image([{"etc/arch": b"arm64\n"}], platform="linux/arm64/v8")


def options(**kwargs: object) -> OpenOptions:
    return OpenOptions(docker_config=NO_CONFIG, **kwargs)  # type: ignore[arg-type]


def read_layers(image: Image) -> list[bytes]:
    out = []
    for layer in image.layers:
        with image.open_layer(layer) as stream:
            out.append(stream.read())
    return out


def stored_layers(built: BuiltImage) -> list[bytes]:
    return [built.blobs[d] for d in built.layer_digests]


@pytest.fixture(scope="module")
def pushed(registry: RunningRegistry) -> RunningRegistry:
    push_image(registry.url, "team/app", "1.0", APP)
    push_image(registry.url, "team/multi", "latest", build_index([AMD, ARM]))
    return registry


def test_pull_by_tag(pushed: RunningRegistry) -> None:
    ref = Reference.parse(f"{pushed.host}/team/app:1.0")
    image = open_registry_image(ref, options())
    try:
        assert image.reference == f"{pushed.host}/team/app:1.0"
        assert image.digest == APP.digest
        assert image.config.diff_ids == APP.diff_ids
        assert [layer.created_by for layer in image.layers] == [
            "ADD rootfs /",
            "COPY main.py /app/",
        ]
        assert read_layers(image) == stored_layers(APP)
    finally:
        image.close()
    pulled = pushed.pulled_blobs("team/app")
    assert APP.config_digest in pulled
    assert all(digest in pulled for digest in APP.layer_digests)


def test_pull_by_digest(pushed: RunningRegistry) -> None:
    image = open_registry_image(Reference.parse(f"{pushed.host}/team/app@{APP.digest}"), options())
    assert image.digest == APP.digest
    assert read_layers(image) == stored_layers(APP)
    image.close()


@pytest.mark.parametrize(("platform", "want"), [("linux/amd64", AMD), ("linux/arm64", ARM)])
def test_index_platform_choice(pushed: RunningRegistry, platform: str, want: BuiltImage) -> None:
    ref = Reference.parse(f"{pushed.host}/team/multi")
    image = open_registry_image(ref, options(platform=Platform.parse(platform)))
    assert image.digest == want.digest
    assert image.platform == want.platform
    assert read_layers(image) == stored_layers(want)
    image.close()


def test_only_the_chosen_platform_is_pulled(registry: RunningRegistry) -> None:
    amd = build_image([{"etc/only": b"amd64 only\n"}], platform="linux/amd64")
    arm = build_image([{"etc/only": b"arm64 only\n"}], platform="linux/arm64/v8")
    push_image(registry.url, "team/choice", "1", build_index([amd, arm]))
    image = open_registry_image(Reference.parse(f"{registry.host}/team/choice:1"), options())
    read_layers(image)
    image.close()
    pulled = registry.pulled_blobs("team/choice")
    assert amd.layer_digests[0] in pulled and arm.layer_digests[0] not in pulled
    assert arm.config_digest not in pulled


def test_unknown_tag_and_repository(pushed: RunningRegistry) -> None:
    with pytest.raises(NotFoundError, match="team/app:nope"):
        open_registry_image(Reference.parse(f"{pushed.host}/team/app:nope"), options())
    with pytest.raises(NotFoundError, match="no/such:1"):
        open_registry_image(Reference.parse(f"{pushed.host}/no/such:1"), options())


def test_blob_altered_on_disk_is_refused(registry: RunningRegistry) -> None:
    built = build_image([{"etc/victim": b"original content\n" * 50}])
    push_image(registry.url, "team/altered", "1", built)
    path = registry.blob_path(built.layer_digests[0])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    image = open_registry_image(Reference.parse(f"{registry.host}/team/altered:1"), options())
    with pytest.raises(DigestMismatch), image.open_layer(image.layers[0]) as stream:
        stream.read()
    image.close()


@pytest.mark.realdata
def test_real_alpine_rootfs_layer(registry: RunningRegistry, testdata: Path) -> None:
    tarball = testdata / "images/alpine-minirootfs/alpine-minirootfs-3.10.9-x86_64.tar.gz"
    built = build_image([gzip.decompress(tarball.read_bytes())])
    push_image(registry.url, "library/alpine", "3.10.9", built)
    image = open_registry_image(
        Reference.parse(f"{registry.host}/library/alpine:3.10.9"), options()
    )
    [layer] = read_layers(image)
    assert gzip.decompress(layer) == built.layer_tars[0]
    image.close()


# --- token auth -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private(token_registry: RunningRegistry) -> RunningRegistry:
    push_image(
        token_registry.url, "private/app", "1.0", APP, token_registry.push_headers("private/app")
    )
    return token_registry


def test_token_auth_with_right_credentials(private: RunningRegistry) -> None:
    [(user, password)] = USERS.items()
    ref = Reference.parse(f"{private.host}/private/app:1.0")
    image = open_registry_image(ref, options(username=user, password=password))
    assert image.digest == APP.digest
    assert read_layers(image) == stored_layers(APP)
    image.close()
    assert private.token_server is not None
    asked = [r for r in private.token_server.requests if r["user"] == user]
    assert asked and asked[-1]["scope"] == "repository:private/app:pull"
    assert len(asked) == 1  # one token for the manifest, config and both layers


def test_token_auth_with_wrong_credentials(private: RunningRegistry) -> None:
    ref = Reference.parse(f"{private.host}/private/app:1.0")
    with pytest.raises(AuthError, match=f"docker login {private.host}"):
        open_registry_image(ref, options(username="alice", password="wrong"))


def test_token_auth_without_credentials(private: RunningRegistry) -> None:
    with pytest.raises(AuthError, match="wants credentials"):
        open_registry_image(Reference.parse(f"{private.host}/private/app:1.0"), options())


@pytest.mark.parametrize("kid", [False, True], ids=["x5c", "kid"])
def test_registry_accepts_both_key_forms(token_registry: RunningRegistry, kid: bool) -> None:
    assert token_registry.signing_key is not None
    token = token_registry.signing_key.token("probe", [], kid=kid)
    response = httpx.get(f"{token_registry.url}/v2/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_credential_helper_end_to_end(
    private: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helper = tmp_path / "docker-credential-spyglasstest"
    helper.write_text(
        '#!/bin/sh\nread server\necho \'{"Username": "alice", "Secret": "wonderland"}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"credHelpers": {private.host: "spyglasstest"}}))
    ref = Reference.parse(f"{private.host}/private/app:1.0")
    image = open_registry_image(ref, OpenOptions(docker_config=str(config)))
    assert image.digest == APP.digest
    image.close()


# --- Basic auth (htpasswd) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def basic(basic_registry: RunningRegistry) -> RunningRegistry:
    push_image(
        basic_registry.url, "basic/app", "1.0", APP, basic_registry.push_headers("basic/app")
    )
    return basic_registry


def test_basic_auth_from_docker_config(basic: RunningRegistry, tmp_path: Path) -> None:
    [(user, password)] = USERS.items()
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {f"http://{basic.host}": {"auth": auth}}}))
    image = open_registry_image(
        Reference.parse(f"{basic.host}/basic/app:1.0"), OpenOptions(docker_config=str(config))
    )
    assert image.digest == APP.digest
    assert read_layers(image) == stored_layers(APP)
    image.close()


def test_basic_auth_wrong_and_missing_credentials(basic: RunningRegistry) -> None:
    ref = Reference.parse(f"{basic.host}/basic/app:1.0")
    with pytest.raises(AuthError, match="refused the credentials"):
        open_registry_image(ref, options(username="alice", password="wrong"))
    with pytest.raises(AuthError, match="wants a username and password"):
        open_registry_image(ref, options())
