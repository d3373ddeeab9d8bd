"""Parse the text manifest CBL-Mariner distroless images carry instead of an rpm database.

``var/lib/rpmmanifest/container-manifest-2`` has one package a line, tab-separated, as written
by ``rpm -qa --qf`` at image build time: NAME, VERSION-RELEASE, INSTALLTIME, BUILDTIME, VENDOR,
EPOCH, SIZE, ARCH, EPOCHNUM, SOURCERPM. ``(none)`` is rpm's word for an absent tag. A line that
does not fit is reported and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

from spyglass.analyze.pkgdb.rpm.header import BadRecord, RpmHeader

_FIELDS = 10
_NONE = "(none)"


def parse_manifest(text: str) -> Iterator[RpmHeader | BadRecord]:
    """One RpmHeader per package line (no file list), or a BadRecord naming the line."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield _parse_line(line, number)


def _parse_line(line: str, number: int) -> RpmHeader | BadRecord:
    fields = line.rstrip("\r").split("\t")
    if len(fields) < _FIELDS or not fields[0] or not fields[1]:
        return BadRecord(number, f"line {number} has {len(fields)} fields, expected {_FIELDS}")
    name, version_release, _, _, vendor, epoch, _, arch, _, source_rpm = fields[:_FIELDS]
    if epoch != _NONE and not epoch.isdigit():
        return BadRecord(number, f"line {number} has a non-numeric epoch {epoch!r}")
    version, dash, release = version_release.rpartition("-")
    return RpmHeader(
        name=name,
        version=version if dash else release,
        release=release if dash else None,
        epoch=None if epoch == _NONE else int(epoch),
        arch=_value(arch),
        source_rpm=_value(source_rpm),
        license=None,
        vendor=_value(vendor),
        modularity_label=None,
        files=(),
    )


def _value(field: str) -> str | None:
    return None if field in (_NONE, "") else field
