"""Registry authentication: ``WWW-Authenticate`` challenges, Basic auth and bearer tokens.

A registry answers 401 with a challenge. ``Basic`` wants the credentials on every request;
``Bearer realm=…,service=…,scope=…`` (the Docker token protocol) wants a token fetched from the
realm, anonymously or with the credentials, which is then cached per scope until it expires.
Challenge parsing is hand-written (RFC 7235 auth-params, a dozen lines); httpx does the HTTP.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from spyglass.errors import AuthError, RegistryError
from spyglass.image.registry.credentials import Credentials

# A token without expires_in lives 60 s (the token spec); refresh a little before that.
_DEFAULT_LIFETIME = 60.0
_REFRESH_MARGIN = 5.0
_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9_.-]*)(?=\s|$)")

Send = Callable[[httpx.Request], httpx.Response]
"""Sends a request (with retries and error mapping); the client supplies it."""


@dataclass(frozen=True)
class Challenge:
    """One parsed ``WWW-Authenticate`` challenge; ``scheme`` is lower-case."""

    scheme: str
    realm: str = ""
    service: str = ""
    scope: str = ""


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a ``WWW-Authenticate`` value (``Bearer realm="…",scope="…"``)."""
    found: list[Challenge] = []
    pos = 0
    while match := _SCHEME.match(header, pos):
        params: dict[str, str] = {}
        pos = match.end()
        while (param := _PARAM.match(header, pos)) and param.group(0).strip():
            quoted, bare = param.group(2), param.group(3)
            params[param.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted else bare
            pos = param.end()
        found.append(_challenge(match.group(1).lower(), params))
    return found


def _challenge(scheme: str, params: dict[str, str]) -> Challenge:
    return Challenge(
        scheme, params.get("realm", ""), params.get("service", ""), params.get("scope", "")
    )


def pick_challenge(response: httpx.Response) -> Challenge | None:
    """The challenge to answer from a 401: Bearer if offered, else Basic, else None."""
    challenges = parse_challenges(", ".join(response.headers.get_list("www-authenticate")))
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


class Authenticator:
    """Adds the right ``Authorization`` header for one registry host; caches tokens per scope."""

    def __init__(
        self,
        host: str,
        credentials: Credentials | None,
        send: Send,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.credentials = credentials
        self.challenge: Challenge | None = None
        self._send = send
        self._clock = clock
        self._tokens: dict[str, _Token] = {}

    def learn(self, challenge: Challenge | None) -> None:
        """Remember how the registry wants to be authenticated (from the ping or a 401)."""
        if challenge is not None:
            self.challenge = challenge

    def forget(self, scope: str) -> None:
        """Drop a cached token the registry just refused."""
        self._tokens.pop(scope, None)

    def header(self, scope: str) -> str | None:
        """The ``Authorization`` value for a request needing ``scope``, or None (anonymous)."""
        if self.challenge is None:
            return None
        if self.challenge.scheme == "basic":
            return self._basic()
        if self.challenge.scheme == "bearer":
            return f"Bearer {self._token(self.challenge, scope)}"
        raise AuthError(
            f"{self.host} asks for {self.challenge.scheme!r} authentication, which "
            "Spyglass does not support; use a registry token or Basic credentials"
        )

    def _basic(self) -> str:
        creds = self.credentials
        if creds is None or creds.identity_token:
            raise AuthError(
                f"{self.host} wants a username and password; run `docker login {self.host}` "
                "or pass --username and --password"
            )
        pair = f"{creds.username}:{creds.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _token(self, challenge: Challenge, scope: str) -> str:
        cached = self._tokens.get(scope)
        if cached is not None and cached.expires_at > self._clock():
            return cached.value
        token = self._fetch_token(challenge, scope)
        self._tokens[scope] = token
        return token.value

    def _fetch_token(self, challenge: Challenge, scope: str) -> _Token:
        if not challenge.realm.startswith(("https://", "http://")):
            raise AuthError(f"{self.host} sent a Bearer challenge without a usable realm URL")
        response = self._send(self._token_request(challenge, scope))
        try:
            response.read()
            return self._parse_token(response, scope)
        finally:
            response.close()

    def _token_request(self, challenge: Challenge, scope: str) -> httpx.Request:
        creds = self.credentials
        params = {k: v for k, v in (("service", challenge.service), ("scope", scope)) if v}
        if creds is not None and creds.identity_token:
            # Docker's OAuth2 flow for identity tokens (`docker login` to ACR, some others).
            form = {
                **params,
                "grant_type": "refresh_token",
                "client_id": "spyglass",
                "refresh_token": creds.identity_token,
            }
            return httpx.Request("POST", challenge.realm, data=form)
        request = httpx.Request("GET", challenge.realm, params=params)
        if creds is not None and (creds.username or creds.password):
            request.headers["Authorization"] = self._basic()
        return request

    def _parse_token(self, response: httpx.Response, scope: str) -> _Token:
        if response.status_code in (401, 403):
            raise AuthError(self._refused(scope))
        if response.status_code != 200:
            raise RegistryError(
                f"the token server of {self.host} ({response.url.host}) answered HTTP "
                f"{response.status_code} for scope {scope!r}; try again later"
            )
        try:
            body = response.json()
            value = str(body.get("token") or body.get("access_token") or "")
            lifetime = float(body.get("expires_in") or _DEFAULT_LIFETIME)
        except (ValueError, AttributeError) as exc:
            raise RegistryError(f"the token server of {self.host} sent a malformed token") from exc
        if not value:
            raise RegistryError(f"the token server of {self.host} sent no token")
        return _Token(value, self._clock() + max(lifetime - _REFRESH_MARGIN, 0.0))

    def _refused(self, scope: str) -> str:
        if self.credentials is None:
            return (
                f"{self.host} wants credentials for {scope or 'this request'}; run "
                f"`docker login {self.host}` or pass --username and --password"
            )
        return (
            f"{self.host} refused the credentials for {scope or 'this request'}; check them "
            f"with `docker login {self.host}` or pass --username and --password"
        )
