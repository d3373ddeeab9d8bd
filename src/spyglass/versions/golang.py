"""Go module versions, ordered as ``golang.org/x/mod/semver`` does.

``vMAJOR[.MINOR[.PATCH[-pre][+build]]]``: the shorthands ``v1`` and ``v1.2`` mean ``v1.0.0`` and
``v1.2.0`` and take no prerelease or build; numbers have no leading zeros; build metadata
(``+incompatible``) is ignored; pseudo-versions (``v0.0.0-20191109021931-daa7c04131f5``) are
ordinary prereleases. Two deliberate differences from x/mod: an invalid version raises instead
of sorting first, and the leading ``v`` may be left out, because OSV's Go records
(golang/vulndb) write ``1.2.3``.

Written by hand: x/mod/semver is Go; ~60 lines here reproduce it exactly (checked on its tests).
"""

from __future__ import annotations

import re

from spyglass.versions._semver import prerelease_key
from spyglass.versions.key import Key, invalid

KIND = "golang"
_NUM = r"0|[1-9][0-9]*"
_IDENT = r"[0-9A-Za-z-]+"
_PATTERN = re.compile(
    rf"v?({_NUM})(?:\.({_NUM})(?:\.({_NUM})(?:-({_IDENT}(?:\.{_IDENT})*))?"
    rf"(?:\+({_IDENT}(?:\.{_IDENT})*))?)?)?",
    re.ASCII,
)


def _parts(text: str) -> tuple[int, int, int, tuple[str, ...]]:
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise invalid(KIND, text, "not vMAJOR[.MINOR[.PATCH[-prerelease][+build]]]")
    major, minor, patch, pre, _build = match.groups()
    ids = tuple(pre.split(".")) if pre else ()
    if any(len(i) > 1 and i[0] == "0" and i.isdigit() for i in ids):
        raise invalid(KIND, text, "a numeric prerelease identifier has a leading zero")
    return int(major), int(minor or 0), int(patch or 0), ids


def key(text: str) -> Key:
    """Sort key of a Go module version."""
    major, minor, patch, pre = _parts(text)
    return (major, minor, patch, prerelease_key(pre))


def canonical(text: str) -> str:
    """x/mod's ``Canonical``: ``vMAJOR.MINOR.PATCH[-pre]``, build metadata dropped."""
    major, minor, patch, pre = _parts(text)
    return f"v{major}.{minor}.{patch}" + (f"-{'.'.join(pre)}" if pre else "")


def valid(text: str) -> bool:
    """True for a Go semantic version (with or without the leading ``v``)."""
    try:
        _parts(text)
    except ValueError:
        return False
    return True
