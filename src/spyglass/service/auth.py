"""Bearer-token authentication: every ``/api/v1`` route needs a token, writes need ``admin``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from spyglass.jobs.runtime import Runtime
from spyglass.store.models import utcnow
from spyglass.store.tokens import TokenInfo, verify_token

bearer = HTTPBearer(auto_error=False, description="a token from `spyglass token create`")


def runtime_of(request: Request) -> Runtime:
    """The runtime the app was created with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail,
                         headers={"WWW-Authenticate": "Bearer"})


def viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenInfo:
    """Any live token (``viewer`` or ``admin``)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("a bearer token is required; create one with "
                            "`spyglass token create --role viewer`")
    with runtime_of(request).db.transaction() as session:
        token = verify_token(session, credentials.credentials, now=utcnow())
    if token is None:
        raise _unauthorized("the bearer token is unknown or revoked")
    return token


def admin(token: Annotated[TokenInfo, Depends(viewer)]) -> TokenInfo:
    """A live ``admin`` token."""
    if token.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "this needs an admin token (`spyglass token create --role admin`)")
    return token


Viewer = Annotated[TokenInfo, Depends(viewer)]
Admin = Annotated[TokenInfo, Depends(admin)]
