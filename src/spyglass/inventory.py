"""The inventory: what an image holds. The artifact between analysis and matching.

The indexer (``analyze/``) produces it, the matcher (``match/``) and the store read it; nothing
else crosses between them. Every type here is a frozen dataclass with a JSON form
(``to_dict`` / ``from_dict``) so that inventories can be cached, stored and re-matched later
without pulling the image again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, NewType

Digest = NewType("Digest", str)
"""A content digest such as ``sha256:9f86d0…``."""

DiffId = NewType("DiffId", str)
"""The digest of a layer's uncompressed tar stream (the config's ``rootfs.diff_ids``)."""


@dataclass(frozen=True)
class OSRelease:
    """The distribution an image is built on, as detected from its release files."""

    family: str
    """Lower-case distro id: ``debian``, ``ubuntu``, ``alpine``, ``wolfi``, ``chainguard``,
    ``redhat``, ``centos``, ``rocky``, ``alma``, ``fedora``, ``oracle``, ``amazon``,
    ``opensuse-leap``, ``opensuse-tumbleweed``, ``sles``, ``photon``, ``cbl-mariner``,
    ``azurelinux``, ``distroless``…"""
    version: str
    """The release as the distro names it (``12``, ``3.19.1``, ``22.04``, ``9.3``); may be empty."""
    name: str = ""
    """The human name (``PRETTY_NAME``), for display only."""
    codename: str = ""
    """``VERSION_CODENAME`` where the distro has one (``bookworm``, ``jammy``)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OSRelease:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class Package:
    """One installed package or library.

    ``version`` is the version as the ecosystem writes it *without* the epoch for rpm
    (``version``-``release`` are separate fields there) and *with* it for dpkg (``1:2.3-4``),
    because that is how each ecosystem's own tools print and compare them.
    """

    name: str
    version: str
    ecosystem: str
    """The purl type: ``deb``, ``rpm``, ``apk``, ``pypi``, ``npm``, ``maven``, ``golang``,
    ``cargo``, ``gem``, ``composer``, ``nuget``."""
    epoch: int | None = None
    """rpm epoch; ``None`` when the EPOCH tag is absent (which rpm treats as 0)."""
    release: str | None = None
    """rpm release (``4.cm2``)."""
    arch: str | None = None
    source_name: str | None = None
    """Source package: dpkg ``Source:``, apk origin (``o:``), the name in an rpm's SOURCERPM."""
    source_version: str | None = None
    source_release: str | None = None
    licenses: tuple[str, ...] = ()
    purl: str = ""
    path: str = ""
    """Where in the image the package was found (no leading slash): the database or manifest."""
    layer: DiffId | None = None
    """The diff_id of the layer that introduced this package (set when layers are merged)."""
    analyzer: str = ""
    """Name of the analyzer that found it (``pkgdb/dpkg``)."""
    extra: tuple[tuple[str, str], ...] = ()
    """Ecosystem-specific details as sorted (key, value) pairs (``modularitylabel``, ``vendor``)."""

    @property
    def full_version(self) -> str:
        """The version as the ecosystem compares it: rpm ``[epoch:]version-release``."""
        if self.ecosystem == "rpm":
            evr = f"{self.version}-{self.release}" if self.release else self.version
            return f"{self.epoch}:{evr}" if self.epoch else evr
        return self.version

    def to_dict(self) -> dict[str, Any]:
        """JSON form (tuples become lists)."""
        data = asdict(self)
        data["licenses"] = list(self.licenses)
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Package:
        """Inverse of :meth:`to_dict`."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["licenses"] = tuple(values.get("licenses") or ())
        values["extra"] = tuple(sorted((values.get("extra") or {}).items()))
        return cls(**values)


@dataclass(frozen=True)
class Secret:
    """A secret found in file content; ``match`` is always redacted."""

    rule_id: str
    title: str
    severity: str
    path: str
    line: int
    match: str
    layer: DiffId | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Secret:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class Unknown:
    """Something the scan could not read, with the reason: data, not an abort."""

    path: str
    reason: str
    analyzer: str = ""
    layer: DiffId | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Unknown:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class LayerInfo:
    """One layer of the image as the scan saw it."""

    digest: Digest
    diff_id: DiffId
    size: int
    media_type: str
    created_by: str = ""
    cached: bool = False
    """True when the layer's analysis came from the cache (the layer was not read)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class Inventory:
    """Everything the scan found in one image."""

    reference: str
    digest: Digest | None
    """Manifest digest (registry images and layouts); ``None`` for sources without one."""
    platform: str
    """``os/arch[/variant]``."""
    os: OSRelease | None
    layers: tuple[LayerInfo, ...]
    packages: tuple[Package, ...]
    secrets: tuple[Secret, ...] = ()
    unknowns: tuple[Unknown, ...] = ()
    analyzers: tuple[tuple[str, int], ...] = field(default=())
    """(name, version) of every analyzer that ran, so stale results can be recognised."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "reference": self.reference,
            "digest": self.digest,
            "platform": self.platform,
            "os": self.os.to_dict() if self.os else None,
            "layers": [layer.to_dict() for layer in self.layers],
            "packages": [p.to_dict() for p in self.packages],
            "secrets": [s.to_dict() for s in self.secrets],
            "unknowns": [u.to_dict() for u in self.unknowns],
            "analyzers": [{"name": n, "version": v} for n, v in self.analyzers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inventory:
        """Inverse of :meth:`to_dict`."""
        return cls(
            reference=data["reference"],
            digest=data.get("digest"),
            platform=data.get("platform", ""),
            os=OSRelease.from_dict(data["os"]) if data.get("os") else None,
            layers=tuple(LayerInfo.from_dict(x) for x in data.get("layers", ())),
            packages=tuple(Package.from_dict(x) for x in data.get("packages", ())),
            secrets=tuple(Secret.from_dict(x) for x in data.get("secrets", ())),
            unknowns=tuple(Unknown.from_dict(x) for x in data.get("unknowns", ())),
            analyzers=tuple((a["name"], a["version"]) for a in data.get("analyzers", ())),
        )
