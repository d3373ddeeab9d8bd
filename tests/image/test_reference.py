"""Reference parsing follows Docker's normalisation (distribution/reference's test table)."""

from __future__ import annotations

import pytest

from spyglass.errors import ReferenceError_
from spyglass.image.reference import Reference

SHA = "sha256:" + "a" * 64
HUB = "registry-1.docker.io"


@pytest.mark.parametrize(
    ("text", "normalised", "api_host"),
    [
        ("alpine", "docker.io/library/alpine:latest", HUB),
        ("alpine:3.19", "docker.io/library/alpine:3.19", HUB),
        (f"alpine@{SHA}", f"docker.io/library/alpine@{SHA}", HUB),
        (f"docker.io/library/alpine@{SHA}", f"docker.io/library/alpine@{SHA}", HUB),
        (f"alpine:3.19@{SHA}", f"docker.io/library/alpine:3.19@{SHA}", HUB),
        ("bitnami/redis", "docker.io/bitnami/redis:latest", HUB),
        ("index.docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu:22.04", HUB),
        ("index.docker.io/ubuntu", "docker.io/library/ubuntu:latest", HUB),
        ("localhost:5000/team/app:1.2", "localhost:5000/team/app:1.2", "localhost:5000"),
        ("localhost/app", "localhost/app:latest", "localhost"),
        ("ghcr.io/o/r:tag", "ghcr.io/o/r:tag", "ghcr.io"),
        ("127.0.0.1:5000/a/b/c:v1.0-rc_2", "127.0.0.1:5000/a/b/c:v1.0-rc_2", "127.0.0.1:5000"),
        ("[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000"),
        ("Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com"),
        ("example.com/a__b/c.d/e-f", "example.com/a__b/c.d/e-f:latest", "example.com"),
        ("  alpine  ", "docker.io/library/alpine:latest", HUB),
    ],
)
def test_parse_normalises(text: str, normalised: str, api_host: str) -> None:
    ref = Reference.parse(text)
    assert str(ref) == normalised
    assert ref.api_host == api_host
    assert Reference.parse(str(ref)) == ref


def test_parts() -> None:
    ref = Reference.parse(f"localhost:5000/team/app:1.2@{SHA}")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        "localhost:5000",
        "team/app",
        "1.2",
        SHA,
    )
    assert ref.version == SHA  # the digest decides what is pulled


def test_digest_only_has_no_default_tag() -> None:
    ref = Reference.parse(f"alpine@{SHA}")
    assert ref.tag is None
    assert ref.version == SHA


def test_with_digest_keeps_tag() -> None:
    ref = Reference.parse("alpine:3.19").with_digest(SHA)  # type: ignore[arg-type]
    assert str(ref) == f"docker.io/library/alpine:3.19@{SHA}"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("Alpine", "lower-case"),
        ("docker.io/Library/alpine", "lower-case"),
        ("alpine:", "invalid tag"),
        ("alpine:-x", "invalid tag"),
        ("alpine:" + "x" * 129, "invalid tag"),
        ("alpine@sha256:abc", "sha256"),
        ("alpine@nonsense", "invalid digest"),
        ("a" * 64, "image id"),
        ("team//app", "invalid repository"),
        ("team/app-", "invalid repository"),
        ("team/-app", "invalid repository"),
        ("ex ample.com/app", "not a valid registry host"),
        ("example.com:port/app", "not a valid registry host"),
        ("example.com/" + "a" * 256, "invalid repository"),
    ],
)
def test_parse_refuses(text: str, says: str) -> None:
    with pytest.raises(ReferenceError_, match=says):
        Reference.parse(text)
