"""An in-memory registry behind ``httpx.MockTransport``, for protocol edge cases.

It serves manifests and blobs like distribution does, can demand Basic or Bearer auth (with a
token endpoint on another host), and plays scripted answers (429, 5xx, broken streams) before
the real ones, so each test states exactly the misbehaviour it checks. The happy paths are also
tested against the real registry (``tests/image/registry/test_real_registry.py``).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

from tests.helpers.images import BuiltImage, BuiltIndex

HOST = "registry.test"
REALM = "https://auth.test/token"
Scripted = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class BrokenStream(httpx.SyncByteStream):
    """A body that sends some bytes and then loses the connection."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset by peer")


@dataclass
class FakeRegistry:
    """Manifests by ``repo`` and tag/digest, blobs by digest, optional auth, scripted faults."""

    auth: str = "none"
    """"none", "basic" or "bearer"."""
    users: dict[str, str] = field(default_factory=lambda: {"alice": "secret"})
    anonymous_pull: bool = False
    """Bearer only: whether the token server hands out pull tokens without credentials."""
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    script: dict[str, list[Scripted]] = field(default_factory=lambda: defaultdict(list))
    """Answers (or exceptions) to give, in order, before the real ones; keyed by URL path."""
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0

    def push(self, repo: str, tag: str, image: BuiltImage | BuiltIndex) -> None:
        """Store an image or index (and every blob and child manifest) under a tag."""
        if isinstance(image, BuiltIndex):
            for child in image.images:
                self.push(repo, child.digest, child)
            data = image.index
        else:
            self.blobs.update(image.blobs)
            data = image.manifest
        self.manifests[(repo, tag)] = (data, image.media_type)
        self.manifests[(repo, image.digest)] = (data, image.media_type)

    def transport(self) -> httpx.MockTransport:
        """A transport that answers like this registry."""
        return httpx.MockTransport(self.handle)

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [r.url.path for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queued = self.script.get(request.url.path)
        if queued:
            answer = queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer(request) if callable(answer) else answer
        if request.url.host == "auth.test":
            return self._token(request)
        if (refused := self._check_auth(request)) is not None:
            return refused
        return self._serve(request)

    def _serve(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")
        if request.url.path == "/v2/":
            return httpx.Response(200, json={})
        repo, kind, ref = "/".join(parts[2:-2]), parts[-2], parts[-1]
        if kind == "manifests" and (repo, ref) in self.manifests:
            data, media_type = self.manifests[(repo, ref)]
            return httpx.Response(200, content=data, headers={"Content-Type": media_type})
        if kind == "blobs" and ref in self.blobs:
            return httpx.Response(200, content=self.blobs[ref])
        code = "MANIFEST_UNKNOWN" if kind == "manifests" else "BLOB_UNKNOWN"
        return httpx.Response(404, json={"errors": [{"code": code, "message": f"{kind} unknown"}]})

    def _check_auth(self, request: httpx.Request) -> httpx.Response | None:
        given = request.headers.get("authorization", "")
        if self.auth == "basic" and not self._basic_ok(given):
            return _unauthorized(f'Basic realm="{HOST}"')
        if self.auth == "bearer" and not given.startswith("Bearer token-"):
            repo = "/".join(request.url.path.split("/")[2:-2])
            scope = f',scope="repository:{repo}:pull"' if repo else ""
            return _unauthorized(f'Bearer realm="{REALM}",service="{HOST}"{scope}')
        return None

    def _basic_ok(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return self.users.get(user) == password

    def _token(self, request: httpx.Request) -> httpx.Response:
        given = request.headers.get("authorization", "")
        if not (self._basic_ok(given) or (not given and self.anonymous_pull)):
            return httpx.Response(401, json={"details": "incorrect username or password"})
        self.tokens_issued += 1
        return httpx.Response(200, json={"token": f"token-{self.tokens_issued}", "expires_in": 300})


def _unauthorized(challenge: str) -> httpx.Response:
    body = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
    return httpx.Response(401, content=json.dumps(body), headers={"WWW-Authenticate": challenge})
