"""Azure Container Registry: a Microsoft Entra token exchanged for an ACR refresh token.

As ``az acr login`` does: ``GET /v2/`` gives the registry's challenge (``realm``, ``service``);
an Entra access token (azure-identity: ``ClientSecretCredential`` for a service principal,
else ``DefaultAzureCredential``) is posted to ``/oauth2/exchange`` beside the realm
(``grant_type=access_token``, ``service``, ``tenant``, ``access_token``); the refresh token it
answers is the password of user ``00000000-0000-0000-0000-000000000000`` until it expires.
An admin-user or repository-token login is used as it is. Listing is the OCI catalog's.
The JWT payload is read by hand (no signature check: only its expiry and tenant are read, and
the registry itself checks the token); azure-identity and httpx do everything else.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from azure.core.exceptions import AzureError, ClientAuthenticationError, ServiceRequestError
from azure.identity import ClientSecretCredential, DefaultAzureCredential

from spyglass.errors import AuthError, RegistryError, RegistryUnreachable, UsageError
from spyglass.image.interface import OpenOptions
from spyglass.image.registry.auth import Challenge
from spyglass.image.registry.client import RegistryClient, read_limited
from spyglass.integrations.interface import Grant, Link, Login
from spyglass.integrations.oci import OciProvider

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential

ACR_USER = "00000000-0000-0000-0000-000000000000"
"""The username that tells ACR the password is a refresh token from ``/oauth2/exchange``."""
ARM_SCOPE = "https://management.azure.com/.default"
_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)
_MAX_ANSWER = 1 << 20


class AcrProvider(OciProvider):
    """An Azure Container Registry, logged in to through Microsoft Entra ID."""

    name = "registry/acr"
    version = 1

    def __init__(self, link: Link, *, credential: TokenCredential | None = None,
                 **kwargs: Any) -> None:
        super().__init__(link, **kwargs)
        if (link.username is None) != (link.password is None):
            raise UsageError(f"the login for ACR {link.host} needs both a username (client id) "
                             "and a password (secret); give both, or neither to use "
                             "DefaultAzureCredential")
        self._credential = credential

    def login(self) -> Grant:
        """A refresh token for the registry, or the configured admin-user / token login."""
        link = self.link
        if self._credential is None and link.username is not None and not self._is_principal():
            return Grant(Login(link.username, link.password or ""))
        with RegistryClient(link.host, link.open_options(OpenOptions(username=ACR_USER,
                                                                     password=""))) as client:
            challenge = _challenge(client)
            access = self._entra_token()
            refresh = _exchange(client, challenge, access.token, self._tenant(access.token))
        expires = _claims(refresh).get("exp")
        return Grant(Login(ACR_USER, refresh),
                     float(expires) if isinstance(expires, int | float) else access.expires_on)

    def _is_principal(self) -> bool:
        return bool(_GUID.match(self.link.username or "")) and bool(self._configured_tenant())

    def _configured_tenant(self) -> str | None:
        return self.link.tenant or os.environ.get("AZURE_TENANT_ID") or None

    def _tenant(self, access_token: str) -> str | None:
        tid = _claims(access_token).get("tid")
        return self._configured_tenant() or (str(tid) if tid else None)

    def _entra_token(self) -> AccessToken:
        scope = self.link.scope or ARM_SCOPE
        try:
            return self._identity().get_token(scope)
        except (AzureError, ValueError) as exc:
            raise _entra_error(exc, scope) from exc

    def _identity(self) -> TokenCredential:
        if self._credential is None:
            self._credential = self._make_credential()
        return self._credential

    def _make_credential(self) -> TokenCredential:
        link = self.link
        options: dict[str, Any] = {}
        authority = link.authority or os.environ.get("AZURE_AUTHORITY_HOST")
        if authority:
            # A configured authority is trusted: MSAL would otherwise ask the public cloud's
            # instance discovery about it, which fails for sovereign and private clouds.
            options.update(authority=authority, disable_instance_discovery=True)
        if link.ca_bundle:
            options["connection_verify"] = link.ca_bundle
        if link.username is not None and link.password is not None:
            return ClientSecretCredential(self._configured_tenant() or "", link.username,
                                          link.password, **options)
        return DefaultAzureCredential(**options)


def _entra_error(exc: BaseException, scope: str) -> RegistryError:
    """azure-identity reports a network failure as an authentication one; the cause tells."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ServiceRequestError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return RegistryUnreachable(f"Microsoft Entra ID cannot be reached ({_first_line(cause)}); "
                                   "check the network, proxy, authority host and CA bundle")
    if isinstance(exc, ClientAuthenticationError):
        return AuthError(f"Microsoft Entra ID gave no token for {scope} ({_first_line(exc)}); "
                         "check the client id, secret and tenant, or `az login` / the managed "
                         "identity")
    return AuthError(f"could not get a Microsoft Entra token for {scope}: {_first_line(exc)}; "
                     "check the tenant and authority host")


def _challenge(client: RegistryClient) -> Challenge:
    client.ping()
    challenge = client.auth.challenge
    if challenge is None or challenge.scheme != "bearer" or not challenge.realm:
        raise RegistryError(f"{client.host} does not ask for an ACR bearer token at /v2/; "
                            "check that it is an Azure Container Registry login server")
    return challenge


def _exchange(client: RegistryClient, challenge: Challenge, access_token: str,
              tenant: str | None) -> str:
    realm = urlsplit(challenge.realm)
    url = f"{realm.scheme}://{realm.netloc}/oauth2/exchange"
    form = {"grant_type": "access_token", "service": challenge.service or client.host,
            "access_token": access_token, **({"tenant": tenant} if tenant else {})}
    response = client.send(httpx.Request("POST", url, data=form))
    try:
        body = read_limited(response, _MAX_ANSWER, "the ACR token exchange", client.host)
    finally:
        response.close()
    return _refresh_token(response.status_code, body, client.host)


def _refresh_token(status: int, body: bytes, host: str) -> str:
    if status in (401, 403):
        raise AuthError(f"{host} refused the Microsoft Entra token (HTTP {status}); the identity "
                        "needs a role on the registry such as AcrPull, and the registry must "
                        "allow Entra authentication")
    if status != 200:
        raise RegistryError(f"the token exchange of {host} answered HTTP {status}; try again")
    try:
        token = json.loads(body).get("refresh_token")
    except (ValueError, AttributeError) as exc:
        raise RegistryError(f"the token exchange of {host} answered something not JSON") from exc
    if not isinstance(token, str) or not token:
        raise RegistryError(f"the token exchange of {host} answered no refresh_token")
    return token


def _claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified; empty when the token is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
