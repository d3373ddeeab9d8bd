"""Open any IMAGE argument: a transport prefix, a local path, or a registry reference.

    docker-archive:PATH[:NAME:TAG | :@N]    ``docker save`` output (plain or gzip)
    oci:PATH[:NAME]                          an OCI image layout directory
    oci-archive:PATH[:NAME]                  a tar of an OCI layout
    registry:REF                             a registry reference, said explicitly
    PATH[:NAME]                              an existing file or layout, recognised by content
    REF                                      anything else: ``alpine``, ``ghcr.io/o/app@sha256:…``

A path may itself contain ``:``, so the longest prefix that exists on disk is the path and the
rest names the image inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from spyglass.errors import ArchiveError, PlatformNotFound, UsageError
from spyglass.image.archive import docker_archive_from_store
from spyglass.image.archivefs import TarStore
from spyglass.image.interface import Image, OpenOptions
from spyglass.image.layout import open_layout_store, open_oci_archive, open_oci_layout
from spyglass.image.manifest import platform_satisfies

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")


@contextmanager
def open_image(spec: str, options: OpenOptions) -> Iterator[Image]:
    """Open the image ``spec`` names; it is closed when the block ends."""
    image = _open(spec.strip(), options)
    try:
        _check_platform(spec.strip(), image, options)
        yield image
    finally:
        image.close()


def _check_platform(spec: str, image: Image, options: OpenOptions) -> None:
    """An explicitly requested platform must be the image's (an index already chose by it)."""
    if options.platform_explicit and not platform_satisfies(image.platform, options.platform):
        raise PlatformNotFound(
            f"{spec} was found but is for {image.platform}, not {options.platform} as --platform "
            f"asked; drop --platform to scan it as it is, or name an image built for "
            f"{options.platform}"
        )


def _open(spec: str, options: OpenOptions) -> Image:
    if not spec:
        raise UsageError("no image given; name a registry reference, an archive or a layout")
    transport, sep, rest = spec.partition(":")
    openers: dict[str, Callable[[str, OpenOptions], Image]] = {
        "docker-archive": _docker_archive,
        "oci": _oci_layout,
        "oci-archive": _oci_archive,
        "registry": _registry,
    }
    if sep and transport in openers:
        return openers[transport](rest, options)
    local = split_existing(spec)
    if local is not None and _looks_local(spec, local[0]):
        return _open_local(local[0], local[1], options)
    if local is None and _meant_as_path(spec):
        raise ArchiveError(f"{spec.split(':')[0]}: no such file or directory")
    return _registry(spec, options)


def _meant_as_path(spec: str) -> bool:
    """``./x``, ``/x`` or ``x.tar`` that does not exist is a typo, not a registry name."""
    head = spec.split(":")[0]
    return spec.startswith((".", "/", "~")) or head.endswith(ARCHIVE_SUFFIXES)


def split_existing(text: str, want_dir: bool | None = None) -> tuple[Path, str | None] | None:
    """(path, rest) for the longest prefix of ``text`` ending at a ``:`` that exists on disk."""
    cuts = [len(text)] + [i for i in range(len(text) - 1, 0, -1) if text[i] == ":"]
    for cut in cuts:
        path = Path(text[:cut]).expanduser()
        kind_ok = want_dir is None or path.is_dir() == want_dir
        if path.exists() and kind_ok:
            return path, (text[cut + 1 :] or None) if cut < len(text) else None
    return None


def _looks_local(spec: str, path: Path) -> bool:
    """An existing path wins over a registry name only when it is plainly meant as one."""
    return (
        spec.startswith((".", "/", "~"))
        or str(path).endswith(ARCHIVE_SUFFIXES)
        or path.is_file()
        or (path / "index.json").is_file()
    )


def _open_local(path: Path, name: str | None, options: OpenOptions) -> Image:
    """A file is a docker-archive or an oci-archive by what it holds; a directory a layout."""
    if path.is_dir():
        return open_oci_layout(path, name, options)
    store = TarStore(path)
    try:
        if store.exists("manifest.json"):
            return docker_archive_from_store(store, name)
        if store.exists("index.json"):
            reference = f"oci-archive:{path}" + (f":{name}" if name else "")
            return open_layout_store(store, name, options, reference)
        return docker_archive_from_store(store, name)  # raises with the reason
    except BaseException:
        store.close()
        raise


def _existing(rest: str, what: str, want_dir: bool) -> tuple[Path, str | None]:
    found = split_existing(rest, want_dir)
    if found is None:
        kind = "directory" if want_dir else "file"
        raise ArchiveError(f"{what}: no such {kind}: {rest.split(':')[0] or rest!r}")
    return found


def _docker_archive(rest: str, options: OpenOptions) -> Image:
    path, name = _existing(rest, "docker-archive", want_dir=False)
    store = TarStore(path)
    try:
        if store.exists("manifest.json") or not store.exists("index.json"):
            return docker_archive_from_store(store, name)
        # An archive with only the OCI layout (no manifest.json) is read as one.
        return open_layout_store(store, name, options, f"docker-archive:{rest}")
    except BaseException:
        store.close()
        raise


def _oci_layout(rest: str, options: OpenOptions) -> Image:
    path, name = _existing(rest, "oci", want_dir=True)
    return open_oci_layout(path, name, options)


def _oci_archive(rest: str, options: OpenOptions) -> Image:
    path, name = _existing(rest, "oci-archive", want_dir=False)
    return open_oci_archive(path, name, options)


def _registry(rest: str, options: OpenOptions) -> Image:
    # Imported here so that local sources work without the registry stack's imports.
    from spyglass.image.reference import Reference
    from spyglass.image.registry import open_registry_image

    return open_registry_image(Reference.parse(rest), options)

