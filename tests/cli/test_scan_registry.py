"""`spyglass scan` against a real registry (Debian's docker-registry on loopback), as a build
pipeline runs it: by tag, by digest, through a multi-platform index, with token auth, a blob
altered on the registry's disk, and a second image that shares the base layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from spyglass.cli.exitcodes import ExitCode
from spyglass.cli.main import app
from tests.helpers.images import build_image, build_index
from tests.helpers.push import push_image
from tests.helpers.registry import USERS, RunningRegistry, registry, token_registry

__all__ = ["registry", "token_registry"]
pytestmark = pytest.mark.registry

BASE = {"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n",
        "lib/apk/db/installed": b"P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n"}


def _apk(name: str, version: str) -> dict[str, bytes]:
    db = BASE["lib/apk/db/installed"] + f"P:{name}\nV:{version}\nA:x86_64\no:{name}\n\n".encode()
    return {"lib/apk/db/installed": db}


APP = build_image([BASE, _apk("curl", "8.5.0-r0")])
OTHER = build_image([BASE, _apk("zlib", "1.3.1-r0")])
AMD = build_image([BASE, _apk("amd-only", "1.0-r0")], platform="linux/amd64")
ARM = build_image([BASE, _apk("arm-only", "1.0-r0")], platform="linux/arm64/v8")


@pytest.fixture(autouse=True)
def _no_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    for name in ("SPYGLASS_USERNAME", "SPYGLASS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def pushed(registry: RunningRegistry) -> RunningRegistry:
    push_image(registry.url, "ci/app", "1.0", APP)
    push_image(registry.url, "ci/other", "1.0", OTHER)
    push_image(registry.url, "ci/multi", "latest", build_index([AMD, ARM]))
    return registry


def scan(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(app, ["scan", *args, "--format", "json"], env=env)
    report = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, report, result.stderr


def packages(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p["name"], p["version"]) for p in report["packages"]}


def test_scan_by_tag(pushed: RunningRegistry) -> None:
    code, report, _ = scan(f"{pushed.host}/ci/app:1.0")
    assert code == ExitCode.CLEAN
    assert report["digest"] == APP.digest
    assert report["os"]["family"] == "alpine" and report["os"]["version"] == "3.19.1"
    assert packages(report) == {("musl", "1.2.4-r2"), ("curl", "8.5.0-r0")}
    layer_of = {p["name"]: p["layer"] for p in report["packages"]}
    assert layer_of == {"musl": APP.diff_ids[0], "curl": APP.diff_ids[1]}


def test_scan_by_digest(pushed: RunningRegistry) -> None:
    code, report, _ = scan(f"{pushed.host}/ci/app@{APP.digest}")
    assert code == ExitCode.CLEAN
    assert report["digest"] == APP.digest
    assert packages(report) == {("musl", "1.2.4-r2"), ("curl", "8.5.0-r0")}


@pytest.mark.parametrize(("platform", "only"), [("linux/amd64", "amd-only"),
                                                 ("linux/arm64", "arm-only")])
def test_scan_through_an_index_picks_the_platform(
        pushed: RunningRegistry, platform: str, only: str) -> None:
    code, report, _ = scan(f"{pushed.host}/ci/multi:latest", "--platform", platform)
    assert code == ExitCode.CLEAN
    assert only in {name for name, _ in packages(report)}
    assert report["platform"].startswith(platform)


def test_shared_base_layer_is_read_once(pushed: RunningRegistry) -> None:
    scan(f"{pushed.host}/ci/app:1.0")
    code, report, _ = scan(f"{pushed.host}/ci/other:1.0")
    assert code == ExitCode.CLEAN
    assert [layer["cached"] for layer in report["layers"]] == [True, False]
    assert APP.layer_digests[0] not in pushed.pulled_blobs("ci/other")  # not even downloaded
    assert packages(report) == {("musl", "1.2.4-r2"), ("zlib", "1.3.1-r0")}


def test_unknown_tag_exits_3_and_says_which(pushed: RunningRegistry) -> None:
    code, _, stderr = scan(f"{pushed.host}/ci/app:nope")
    assert code == ExitCode.IMAGE
    assert "ci/app:nope" in stderr


def test_altered_blob_is_refused(registry: RunningRegistry) -> None:
    built = build_image([BASE, {"etc/victim": b"original\n" * 100}])
    push_image(registry.url, "ci/altered", "1", built)
    path = registry.blob_path(built.layer_digests[1])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    code, _, stderr = scan(f"{registry.host}/ci/altered:1", "--no-cache")
    assert code == ExitCode.IMAGE
    assert "sha256:" in stderr


def test_token_auth_from_the_environment(token_registry: RunningRegistry) -> None:
    headers = token_registry.push_headers("ci/private")
    push_image(token_registry.url, "ci/private", "1", APP, headers)
    [(user, password)] = USERS.items()
    target = f"{token_registry.host}/ci/private:1"
    code, report, _ = scan(target, env={"SPYGLASS_USERNAME": user, "SPYGLASS_PASSWORD": password})
    assert code == ExitCode.CLEAN and report["digest"] == APP.digest
    code, _, stderr = scan(target, env={"SPYGLASS_USERNAME": user, "SPYGLASS_PASSWORD": "wrong"})
    assert code == ExitCode.IMAGE
    assert f"docker login {token_registry.host}" in stderr


def test_explicit_platform_refuses_a_single_platform_image_for_another(
        pushed: RunningRegistry) -> None:
    code, _, stderr = scan(f"{pushed.host}/ci/app:1.0", "--platform", "linux/arm64")
    assert code == ExitCode.IMAGE
    assert "is for linux/amd64, not linux/arm64" in stderr
    code, report, _ = scan(f"{pushed.host}/ci/app:1.0", "--platform", "linux/amd64")
    assert code == ExitCode.CLEAN and report["digest"] == APP.digest


def test_without_platform_a_single_platform_image_is_scanned_as_it_is(
        registry: RunningRegistry) -> None:
    push_image(registry.url, "ci/armonly", "1", ARM)
    code, report, _ = scan(f"{registry.host}/ci/armonly:1")
    assert code == ExitCode.CLEAN
    assert report["platform"].startswith("linux/arm64")
