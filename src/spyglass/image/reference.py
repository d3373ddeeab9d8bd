"""Image references (``alpine``, ``ghcr.io/o/r:tag``, ``name@sha256:…``) normalised as Docker does.

Written by hand: the rules are Docker's ``distribution/reference`` grammar, and no maintained
Python package implements its normalisation (``docker.io/library/`` prefixing, the
``index.docker.io`` alias, the "first component is a host" test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spyglass.errors import ReferenceError_
from spyglass.inventory import Digest

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DEFAULT_TAG = "latest"

_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(
    r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
_HEX64 = re.compile(r"[a-f0-9]{64}")
_MAX_NAME = 255


@dataclass(frozen=True)
class Reference:
    """A normalised image reference: where the image lives and which version of it."""

    registry: str
    """Host as the user names it, ``docker.io`` for Docker Hub (``localhost:5000``)."""
    repository: str
    """Path inside the registry (``library/alpine``, ``team/app``)."""
    tag: str | None = None
    digest: Digest | None = None
    """The manifest digest; when both are given the digest decides what is pulled."""

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse and normalise a reference; raises ReferenceError_ saying what is wrong."""
        rest, digest = _split_digest(text.strip(), text)
        registry, path = _split_registry(rest)
        path, tag = _split_tag(path, text)
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        _check_repository(path, text)
        if tag is None and digest is None:
            tag = DEFAULT_TAG
        return cls(registry, path, tag, digest)

    @property
    def api_host(self) -> str:
        """The host that serves the Distribution API (``registry-1.docker.io`` for Docker Hub)."""
        return api_host(self.registry)

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def version(self) -> str:
        """What to ask the registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_digest(self, digest: Digest) -> Reference:
        """The same image pinned to a manifest digest (the tag is kept for display)."""
        return Reference(self.registry, self.repository, self.tag, digest)

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.name}{tag}{digest}"


def api_host(registry: str) -> str:
    """The host serving a registry's Distribution API: Docker Hub's differs from its name."""
    return DOCKER_HUB_API if registry == DOCKER_HUB else registry


def _split_digest(text: str, original: str) -> tuple[str, Digest | None]:
    if not text:
        raise ReferenceError_("the image reference is empty; name an image such as alpine:3.19")
    if "@" not in text:
        return text, None
    rest, digest = text.rsplit("@", 1)
    if not _DIGEST.fullmatch(digest):
        raise ReferenceError_(
            f"image reference {original!r} has an invalid digest {digest!r}; "
            "expected algorithm:hex such as sha256:<64 hex digits>"
        )
    if digest.startswith("sha256:") and not _SHA256.fullmatch(digest):
        raise ReferenceError_(
            f"image reference {original!r}: a sha256 digest is 64 lower-case hex digits"
        )
    return rest, Digest(digest)


def _split_registry(text: str) -> tuple[str, str]:
    # Docker's rule: the first component is a host only if it looks like one (has a dot or a
    # port, is "localhost", or has upper case, which a repository path can never have).
    first, sep, rest = text.partition("/")
    looks_like_host = any(c in first for c in ".:[") or first == "localhost"
    is_host = sep and (looks_like_host or first != first.lower())
    if not is_host:
        return DOCKER_HUB, text
    if not _HOST.fullmatch(first):
        raise ReferenceError_(f"{first!r} is not a valid registry host (host[:port])")
    return (DOCKER_HUB if first in _HUB_ALIASES else first), rest


def _split_tag(path: str, original: str) -> tuple[str, str | None]:
    name, sep, tag = path.rpartition(":")
    if not sep:
        return path, None
    if not _TAG.fullmatch(tag):
        raise ReferenceError_(
            f"image reference {original!r} has an invalid tag {tag!r}; a tag is up to 128 "
            "letters, digits, '_', '.' or '-' and cannot start with '.' or '-'"
        )
    return name, tag


def _check_repository(path: str, original: str) -> None:
    if path != path.lower():
        raise ReferenceError_(
            f"image reference {original!r}: repository names must be lower-case "
            f"(try {path.lower()!r})"
        )
    if _HEX64.fullmatch(path.removeprefix("library/")):
        raise ReferenceError_(
            f"{original!r} looks like an image id, not a reference; a 64-hex-digit name is refused"
        )
    if len(path) > _MAX_NAME or not all(_COMPONENT.fullmatch(c) for c in path.split("/")):
        raise ReferenceError_(
            f"image reference {original!r} has an invalid repository {path!r}; components are "
            "lower-case letters and digits separated by '.', '_', '__' or '-', joined by '/'"
        )
