"""Pieces shared by the SemVer 2.0 family (npm, Go, cargo, NuGet): prerelease precedence."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from spyglass.versions.key import Key

RELEASE: Key = (1,)
"""The prerelease key of a release: above every prerelease."""


def numeric(identifier: str) -> bool:
    """True for an identifier of ASCII digits only (SemVer compares those as numbers)."""
    return identifier.isascii() and identifier.isdigit()


def prerelease_key(ids: Sequence[str], fold: Callable[[str], str] = str) -> Key:
    """SemVer 2.0 §11: numeric identifiers numerically and below alphanumeric ones, which
    compare in ASCII order (after ``fold``); a longer list wins when one is a prefix."""
    if not ids:
        return RELEASE
    return (0, *((0, int(i)) if numeric(i) else (1, fold(i)) for i in ids))
