"""Registry failures turned into the error tree, each with a message that says what to do.

The registry's own error body (``{"errors": [{"code": "MANIFEST_UNKNOWN", …}]}``) is quoted
when there is one, so a person sees what the registry said and not only the status code.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, NoReturn

import httpx

from spyglass.errors import (
    AuthError,
    NotFoundError,
    RateLimited,
    RegistryError,
    RegistryUnreachable,
)
from spyglass.image.reference import DOCKER_HUB
from spyglass.image.registry.retry import is_retryable

if TYPE_CHECKING:
    from spyglass.image.registry.client import RegistryClient

_MAX_ERROR_BODY = 64 << 10


def raise_for_status(response: httpx.Response, client: RegistryClient, what: str) -> None:
    """Return on 2xx; otherwise close the response and raise the matching registry error."""
    if response.is_success:
        return
    try:
        detail = _detail(response)
    finally:
        response.close()
    _raise(response.status_code, detail, client, what)


def _raise(code: int, detail: str, client: RegistryClient, what: str) -> NoReturn:
    retries = client.options.retries
    if code == 404:
        raise NotFoundError(f"{what} not found{detail}; check the repository name, tag or digest")
    if code in (401, 403):
        raise AuthError(_refused(client, what, code, detail))
    if code == 429:
        hint = (
            " (Docker Hub allows more pulls to logged-in users)"
            if client.registry == DOCKER_HUB
            else ""
        )
        raise RateLimited(
            f"{client.host} still answered 429 Too Many Requests for {what} after {retries} "
            f"retries{detail}; wait and try again{hint}"
        )
    if code >= 500:
        raise RegistryError(
            f"{client.host} answered HTTP {code} for {what} after {retries} retries{detail}; "
            "the registry is failing, try again later"
        )
    raise RegistryError(f"{client.host} answered HTTP {code} for {what}{detail}")


def _refused(client: RegistryClient, what: str, code: int, detail: str) -> str:
    login = f"`docker login {client.registry}`"
    if client.auth.credentials is None:
        return (
            f"{client.registry} refused anonymous access to {what} (HTTP {code}{detail}); the "
            f"repository may not exist, or it is private: run {login} or pass --username and "
            "--password"
        )
    return (
        f"{client.registry} refused the credentials for {what} (HTTP {code}{detail}); check "
        f"them with {login} or pass --username and --password with access to the repository"
    )


def _detail(response: httpx.Response) -> str:
    """The registry's error codes and messages, as ``": CODE: message"``, or empty."""
    try:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > _MAX_ERROR_BODY:
                return ""
        entries = json.loads(body).get("errors") or []
        said = [f"{e.get('code', '?')}: {e.get('message', '')}".strip() for e in entries]
    except (httpx.HTTPError, ValueError, AttributeError, TypeError):
        return ""
    return f": {'; '.join(said)}" if said else ""


def unreachable(
    client: RegistryClient, request: httpx.Request, exc: httpx.TransportError
) -> RegistryUnreachable:
    """The error for a request that never got an answer (connection, TLS, timeout)."""
    where = f"{request.url.scheme}://{request.url.netloc.decode()}"
    reason = _reason(exc, client)
    advice = "check the host name, the network and any proxy settings"
    if not is_retryable(exc):
        advice = "the certificate is not trusted: give the registry's CA with the ca_bundle option"
    elif request.url.scheme == "https" and not client.insecure:
        advice += (
            f"; if {client.registry} serves plain HTTP, allow it with "
            f"--insecure-registry {client.registry}"
        )
    return RegistryUnreachable(f"cannot reach {client.registry} at {where} ({reason}); {advice}")


def _reason(exc: httpx.TransportError, client: RegistryClient) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection within {client.options.connect_timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {client.options.read_timeout:g} s"
    return str(exc) or type(exc).__name__
