"""Configured registries: create, change, delete, and which are due for a poll.

Passwords go in through :class:`~spyglass.store.crypto.SecretBox` and come out only for the
poller and the worker (:func:`credentials`), never in a listing. A kind other than ``oci``
fixes or checks the URL: Docker Hub is ``docker.io``, ECR and ACR have their own host patterns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spyglass.errors import UsageError
from spyglass.store.crypto import SecretBox
from spyglass.store.models import Registry

KINDS = ("oci", "dockerhub", "ecr", "acr")
DEFAULT_INTERVAL = 3600
_HOST = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(:\d{1,5})?$")
_HOSTS = {
    "ecr": (re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"),
            "ACCOUNT.dkr.ecr.REGION.amazonaws.com"),
    "acr": (re.compile(r"^[a-z0-9]{5,50}\.azurecr\.(io|cn|us)$"), "NAME.azurecr.io"),
}


class NameTaken(UsageError):
    """Another registry already has this name."""


@dataclass(frozen=True)
class Credentials:
    """What the poller and the worker log in with."""

    username: str | None
    password: str | None


def host_of(kind: str, url: str) -> tuple[str, bool]:
    """The registry host for ``url`` and whether the URL asked for plain HTTP."""
    text = url.strip().rstrip("/")
    plain = text.lower().startswith("http://")
    host = re.sub(r"^[a-z]+://", "", text, flags=re.IGNORECASE)
    if kind == "dockerhub":
        return "docker.io", False
    if kind in _HOSTS and not _HOSTS[kind][0].match(host):
        raise UsageError(f"{url!r} is not an {kind.upper()} registry URL; use {_HOSTS[kind][1]}")
    if not _HOST.match(host):
        raise UsageError(f"{url!r} is not a registry URL; use HOST[:PORT], e.g. registry:5000")
    return host, plain


def _check(kind: str, repositories: list[str] | None) -> None:
    if kind == "dockerhub" and repositories is None:
        raise UsageError("Docker Hub has no catalog: list the repositories to watch")


def create(session: Session, box: SecretBox, *, name: str, kind: str, url: str,
           username: str | None, password: str | None, insecure: bool,
           repositories: list[str] | None, scan_interval: int, now: datetime) -> Registry:
    """Add a registry; ``NameTaken`` when the name is in use."""
    if session.scalars(select(Registry.id).where(Registry.name == name)).first() is not None:
        raise NameTaken(f"a registry named {name!r} exists; choose another name")
    host, plain = host_of(kind, url)
    _check(kind, repositories)
    registry = Registry(
        name=name, kind=kind, url=host, username=username, insecure=insecure or plain,
        secret=box.encrypt(password) if password is not None else None,
        repositories=repositories, scan_interval=scan_interval, created_at=now,
    )
    session.add(registry)
    session.flush()
    return registry


def update(session: Session, box: SecretBox, registry: Registry, changes: dict[str, Any]) -> None:
    """Apply the fields in ``changes`` (as the API names them) to ``registry``."""
    if "name" in changes and changes["name"] != registry.name:
        taken = select(Registry.id).where(Registry.name == changes["name"])
        if session.scalars(taken).first() is not None:
            raise NameTaken(f"a registry named {changes['name']!r} exists; choose another name")
    kind = changes.get("kind", registry.kind)
    if "kind" in changes or "url" in changes:
        host, plain = host_of(kind, changes.get("url", registry.url))
        registry.kind, registry.url = kind, host
        registry.insecure = registry.insecure or plain
    if "password" in changes:
        password = changes.pop("password")
        registry.secret = box.encrypt(password) if password is not None else None
    for key in ("name", "username", "insecure", "repositories", "scan_interval"):
        if key in changes:
            setattr(registry, key, changes[key])
    _check(registry.kind, registry.repositories)
    session.flush()


def listing(session: Session) -> list[Registry]:
    """Every registry, by name."""
    return list(session.scalars(select(Registry).order_by(Registry.name)).all())


def due(session: Session, now: datetime) -> list[int]:
    """Registries never polled, or last polled at least their interval ago."""
    rows = session.execute(
        select(Registry.id, Registry.last_polled_at, Registry.scan_interval)
    ).all()
    return [r.id for r in rows
            if r.last_polled_at is None
            or r.last_polled_at + timedelta(seconds=r.scan_interval) <= now]


def credentials(box: SecretBox, registry: Registry) -> Credentials:
    """The registry's username and decrypted password."""
    password = box.decrypt(registry.secret, f"registry {registry.name!r}") \
        if registry.secret is not None else None
    return Credentials(registry.username, password)
