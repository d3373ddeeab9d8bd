"""Credentials come from options, then the Docker config: credHelpers, credsStore, auths."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from spyglass.errors import AuthError, UsageError
from spyglass.image.interface import OpenOptions
from spyglass.image.registry.client import RegistryClient
from spyglass.image.registry.credentials import Credentials, config_path, lookup
from tests.helpers.images import build_image
from tests.image.registry.fake import HOST, FakeRegistry

# A credential helper speaking the real protocol: "get", server URL on stdin, JSON on stdout.
HELPER = """#!/bin/sh
[ "$1" = get ] || exit 3
read server
echo "$server" >> "$(dirname "$0")/asked"
case "$server" in
  registry.test) echo '{"ServerURL": "registry.test", "Username": "alice", "Secret": "secret"}' ;;
  https://index.docker.io/v1/) echo '{"Username": "hubuser", "Secret": "hubpw"}' ;;
  token.test) echo '{"ServerURL": "token.test", "Username": "<token>", "Secret": "refresh-1"}' ;;
  garbage.test) echo 'not json' ;;
  broken.test) echo 'keychain locked' >&2; exit 1 ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
"""


@pytest.fixture
def helper_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Installs ``docker-credential-test`` in a directory put first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "docker-credential-test"
    script.write_text(HELPER)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def write_config(tmp_path: Path, config: dict[str, object]) -> OpenOptions:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return OpenOptions(docker_config=str(path))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_no_config_means_anonymous(tmp_path: Path) -> None:
    assert lookup(HOST, OpenOptions(docker_config=str(tmp_path / "missing.json"))) is None


def test_auths_base64(tmp_path: Path) -> None:
    options = write_config(tmp_path, {"auths": {HOST: {"auth": b64("alice:pa:ss")}}})
    assert lookup(HOST, options) == Credentials("alice", "pa:ss")


def test_auths_username_password_and_url_keys(tmp_path: Path) -> None:
    options = write_config(
        tmp_path, {"auths": {f"https://{HOST}/v2/": {"username": "bob", "password": "pw"}}}
    )
    assert lookup(HOST, options) == Credentials("bob", "pw")


@pytest.mark.parametrize("key", ["https://index.docker.io/v1/", "docker.io", "index.docker.io"])
def test_docker_hub_keys(tmp_path: Path, key: str) -> None:
    options = write_config(tmp_path, {"auths": {key: {"auth": b64("hub:pw")}}})
    assert lookup("docker.io", options) == Credentials("hub", "pw")


def test_identity_token_in_auths(tmp_path: Path) -> None:
    options = write_config(tmp_path, {"auths": {HOST: {"identitytoken": "refresh"}}})
    assert lookup(HOST, options) == Credentials(identity_token="refresh")


def test_other_hosts_do_not_match(tmp_path: Path) -> None:
    options = write_config(tmp_path, {"auths": {"other.test": {"auth": b64("a:b")}}})
    assert lookup(HOST, options) is None


def test_options_override_config(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {HOST: {"auth": b64("alice:secret")}}}))
    options = OpenOptions(docker_config=str(path), username="carol", password="pw")
    assert lookup(HOST, options) == Credentials("carol", "pw")


def test_docker_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auths": {HOST: {"auth": b64("e:nv")}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert config_path(OpenOptions()) == tmp_path / "config.json"
    assert lookup(HOST, OpenOptions()) == Credentials("e", "nv")


def test_default_config_is_in_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_path(OpenOptions()) == tmp_path / ".docker" / "config.json"


@pytest.mark.parametrize("content", ["{not json", "[]"])
def test_broken_config_is_a_usage_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "config.json").write_text(content)
    with pytest.raises(UsageError, match=str(tmp_path)):
        lookup(HOST, OpenOptions(docker_config=str(tmp_path / "config.json")))


def test_bad_base64_is_a_usage_error(tmp_path: Path) -> None:
    options = write_config(tmp_path, {"auths": {HOST: {"auth": "!!!"}}})
    with pytest.raises(UsageError, match="base64"):
        lookup(HOST, options)


def test_cred_helper(tmp_path: Path, helper_on_path: Path) -> None:
    options = write_config(tmp_path, {"credHelpers": {HOST: "test"}})
    assert lookup(HOST, options) == Credentials("alice", "secret")
    assert (helper_on_path / "asked").read_text() == f"{HOST}\n"


def test_cred_helper_for_docker_hub_gets_the_v1_url(tmp_path: Path, helper_on_path: Path) -> None:
    options = write_config(tmp_path, {"credHelpers": {"docker.io": "test"}})
    assert lookup("docker.io", options) == Credentials("hubuser", "hubpw")
    assert (helper_on_path / "asked").read_text() == "https://index.docker.io/v1/\n"


def test_creds_store_then_auths(tmp_path: Path, helper_on_path: Path) -> None:
    config = {"credsStore": "test", "auths": {"elsewhere.test": {"auth": b64("x:y")}}}
    options = write_config(tmp_path, config)
    assert lookup(HOST, options) == Credentials("alice", "secret")
    assert lookup("elsewhere.test", options) == Credentials("x", "y")  # store had none


def test_helper_with_nothing_stored(tmp_path: Path, helper_on_path: Path) -> None:
    options = write_config(tmp_path, {"credHelpers": {"unknown.test": "test"}})
    assert lookup("unknown.test", options) is None


def test_helper_token_user_is_an_identity_token(tmp_path: Path, helper_on_path: Path) -> None:
    options = write_config(tmp_path, {"credHelpers": {"token.test": "test"}})
    assert lookup("token.test", options) == Credentials(identity_token="refresh-1")


@pytest.mark.parametrize(
    ("host", "says"), [("garbage.test", "Username"), ("broken.test", "keychain locked")]
)
def test_helper_failures(tmp_path: Path, helper_on_path: Path, host: str, says: str) -> None:
    options = write_config(tmp_path, {"credHelpers": {host: "test"}})
    with pytest.raises(AuthError, match=says):
        lookup(host, options)


def test_missing_helper_says_so(tmp_path: Path) -> None:
    options = write_config(tmp_path, {"credHelpers": {HOST: "nosuchhelper"}})
    with pytest.raises(AuthError, match="docker-credential-nosuchhelper is not on PATH"):
        lookup(HOST, options)


def test_helper_credentials_reach_the_registry(tmp_path: Path, helper_on_path: Path) -> None:
    image = build_image([{"a": b"1"}])
    fake = FakeRegistry(auth="bearer")
    fake.push("team/app", "1", image)
    options = write_config(tmp_path, {"credHelpers": {HOST: "test"}})
    with RegistryClient(HOST, options, transport=fake.transport()) as client:
        assert client.get_manifest("team/app", "1").data == image.manifest
    token_request = next(r for r in fake.requests if r.url.host == "auth.test")
    assert token_request.headers["authorization"] == "Basic " + b64("alice:secret")


def test_identity_token_uses_the_oauth2_refresh_flow(tmp_path: Path) -> None:
    image = build_image([{"a": b"1"}])
    fake = FakeRegistry(auth="bearer")
    fake.push("team/app", "1", image)
    seen: list[httpx.Request] = []

    def oauth(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "token-oauth"})

    fake.script["/token"].append(oauth)
    options = write_config(tmp_path, {"auths": {HOST: {"identitytoken": "refresh-1"}}})
    with RegistryClient(HOST, options, transport=fake.transport()) as client:
        client.get_manifest("team/app", "1")
    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert seen[0].method == "POST"
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == "refresh-1"
    assert form["scope"] == "repository:team/app:pull" and form["service"] == HOST
