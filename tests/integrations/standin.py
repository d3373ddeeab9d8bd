"""A loopback stand-in for Microsoft Entra ID and an ACR login server's OAuth2 endpoints.

One threaded HTTPS server (azure-identity refuses an http authority) with a self-signed
certificate made here, serving what the real services answer to the calls our provider makes
through the real azure-identity / MSAL and httpx:

- ``GET /<tenant>/v2.0/.well-known/openid-configuration``: MSAL's tenant discovery (instance
  discovery is off for a configured authority);
- ``POST /<tenant>/oauth2/v2.0/token``: the client-credentials grant, for the registered client;
- ``POST /oauth2/exchange``: ACR's Entra-token-for-refresh-token exchange;
- ``GET /oauth2/token``: ACR's registry token, Basic ``00000000-…:<refresh token>`` in, a JWT
  that the real docker-registry trusts out (signed by :class:`SigningKey`).

:func:`start_acr_registry` runs Debian's docker-registry behind it, as ACR is behind its realm.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import secrets
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers.registry import (
    ISSUER,
    SERVICE,
    RunningRegistry,
    SigningKey,
    free_port,
    parse_scope,
    wait_ready,
)
from tests.helpers.services import require_tool

ACR_USER = "00000000-0000-0000-0000-000000000000"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
CLIENT_SECRET = "s3cret~value"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spyglass-test-entra")])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    )
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "entra.pem", directory / "entra.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class EntraStandIn:
    """The running stand-in: its URL, CA file, what it was asked, and what it accepts."""

    key: SigningKey
    ca_bundle: Path
    clients: dict[str, str] = field(default_factory=lambda: {CLIENT_ID: CLIENT_SECRET})
    refresh_lifetime: int = 3 * 3600
    refuse_exchange: bool = False
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """``(method, path, form or query)`` of every request, in order."""
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def paths(self, method: str | None = None) -> list[str]:
        """The paths asked for so far (of one method if given)."""
        return [path for m, path, _ in self.requests if method in (None, m)]

    def forms(self, path: str) -> list[dict[str, str]]:
        """The forms (or queries) sent to ``path``."""
        return [form for _, p, form in self.requests if p == path]

    def access_token(self, tenant: str, client: str) -> str:
        token = _jwt({"tid": tenant, "appid": client, "aud": "https://management.azure.com/",
                      "exp": int(time.time()) + 3600, "nonce": secrets.token_hex(8)})
        self.access_tokens.add(token)
        return token

    def refresh_token(self, tenant: str) -> str:
        token = _jwt({"tid": tenant, "exp": int(time.time()) + self.refresh_lifetime,
                      "grant_type": "refresh_token", "nonce": secrets.token_hex(8)})
        self.refresh_tokens.add(token)
        return token


def _jwt(claims: dict[str, Any]) -> str:
    # Neither the provider nor the stand-in checks these signatures; the shape is what counts.
    return jwt.encode(claims, "stand-in-secret-of-at-least-32-bytes", algorithm="HS256")


def start_entra(directory: Path, key: SigningKey) -> EntraStandIn:
    """Start the stand-in on 127.0.0.1 and a free port, over TLS with a fresh certificate."""
    cert, private = self_signed(directory)
    state = EntraStandIn(key, cert)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, private)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    state.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state


def _handler(state: EntraStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            state.requests.append(("GET", url.path, query))
            if url.path.endswith("/v2.0/.well-known/openid-configuration"):
                self._send(200, _openid(state.url, url.path.split("/")[1]))
            elif url.path == "/oauth2/token":
                self._registry_token(query)
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlparse(self.path).path
            state.requests.append(("POST", path, form))
            if path.endswith("/oauth2/v2.0/token"):
                self._entra_token(path.split("/")[1], form)
            elif path == "/oauth2/exchange":
                self._exchange(form)
            else:
                self._send(404, {"error": "not_found"})

        def _entra_token(self, tenant: str, form: dict[str, str]) -> None:
            client = form.get("client_id", "")
            if form.get("grant_type") != "client_credentials" or \
                    state.clients.get(client) != form.get("client_secret"):
                self._send(401, {"error": "invalid_client", "error_description":
                                 "AADSTS7000215: Invalid client secret provided."})
                return
            self._send(200, {"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600,
                             "access_token": state.access_token(tenant, client)})

        def _exchange(self, form: dict[str, str]) -> None:
            if state.refuse_exchange or form.get("grant_type") != "access_token" or \
                    form.get("access_token") not in state.access_tokens:
                self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                return
            self._send(200, {"refresh_token": state.refresh_token(form.get("tenant", ""))})

        def _registry_token(self, query: dict[str, str]) -> None:
            auth = self.headers.get("Authorization", "")
            user, _, password = base64.b64decode(auth[6:] or b"").decode().partition(":") \
                if auth.startswith("Basic ") else ("", "", "")
            if user != ACR_USER or password not in state.refresh_tokens:
                self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]})
                return
            access = parse_scope(query.get("scope", ""))
            self._send(200, {"access_token": state.key.token("acr-user", access)})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # recorded in state.requests

    return Handler


def _openid(base: str, tenant: str) -> dict[str, Any]:
    return {
        "issuer": f"{base}/{tenant}/v2.0",
        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
    }


def start_acr_registry(root: Path, entra: EntraStandIn) -> RunningRegistry:
    """docker-registry on loopback whose token realm is the stand-in's ``/oauth2/token``."""
    binary = require_tool("docker-registry", "apt-get install docker-registry")
    port = free_port()
    (root / "root.pem").write_bytes(entra.key.cert_pem())
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text"},
        "storage": {"filesystem": {"rootdirectory": str(root / "storage")}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "spyglass-test-secret"},
        "health": {"storagedriver": {"enabled": False}},
        "auth": {"token": {"realm": f"{entra.url}/oauth2/token", "service": SERVICE,
                           "issuer": ISSUER, "rootcertbundle": str(root / "root.pem")}},
    }
    (root / "config.yml").write_text(yaml.safe_dump(config))
    log_path = root / "registry.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([binary, "serve", str(root / "config.yml")], stdout=log,
                                   stderr=subprocess.STDOUT)
    running = RunningRegistry(f"127.0.0.1:{port}", root / "storage", log_path, process,
                              signing_key=entra.key)
    wait_ready(running)
    return running


