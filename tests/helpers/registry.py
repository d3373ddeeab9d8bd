"""A real registry on loopback for tests: Debian's ``docker-registry`` (distribution 2.8).

:func:`start_registry` runs it as a subprocess on 127.0.0.1 with a free port, filesystem storage
in a temporary folder and a generated config; its log (with the access log) goes to a file that
tests read through :meth:`RunningRegistry.pulled_blobs`. With ``token_auth=True`` it is put
behind :class:`TokenServer`, a small threaded HTTP server issuing the JWTs distribution
expects: RS256, signed by a key whose self-signed certificate is the registry's
``rootcertbundle`` and is sent in the JWT header as ``x5c`` (registry 2.8 also accepts a
libtrust ``kid``; ``x5c`` needs no key-id encoding, see ``test_real_registry.py``).

Fixtures (session-scoped, import them in a conftest): ``registry`` (anonymous),
``token_registry`` (token auth) and ``basic_registry`` (htpasswd); user ``alice`` /
``wonderland``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import bcrypt
import httpx
import jwt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.helpers.services import require_tool

SERVICE = "spyglass-test-registry"
ISSUER = "spyglass-test-token-issuer"
USERS = {"alice": "wonderland"}
_START_TIMEOUT = 20.0
_BLOB_GET = re.compile(
    r'"GET /v2/(?P<repo>[^ ]+)/blobs/(?P<digest>sha256:[a-f0-9]{64}) HTTP/[\d.]+" (?P<status>\d{3})'
)


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class SigningKey:
    """An RSA key and its self-signed certificate (the registry's trusted root)."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def generate(cls) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_id(self) -> str:
        """libtrust's key id: base32 of the first 240 bits of the SPKI's SHA-256, in fours."""
        spki = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        b32 = base64.b32encode(hashlib.sha256(spki).digest()[:30]).decode()
        return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))

    def token(
        self,
        subject: str,
        access: list[dict[str, object]],
        lifetime: int = 300,
        *,
        kid: bool = False,
    ) -> str:
        """A registry bearer token granting ``access`` (``[{type, name, actions}]``).

        The header names the key by ``x5c`` (the certificate) or, with ``kid``, its libtrust id.
        """
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "iat": now,
            "nbf": now - 10,
            "exp": now + lifetime,
            "jti": f"{subject}-{now}-{id(access)}",
            "access": access,
        }
        der = self.cert.public_bytes(serialization.Encoding.DER)
        headers = {"kid": self.key_id()} if kid else {"x5c": [base64.b64encode(der).decode()]}
        return jwt.encode(claims, self.key, algorithm="RS256", headers=headers)


def parse_scope(scope: str) -> list[dict[str, object]]:
    """``repository:team/app:pull,push`` (space-separated, several allowed) as JWT access."""
    access: list[dict[str, object]] = []
    for item in scope.split():
        kind, _, rest = item.partition(":")
        name, _, actions = rest.rpartition(":")
        access.append({"type": kind, "name": name, "actions": actions.split(",")})
    return access


class TokenServer:
    """The Docker token endpoint: Basic credentials in, a signed JWT for the asked scope out."""

    def __init__(self, key: SigningKey, users: dict[str, str]) -> None:
        self.key, self.users = key, users
        self.requests: list[dict[str, object]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                user = owner.check(self.headers.get("Authorization", ""))
                owner.requests.append({"user": user, **{k: v[0] for k, v in query.items()}})
                if user is None:
                    self._send(401, {"details": "incorrect username or password"})
                    return
                access = parse_scope(" ".join(query.get("scope", [])))
                self._send(200, {"token": owner.key.token(user, access), "expires_in": 300})

            def _send(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass  # requests are recorded in owner.requests instead

        return Handler

    def check(self, header: str) -> str | None:
        """The user named by a valid Basic header, or None."""
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if self.users.get(user) == password else None


@dataclass
class RunningRegistry:
    """A docker-registry process on loopback, its storage and its log."""

    host: str
    storage: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    token_server: TokenServer | None = None
    signing_key: SigningKey | None = None
    basic_auth: bool = False

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def log(self) -> str:
        """Everything the registry logged so far (access log included)."""
        return self.log_path.read_text(errors="replace")

    def pulled_blobs(self, repository: str | None = None) -> list[str]:
        """Digests of blobs served with 200 so far, in order, from the access log."""
        return [
            m["digest"]
            for m in _BLOB_GET.finditer(self.log())
            if m["status"] == "200" and repository in (None, m["repo"])
        ]

    def blob_path(self, digest: str) -> Path:
        """Where the registry keeps a blob's bytes on disk."""
        hexdigest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def push_headers(self, repository: str) -> dict[str, str]:
        """Headers that let the push helper write to ``repository`` (2.8 has no wildcards)."""
        if self.basic_auth:
            [(user, password)] = USERS.items()
            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        if self.signing_key is None:
            return {}
        access = [{"type": "repository", "name": repository, "actions": ["pull", "push"]}]
        return {"Authorization": f"Bearer {self.signing_key.token('pusher', access)}"}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.token_server is not None:
            self.token_server.stop()


def _config(
    root: Path, port: int, token: TokenServer | None, key: SigningKey | None, basic: bool
) -> str:
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "spyglass-test-secret"},
        "health": {"storagedriver": {"enabled": False}},
    }
    if token is not None and key is not None:
        (root / "root.pem").write_bytes(key.cert_pem())
        config["auth"] = {
            "token": {
                "realm": token.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(root / "root.pem"),
            }
        }
    if basic:
        lines = [
            f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode()}" for u, p in USERS.items()
        ]
        (root / "htpasswd").write_text("\n".join(lines) + "\n")
        config["auth"] = {"htpasswd": {"realm": "spyglass-test", "path": str(root / "htpasswd")}}
    return yaml.safe_dump(config)


def start_registry(
    root: Path, *, token_auth: bool = False, basic_auth: bool = False
) -> RunningRegistry:
    """Start docker-registry under ``root`` and wait until ``/v2/`` answers.

    ``token_auth``: behind a :class:`TokenServer`; ``basic_auth``: an htpasswd file of USERS.
    """
    binary = require_tool("docker-registry", "apt-get install docker-registry")
    key = SigningKey.generate() if token_auth else None
    token = TokenServer(key, USERS).start() if key is not None else None
    port = free_port()
    (root / "config.yml").write_text(_config(root, port, token, key, basic_auth))
    log_path = root / "registry.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT
        )
    running = RunningRegistry(
        f"127.0.0.1:{port}", root / "storage", log_path, process, token, key, basic_auth
    )
    wait_ready(running)
    return running


def wait_ready(running: RunningRegistry) -> None:
    """Wait until the registry answers ``/v2/``; stop it and raise with its log if it does not."""
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited at start:\n{running.log()}")
        try:
            httpx.get(f"{running.url}/v2/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    running.stop()
    raise RuntimeError(
        f"docker-registry did not answer within {_START_TIMEOUT} s:\n{running.log()}"
    )


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """An anonymous docker-registry on loopback for the whole session."""
    running = start_registry(tmp_path_factory.mktemp("registry"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A docker-registry behind token auth (user alice / wonderland) for the whole session."""
    running = start_registry(tmp_path_factory.mktemp("token-registry"), token_auth=True)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """A docker-registry behind htpasswd Basic auth (user alice / wonderland)."""
    running = start_registry(tmp_path_factory.mktemp("basic-registry"), basic_auth=True)
    yield running
    running.stop()
