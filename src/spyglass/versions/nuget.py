"""NuGet package versions, ordered as NuGet.Versioning's default ``VersionComparer``.

``MAJOR[.MINOR[.PATCH[.REVISION]]][-label{.label}][+metadata]``: missing parts are 0 (so the
legacy 4-part ``1.0.0.0`` equals ``1.0.0``), numbers may have leading zeros, prerelease labels
compare as SemVer 2.0 but case-insensitively (``OrdinalIgnoreCase``), metadata is ignored.

Written by hand: NuGet.Versioning is .NET; no Python port is maintained.
"""

from __future__ import annotations

import re

from spyglass.versions._semver import prerelease_key
from spyglass.versions.key import Key, invalid

KIND = "nuget"
_INT32_MAX = 2**31 - 1
_LABEL = r"[0-9A-Za-z-]+"
_PATTERN = re.compile(
    rf"\s*([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:\.([0-9]+))?"
    rf"(?:-({_LABEL}(?:\.{_LABEL})*))?(?:\+{_LABEL}(?:\.{_LABEL})*)?\s*",
    re.ASCII,
)


def key(text: str) -> Key:
    """Sort key of a NuGet version."""
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise invalid(KIND, text, "not MAJOR[.MINOR[.PATCH[.REVISION]]][-prerelease][+metadata]")
    numbers = tuple(int(n or 0) for n in match.groups()[:4])
    if max(numbers) > _INT32_MAX:
        raise invalid(KIND, text, "a version number does not fit in a 32-bit integer")
    pre = match.group(5)
    return (*numbers, prerelease_key(pre.split(".") if pre else (), fold=str.upper))


def valid(text: str) -> bool:
    """True when NuGet.Versioning parses the version."""
    try:
        key(text)
    except ValueError:
        return False
    return True
