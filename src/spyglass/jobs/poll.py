"""Polling registries: list their repositories and tags, and queue each tag whose digest is new.

A periodic task (every minute) polls the registries whose interval has passed; "scan now"
polls one registry at once and queues every watched tag's current digest, scanned or not. Each
registry kind's provider (``spyglass.integrations``: OCI, Docker Hub, ECR, ACR) logs in and
lists; only listing and ``HEAD`` requests (ECR: its API) reach the registry here: an image is
pulled by the worker, and only for a digest the store has not seen. Queueing goes through
``store.queue.submit``, so a digest that is already queued or being scanned is not queued twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from spyglass.errors import AuthError, RegistryError, SpyglassError
from spyglass.image.interface import OpenOptions, Platform
from spyglass.integrations import Link, provider_for
from spyglass.integrations.interface import RegistryProvider
from spyglass.jobs.runtime import Runtime
from spyglass.store import queue, registries
from spyglass.store.crypto import SecretBox
from spyglass.store.models import Image, QueueEntry, Registry, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Poll:
    """What one poll found: every watched tag's digest, the entries it queued, what failed."""

    registry_id: int
    digests: dict[str, str] = field(default_factory=dict)
    """``host/repo:tag`` -> manifest digest."""
    queued: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def open_options(runtime: Runtime, registry_id: int | None, platform: str) -> OpenOptions:
    """How to reach an image of ``registry_id`` (its credentials, insecure flag)."""
    if registry_id is None:
        return OpenOptions(platform=Platform.parse(platform))
    with runtime.db.transaction() as session:
        registry = session.get(Registry, registry_id)
        if registry is None:  # deleted since the entry was queued: pull as anonymous
            return OpenOptions(platform=Platform.parse(platform))
        return _options(runtime, registry, platform)


def _provider(runtime: Runtime, registry: Registry) -> RegistryProvider:
    """The kind's provider (OCI, Docker Hub, ECR, ACR): it logs in and lists the registry."""
    creds = registries.credentials(SecretBox.from_config(runtime.settings.data_dir), registry)
    link = Link(registry.kind, registry.url, creds.username, creds.password, registry.insecure)
    return provider_for(link)


def _options(runtime: Runtime, registry: Registry, platform: str) -> OpenOptions:
    return _provider(runtime, registry).options(OpenOptions(platform=Platform.parse(platform)))


def _watched(provider: RegistryProvider, registry: Registry) -> list[str]:
    if registry.repositories is not None:
        return list(registry.repositories)
    return provider.repositories()


CLI_ADVICE = ("docker login", "--username")
"""What the registry client advises a command-line user to do about credentials."""


def failure(registry: Registry, exc: SpyglassError) -> str:
    """What a person reads about a failed poll. The registry client's advice on credentials
    (``docker login``, ``--username``) is for the CLI: here they live in the registry's record,
    so the advice says how to change them through the API. Other advice (an ECR or Entra role)
    is kept."""
    message = str(exc)
    if not isinstance(exc, AuthError):
        return message
    patch = f"PATCH /api/v1/registries/{registry.id} with a username and password"
    what, _, advice = message.partition("; ")  # messages read "what failed; what to do"
    if advice and not any(cli in advice for cli in CLI_ADVICE):
        return f"{message}; or update the registry's credentials with {patch}"
    if registry.username is None:
        return f"{what}; if the repository is private, give the registry credentials with {patch}"
    return f"{what}; check the registry's credentials and update them with {patch}"


def _resolve(provider: RegistryProvider, registry: Registry, found: Poll) -> None:
    for repository in _watched(provider, registry):
        try:
            for tag, digest in provider.tags(repository):
                found.digests[f"{registry.url}/{repository}:{tag}"] = digest
        except RegistryError as exc:  # one broken repository must not hide the others
            found.failures.append(failure(registry, exc))


def _known(session: Session, digest: str) -> bool:
    """Scanned already, or has a queue entry (queued, sent, or finished and not yet purged)."""
    scanned = select(Image.id).where(Image.digest == digest, Image.scanned_at.is_not(None))
    entry = select(QueueEntry.id).where(QueueEntry.digest == digest)
    return session.scalars(scanned).first() is not None or \
        session.scalars(entry).first() is not None


def poll_registry(runtime: Runtime, registry_id: int, *, every_tag: bool = False) -> Poll:
    """Resolve every watched tag and queue the new digests (all of them with ``every_tag``).

    The caller sends the queued entry ids to the workers.
    """
    found = Poll(registry_id)
    with runtime.db.transaction() as session:
        registry = session.get(Registry, registry_id)
        if registry is None:  # deleted since it was found due
            return found
        registry.last_polled_at = utcnow()  # a failing registry waits its interval too
        provider = _provider(runtime, registry)
    try:
        _resolve(provider, registry, found)
    except SpyglassError as exc:  # the login, the catalog or the registry itself failed
        found.failures.append(failure(registry, exc))
    with runtime.db.transaction() as session:
        for reference, digest in found.digests.items():
            if not every_tag and _known(session, digest):
                continue
            entry, created = queue.submit(session, f"{reference}@{digest}", digest=digest,
                                          registry_id=registry_id, now=utcnow())
            if created:
                found.queued.append(entry.id)
    for failed in found.failures:
        log.warning("polling registry %r: %s", registry.name, failed)
    return found


def poll_due(runtime: Runtime) -> list[Poll]:
    """Poll every registry whose interval has passed since its last poll."""
    with runtime.db.transaction() as session:
        ids = registries.due(session, utcnow())
    return [poll_registry(runtime, registry_id) for registry_id in ids]


class Sender(Protocol):
    """What sends entries to the workers (``jobs.tasks.Jobs``)."""

    @property
    def runtime(self) -> Runtime: ...

    def enqueue_scan(self, entry_id: int) -> bool: ...


def send(jobs: Sender, polls: list[Poll]) -> list[Poll]:
    """Send every entry the polls queued to the workers; the polls."""
    for poll in polls:
        for entry_id in poll.queued:
            jobs.enqueue_scan(entry_id)
    return polls


def poll_and_send(jobs: Sender) -> list[Poll]:
    """The periodic task: poll the due registries and send what they queued."""
    return send(jobs, poll_due(jobs.runtime))
