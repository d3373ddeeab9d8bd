"""An OCI Distribution API client for one registry host, on httpx (sync).

It pings ``/v2/`` once to choose the scheme (HTTPS; plain HTTP only for loopback hosts and
``OpenOptions.insecure_registries``) and learn the auth challenge, then fetches manifests
(verified when asked for by digest) and streams blobs through a digest-verifying reader.
Every httpx exception is turned into the error tree here and never leaves this module.
"""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

import certifi
import httpx

from spyglass import __version__
from spyglass.errors import (
    DigestMismatch,
    ManifestError,
    RegistryError,
    RegistryUnreachable,
)
from spyglass.image.blobstream import CHUNK, ChunkSource, verifying_stream
from spyglass.image.interface import ACCEPT_MANIFESTS, Descriptor, OpenOptions
from spyglass.image.manifest import manifest_digest
from spyglass.image.reference import DOCKER_HUB, api_host
from spyglass.image.registry import credentials, failures
from spyglass.image.registry.auth import Authenticator, pick_challenge
from spyglass.image.registry.retry import RETRY_STATUSES, backoff, delay_for, is_retryable
from spyglass.inventory import Digest

# distribution refuses manifests over 4 MiB; a bigger answer is not a manifest.
MAX_MANIFEST = 4 << 20
MAX_CONFIG = 32 << 20
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class FetchedManifest:
    """Raw manifest or index bytes as served, with their Content-Type and digest."""

    data: bytes
    media_type: str | None
    digest: Digest


class RegistryClient:
    """Talks the OCI Distribution API to one registry; use as a context manager or close()."""

    def __init__(
        self,
        registry: str,
        options: OpenOptions,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.registry = registry
        self.host = api_host(registry)
        self.options = options
        self.insecure = is_insecure(registry, options)
        self._sleep = sleep or time.sleep
        self._http = httpx.Client(
            transport=transport,
            verify=False if self.insecure else _tls_context(options.ca_bundle),
            timeout=httpx.Timeout(options.read_timeout, connect=options.connect_timeout),
            follow_redirects=True,
            headers={"User-Agent": f"spyglass/{__version__}"},
        )
        self.auth = Authenticator(self.host, credentials.lookup(registry, options), self.send)
        self.base_url: str | None = None

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def ping(self) -> None:
        """GET ``/v2/`` once: choose HTTPS or (where allowed) HTTP, and learn the auth challenge."""
        if self.base_url is not None:
            return
        schemes = ("https", "http") if self.insecure else ("https",)
        for scheme in schemes:
            try:
                response = self.send(
                    httpx.Request("GET", f"{scheme}://{self.host}/v2/"),
                    retries=None if scheme == schemes[-1] else 0,
                )
            except RegistryUnreachable:
                if scheme == schemes[-1]:
                    raise
                continue
            self._accept_ping(response, f"{scheme}://{self.host}")
            return

    def _accept_ping(self, response: httpx.Response, base: str) -> None:
        try:
            if response.status_code == 404:
                raise RegistryError(
                    f"{base} answers 404 for /v2/: it does not serve the registry API; "
                    "check the registry host name"
                )
            if response.status_code == 401:
                self.auth.learn(pick_challenge(response))
            else:
                failures.raise_for_status(response, self, "the API root /v2/")
        finally:
            response.close()
        self.base_url = base

    def get_manifest(self, repository: str, version: str) -> FetchedManifest:
        """Fetch a manifest or index by tag or digest; verified against the digest if given."""
        what = f"manifest {self.registry}/{repository}{_at(version)}"
        response = self.get(repository, f"manifests/{version}", {"Accept": ACCEPT_MANIFESTS}, what)
        try:
            data = read_limited(response, MAX_MANIFEST, what, self.host)
        finally:
            response.close()
        media_type = response.headers.get("content-type")
        if version.partition(":")[1]:
            check_digest(data, Digest(version), what)
        return FetchedManifest(data, media_type, manifest_digest(data))

    def open_blob(self, repository: str, descriptor: Descriptor) -> IO[bytes]:
        """Stream a blob; reading it to EOF raises DigestMismatch if it is not what it says."""
        what = f"blob {descriptor.digest} of {self.registry}/{repository}"
        # identity: the digest names the stored bytes, so no transfer compression on top.
        headers = {"Accept-Encoding": "identity"}
        response = self.get(repository, f"blobs/{descriptor.digest}", headers, what)
        chunks = guarded(response.iter_bytes(CHUNK), what, self.host)
        source = ChunkSource(chunks, close=response.close)
        return verifying_stream(source, descriptor.digest, descriptor.size)

    def read_blob(self, repository: str, descriptor: Descriptor, limit: int = MAX_CONFIG) -> bytes:
        """A small blob (a config) read whole and verified."""
        if descriptor.size > limit:
            raise ManifestError(
                f"blob {descriptor.digest} claims {descriptor.size} bytes, more than the "
                f"{limit} allowed for a config; the manifest is damaged or hostile"
            )
        with self.open_blob(repository, descriptor) as stream:
            return stream.read()

    def get(self, repository: str, path: str, headers: dict[str, str], what: str) -> httpx.Response:
        """GET ``/v2/<repository>/<path>`` with auth, retries and errors mapped; streamed."""
        return self.fetch("GET", f"/v2/{repository}/{path}", f"repository:{repository}:pull",
                          headers, what)

    def fetch(
        self, method: str, path: str, scope: str, headers: dict[str, str], what: str
    ) -> httpx.Response:
        """``method`` on ``path`` (from ``/v2/``, query included) with a token for ``scope``."""
        self.ping()
        url = f"{self.base_url}{path}"
        for attempt in range(2):
            request = self._http.build_request(method, url, headers=headers)
            authorization = self.auth.header(scope)
            if authorization:
                request.headers["Authorization"] = authorization
            response = self.send(request)
            challenge = pick_challenge(response) if response.status_code == 401 else None
            if challenge is None or attempt == 1:
                break
            # An anonymous try taught us the challenge, or the cached token went stale.
            response.close()
            self.auth.forget(scope)
            self.auth.learn(challenge)
        failures.raise_for_status(response, self, what)
        return response

    def send(self, request: httpx.Request, retries: int | None = None) -> httpx.Response:
        """Send with retries on 429/5xx/connection errors; the response is streamed."""
        attempts = self.options.retries if retries is None else retries
        for attempt in range(attempts + 1):
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                if attempt >= attempts or not is_retryable(exc):
                    raise failures.unreachable(self, request, exc) from exc
                self._sleep(backoff(attempt))
                continue
            if response.status_code not in RETRY_STATUSES or attempt >= attempts:
                return response
            response.close()
            self._sleep(delay_for(response, attempt))
        raise AssertionError("unreachable: the loop returns or raises")


def is_insecure(registry: str, options: OpenOptions) -> bool:
    """Whether plain HTTP (and unverified TLS) is allowed: loopback, or listed as insecure."""
    host = api_host(registry)
    bare = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    bare = bare.strip("[]")
    if bare in _LOOPBACK or bare.startswith("127."):
        return True
    names = {registry, host} | (
        {"docker.io", "index.docker.io"} if registry == DOCKER_HUB else set()
    )
    return any(entry in names for entry in options.insecure_registries)


def check_digest(data: bytes, digest: Digest, what: str) -> None:
    """Raise DigestMismatch unless ``data`` hashes to ``digest`` (sha256, sha384 or sha512)."""
    algorithm, _, expected = digest.partition(":")
    if algorithm not in ("sha256", "sha384", "sha512"):
        raise ManifestError(f"{what}: unsupported digest algorithm {algorithm!r}")
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual != expected:
        raise DigestMismatch(
            f"{what} hashes to {algorithm}:{actual}; the registry served different content "
            "than the digest names"
        )


def read_limited(response: httpx.Response, limit: int, what: str, host: str) -> bytes:
    """Read a whole (small) body, refusing more than ``limit`` bytes."""
    parts: list[bytes] = []
    total = 0
    for chunk in guarded(response.iter_bytes(), what, host):
        total += len(chunk)
        if total > limit:
            raise ManifestError(f"{what} is larger than {limit} bytes; it is not a manifest")
        parts.append(chunk)
    return b"".join(parts)


def guarded(chunks: Iterator[bytes], what: str, host: str) -> Iterator[bytes]:
    """Re-raise a connection that breaks mid-body as RegistryUnreachable."""
    try:
        yield from chunks
    except httpx.HTTPError as exc:
        raise RegistryUnreachable(
            f"the connection to {host} broke while reading {what} ({exc or type(exc).__name__}); "
            "try again"
        ) from exc


def _at(version: str) -> str:
    return f"@{version}" if ":" in version else f":{version}"


def _tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise RegistryError(f"cannot load the CA bundle {ca_bundle}: {exc}") from exc
    return context
