"""npm versions ordered as node-semver 7 ``compare`` does: SemVer 2.0 precedence, build ignored.

Strict parsing is node-semver's default (``v1.2.3`` allowed, surrounding white space trimmed,
numbers without leading zeros and at most ``Number.MAX_SAFE_INTEGER``, 256 characters at most);
``parse_loose`` is its ``{loose: true}`` mode (``=v 1.2.3``, ``1.2.3beta``, leading zeros).

Written by hand: the PyPI ports measured against node-semver's own fixtures either disagree on
ranges (``node-semver`` 0.9: 7 of 223 range fixtures) or do not implement npm ranges at all
(``semver``, ``semantic-version``); see ``npm_range`` for ranges.
"""

from __future__ import annotations

import re

from spyglass.versions._semver import numeric, prerelease_key
from spyglass.versions.key import Key, invalid

KIND = "npm"
MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1
_NUM = r"0|[1-9]\d*"
_NUM_LOOSE = r"\d+"
_NONNUM = r"\d*[a-zA-Z-][a-zA-Z0-9-]*"
_PRE = rf"(?:-((?:{_NONNUM}|{_NUM})(?:\.(?:{_NONNUM}|{_NUM}))*))"
_PRE_LOOSE = rf"(?:-?((?:{_NONNUM}|{_NUM_LOOSE})(?:\.(?:{_NONNUM}|{_NUM_LOOSE}))*))"
_BUILD = r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))"
FULL_PLAIN = rf"v?({_NUM})\.({_NUM})\.({_NUM}){_PRE}?{_BUILD}?"
LOOSE_PLAIN = rf"[v=\s]*({_NUM_LOOSE})\.({_NUM_LOOSE})\.({_NUM_LOOSE}){_PRE_LOOSE}?{_BUILD}?"
_FULL = re.compile(rf"^{FULL_PLAIN}$", re.ASCII)
_LOOSE = re.compile(rf"^{LOOSE_PLAIN}$", re.ASCII)


def _parts(text: str, loose: bool) -> tuple[int, int, int, tuple[str, ...]]:
    if len(text) > MAX_LENGTH:
        raise invalid(KIND, text, f"longer than {MAX_LENGTH} characters")
    match = (_LOOSE if loose else _FULL).match(text.strip())
    if match is None:
        raise invalid(KIND, text, "not major.minor.patch[-prerelease][+build]")
    major, minor, patch = (int(match.group(i)) for i in (1, 2, 3))
    if max(major, minor, patch) > MAX_SAFE_INTEGER:
        raise invalid(KIND, text, "a version number is above Number.MAX_SAFE_INTEGER")
    pre = tuple(match.group(4).split(".")) if match.group(4) else ()
    return major, minor, patch, pre


def _key(text: str, loose: bool) -> Key:
    major, minor, patch, pre = _parts(text, loose)
    # Loose mode allows "01" as a prerelease identifier; node-semver turns it into the number 1.
    pre = tuple(str(int(i)) if numeric(i) else i for i in pre)
    return (major, minor, patch, prerelease_key(pre))


def key(text: str) -> Key:
    """Sort key of a strict node-semver version."""
    return _key(text, loose=False)


def parse_loose(text: str) -> Key:
    """Sort key under node-semver's ``{loose: true}``."""
    return _key(text, loose=True)


def parts(text: str, loose: bool = False) -> tuple[int, int, int, tuple[str, ...]]:
    """``(major, minor, patch, prerelease identifiers)`` of a version."""
    return _parts(text, loose)


def compare(a: str, b: str, loose: bool = False) -> int:
    """node-semver's ``compare(a, b, {loose})``."""
    ka, kb = _key(a, loose), _key(b, loose)
    return (ka > kb) - (ka < kb)


def canonical(text: str) -> str:
    """node-semver's ``valid()`` output: ``major.minor.patch[-pre]`` without ``v`` or build."""
    major, minor, patch, pre = _parts(text, loose=False)
    return f"{major}.{minor}.{patch}" + (f"-{'.'.join(pre)}" if pre else "")


def valid(text: str) -> bool:
    """True when node-semver parses the version in strict mode."""
    try:
        _parts(text, loose=False)
    except ValueError:
        return False
    return True
