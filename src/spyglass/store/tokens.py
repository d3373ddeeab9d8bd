"""API bearer tokens: created once, shown once, stored as a SHA-256 digest.

A token is 32 random bytes (``spy_`` + URL-safe base64), so a fast hash is enough: there is no
dictionary to try, and the lookup on every request stays one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from spyglass.errors import UsageError
from spyglass.store.models import ApiToken

ROLES = ("admin", "viewer")
PREFIX = "spy_"


@dataclass(frozen=True)
class TokenInfo:
    """A stored token without its secret."""

    id: int
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, role: str, name: str, *, now: datetime) -> tuple[TokenInfo, str]:
    """Store a new token; returns its info and the secret (never retrievable again)."""
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}; choose {' or '.join(ROLES)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, token_hash=_digest(secret), created_at=now)
    session.add(row)
    session.flush()
    return _info(row), secret


def verify_token(session: Session, secret: str, *, now: datetime) -> TokenInfo | None:
    """The live token ``secret`` belongs to, or ``None``; records when it was last used."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == _digest(secret))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now  # at most once a minute: reads should not all become writes
    return _info(row)


def list_tokens(session: Session) -> list[TokenInfo]:
    """Every token, oldest first."""
    return [_info(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(session: Session, token_id: int, *, now: datetime) -> bool:
    """Revoke a token by id; False when there is no such live token."""
    result = session.execute(
        update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.role, row.created_at, row.last_used_at,
                     row.revoked_at is not None)
