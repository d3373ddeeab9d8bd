"""Rust crate versions (SemVer 2.0 as the ``semver`` crate parses it), ordered by precedence.

``MAJOR.MINOR.PATCH[-pre][+build]`` with no leading zeros in numbers or numeric prerelease
identifiers. Build metadata is ignored, as SemVer 2.0 §10 and Cargo's requirement matching do
(the crate's ``Ord`` alone breaks ties on it; no advisory range depends on that).

Written by hand: a dozen lines on the shared SemVer helpers; the PyPI ``semver`` package would
do, but it adds a dependency to save those lines and differs on what it accepts.
"""

from __future__ import annotations

import re

from spyglass.versions._semver import prerelease_key
from spyglass.versions.key import Key, invalid

KIND = "cargo"
_NUM = r"0|[1-9][0-9]*"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_PATTERN = re.compile(
    rf"({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)


def key(text: str) -> Key:
    """Sort key of a SemVer 2.0 version."""
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise invalid(KIND, text, "not MAJOR.MINOR.PATCH[-prerelease][+build] (SemVer 2.0)")
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch), prerelease_key(pre.split(".") if pre else ()))


def valid(text: str) -> bool:
    """True for a SemVer 2.0 version."""
    return _PATTERN.fullmatch(text) is not None
