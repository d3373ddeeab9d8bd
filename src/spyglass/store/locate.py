"""Where an image reference lives: host, repository and tag, for the store's rows.

Registry references use Docker's normalisation (``alpine`` is ``docker.io/library/alpine``).
Archives and layouts (``oci:PATH[:NAME]``, ``docker-archive:…``, a bare path) live on host
``local``; the path is the repository and the name inside it, if any, the tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from spyglass.image.open import split_existing
from spyglass.image.reference import Reference

LOCAL_HOST = "local"
LOCAL_TRANSPORTS = ("docker-archive", "oci", "oci-archive")


@dataclass(frozen=True)
class Location:
    """The repository an image reference names, and the tag if it names one."""

    host: str
    repository: str
    tag: str | None
    reference: str


def locate(reference: str) -> Location:
    """The location of ``reference`` (which must already have opened as an image)."""
    transport, sep, rest = reference.partition(":")
    if sep and transport in LOCAL_TRANSPORTS:
        return _local(f"{transport}:", rest, reference)
    if transport == "registry" and sep:
        reference = rest
    local = split_existing(reference)
    if local is not None and (reference.startswith(("/", ".", "~")) or local[0].is_file()):
        return _local("", reference, reference)
    ref = Reference.parse(reference)
    return Location(ref.registry, ref.repository, ref.tag, str(ref))


def _local(prefix: str, spec: str, reference: str) -> Location:
    found = split_existing(spec)
    if found is None:  # the file went away; keep what was asked, whole
        return Location(LOCAL_HOST, prefix + spec, None, reference)
    path, name = found
    return Location(LOCAL_HOST, prefix + str(path), name, reference)
