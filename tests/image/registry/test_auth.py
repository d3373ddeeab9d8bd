"""WWW-Authenticate parsing, token caching and expiry, and Retry-After reading."""

from __future__ import annotations

import httpx
import pytest

from spyglass.errors import AuthError, RegistryError
from spyglass.image.registry.auth import Authenticator, Challenge, parse_challenges, pick_challenge
from spyglass.image.registry.credentials import Credentials
from spyglass.image.registry.retry import backoff, retry_after


@pytest.mark.parametrize(
    ("header", "want"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/alpine:pull"',
            [
                Challenge(
                    "bearer",
                    "https://auth.docker.io/token",
                    "registry.docker.io",
                    "repository:library/alpine:pull",
                )
            ],
        ),
        ('Basic realm="Registry Realm"', [Challenge("basic", "Registry Realm")]),
        (
            'bearer realm="https://r/t", scope="repository:a:pull,push", error="insufficient"',
            [Challenge("bearer", "https://r/t", "", "repository:a:pull,push")],
        ),
        ("Bearer realm=https://r/t,service=reg", [Challenge("bearer", "https://r/t", "reg")]),
        ('Bearer realm="a\\"b"', [Challenge("bearer", 'a"b')]),
        (
            'Basic realm="x", Bearer realm="https://r/t",service="s"',
            [Challenge("basic", "x"), Challenge("bearer", "https://r/t", "s")],
        ),
        ("", []),
    ],
)
def test_parse_challenges(header: str, want: list[Challenge]) -> None:
    assert parse_challenges(header) == want


def test_pick_prefers_bearer() -> None:
    response = httpx.Response(
        401,
        headers=[
            ("WWW-Authenticate", 'Basic realm="x"'),
            ("WWW-Authenticate", 'Bearer realm="https://r/t"'),
        ],
    )
    assert pick_challenge(response) == Challenge("bearer", "https://r/t")


class TokenServer:
    """Counts token requests; answers with numbered tokens of a given lifetime."""

    def __init__(self, lifetime: int | None = 300, status: int = 200) -> None:
        self.lifetime, self.status, self.calls = lifetime, status, 0

    def send(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        body: dict[str, object] = {"token": f"t{self.calls}"}
        if self.lifetime is not None:
            body["expires_in"] = self.lifetime
        return httpx.Response(self.status, json=body, request=request)


def authenticator(
    server: TokenServer, now: list[float], creds: Credentials | None = None
) -> Authenticator:
    auth = Authenticator("reg.test", creds, server.send, clock=lambda: now[0])
    auth.learn(Challenge("bearer", "https://auth.test/token", "reg.test"))
    return auth


def test_token_cached_per_scope_until_it_expires() -> None:
    server, now = TokenServer(lifetime=100), [0.0]
    auth = authenticator(server, now)
    assert auth.header("repository:a:pull") == "Bearer t1"
    assert auth.header("repository:a:pull") == "Bearer t1"
    assert auth.header("repository:b:pull") == "Bearer t2"
    now[0] = 96.0  # refreshed a little before the registry would refuse it
    assert auth.header("repository:a:pull") == "Bearer t3"


def test_token_without_expires_in_lives_60_seconds() -> None:
    server, now = TokenServer(lifetime=None), [0.0]
    auth = authenticator(server, now)
    auth.header("s")
    now[0] = 50.0
    auth.header("s")
    assert server.calls == 1
    now[0] = 56.0
    auth.header("s")
    assert server.calls == 2


def test_no_challenge_means_no_header() -> None:
    assert Authenticator("reg.test", None, TokenServer().send).header("s") is None


def test_token_server_failure_is_a_registry_error() -> None:
    auth = authenticator(TokenServer(status=500), [0.0])
    with pytest.raises(RegistryError, match="HTTP 500"):
        auth.header("s")


def test_realm_must_be_a_url() -> None:
    auth = Authenticator("reg.test", None, TokenServer().send)
    auth.learn(Challenge("bearer", "not-a-url"))
    with pytest.raises(AuthError, match="realm"):
        auth.header("s")


def test_unsupported_scheme() -> None:
    auth = Authenticator("reg.test", None, TokenServer().send)
    auth.learn(Challenge("negotiate"))
    with pytest.raises(AuthError, match="negotiate"):
        auth.header("s")


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("-3", 0.0),
        ("100000", 120.0),
        ("soon", None),
        ("", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after(value: str, want: float | None) -> None:
    response = httpx.Response(429, headers={"Retry-After": value} if value else {})
    assert retry_after(response) == want


def test_retry_after_date_in_the_future() -> None:
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after(response, now=lambda: 1445412470.0) == 10.0


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
