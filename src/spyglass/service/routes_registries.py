"""The ``/api/v1/registries`` routes: create, list, read, update, delete, and "scan now".

Reads need any token, writes an admin token. The password is write-only: responses say only
whether one is stored (``has_password``). "Scan now" resolves every watched tag at once and
queues its current digest, whether or not it was scanned before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, Field

from spyglass.jobs.poll import poll_registry, send
from spyglass.service.auth import Admin, Viewer, runtime_of
from spyglass.store import registries
from spyglass.store.crypto import SecretBox
from spyglass.store.models import Registry, utcnow

router = APIRouter(prefix="/api/v1/registries", tags=["registries"])

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Kind = Literal["oci", "dockerhub", "ecr", "acr"]
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Text = Annotated[str, Field(min_length=1, max_length=500, pattern=PRINTABLE)]
RepoName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[a-z0-9][a-z0-9._/-]*$")]
Interval = Annotated[int, Field(ge=60, le=30 * 86400, description="seconds between polls")]


class RegistryIn(BaseModel):
    """A registry to add; ``repositories`` null means every repository in the catalog."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
    kind: Kind = "oci"
    url: Text = Field(default="docker.io", examples=["registry.example.com:5000"])
    username: Text | None = None
    password: Annotated[str | None, Field(max_length=10_000, pattern=PRINTABLE,
                                          json_schema_extra={"writeOnly": True})] = None
    insecure: bool = False
    repositories: list[RepoName] | None = Field(default=None, max_length=10_000)
    scan_interval: Interval = registries.DEFAULT_INTERVAL


class RegistryPatch(BaseModel):
    """Fields to change; absent fields stay; ``password: null`` removes the password."""

    name: Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)] | None = None
    kind: Kind | None = None
    url: Text | None = None
    username: Text | None = None
    password: Annotated[str | None, Field(max_length=10_000, pattern=PRINTABLE,
                                          json_schema_extra={"writeOnly": True})] = None
    insecure: bool | None = None
    repositories: list[RepoName] | None = Field(default=None, max_length=10_000)
    scan_interval: Interval | None = None


class RegistryOut(BaseModel):
    """A configured registry; its password is never returned."""

    id: int
    name: str
    kind: str
    url: str
    username: str | None
    has_password: bool
    insecure: bool
    repositories: list[str] | None
    scan_interval: int
    last_polled_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, r: Registry) -> RegistryOut:
        """From a store row."""
        return cls(id=r.id, name=r.name, kind=r.kind, url=r.url, username=r.username,
                   has_password=r.secret is not None, insecure=r.insecure,
                   repositories=r.repositories, scan_interval=r.scan_interval,
                   last_polled_at=r.last_polled_at, created_at=r.created_at)


class ScanNow(BaseModel):
    """What "scan now" found and queued."""

    registry_id: int
    tags: int = Field(description="watched tags resolved to a digest")
    queued: list[int] = Field(description="ids of the queue entries created")
    failures: list[str] = Field(description="repositories or requests that failed, and why")


def _box(request: Request) -> SecretBox:
    return SecretBox.from_config(runtime_of(request).settings.data_dir)


def _conflict(exc: registries.NameTaken) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


@router.post("", response_model=RegistryOut, status_code=status.HTTP_201_CREATED)
def create_registry(body: RegistryIn, request: Request, _: Admin) -> RegistryOut:
    """Add a registry to poll."""
    box = _box(request)
    try:
        with runtime_of(request).db.transaction() as session:
            created = registries.create(session, box, **body.model_dump(), now=utcnow())
    except registries.NameTaken as exc:
        raise _conflict(exc) from exc
    return RegistryOut.of(created)


@router.get("", response_model=list[RegistryOut])
def list_registries(request: Request, _: Viewer) -> list[RegistryOut]:
    """Every configured registry, by name."""
    with runtime_of(request).db.transaction() as session:
        return [RegistryOut.of(r) for r in registries.listing(session)]


def _found(session_get: Registry | None, registry_id: int) -> Registry:
    if session_get is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no registry {registry_id}")
    return session_get


@router.get("/{registry_id}", response_model=RegistryOut)
def get_registry(registry_id: Id, request: Request, _: Viewer) -> RegistryOut:
    """One registry."""
    with runtime_of(request).db.transaction() as session:
        return RegistryOut.of(_found(session.get(Registry, registry_id), registry_id))


def _changes(body: RegistryPatch) -> dict[str, object]:
    # Only these may be set to null on purpose; a null elsewhere means "unchanged".
    nullable = ("username", "password", "repositories")
    given = body.model_dump(exclude_unset=True)
    return {k: v for k, v in given.items() if v is not None or k in nullable}


@router.patch("/{registry_id}", response_model=RegistryOut)
def update_registry(registry_id: Id, body: RegistryPatch, request: Request,
                    _: Admin) -> RegistryOut:
    """Change some of a registry's settings."""
    box = _box(request)
    try:
        with runtime_of(request).db.transaction() as session:
            found = _found(session.get(Registry, registry_id), registry_id)
            registries.update(session, box, found, _changes(body))
    except registries.NameTaken as exc:
        raise _conflict(exc) from exc
    return RegistryOut.of(found)


@router.delete("/{registry_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_registry(registry_id: Id, request: Request, _: Admin) -> Response:
    """Forget a registry (its scanned images and findings stay)."""
    with runtime_of(request).db.transaction() as session:
        session.delete(_found(session.get(Registry, registry_id), registry_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{registry_id}/scan", response_model=ScanNow,
             status_code=status.HTTP_202_ACCEPTED)
def scan_registry(registry_id: Id, request: Request, _: Admin) -> ScanNow:
    """Scan now: queue every watched tag's current digest."""
    with runtime_of(request).db.transaction() as session:
        _found(session.get(Registry, registry_id), registry_id)
    poll = poll_registry(runtime_of(request), registry_id, every_tag=True)
    send(request.app.state.jobs, [poll])
    return ScanNow(registry_id=registry_id, tags=len(poll.digests), queued=poll.queued,
                   failures=poll.failures)
