"""Python package versions (PEP 440), ordered and validated by the ``packaging`` library."""

from __future__ import annotations

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version as _Pep440

from spyglass.versions.key import Key, invalid

KIND = "pypi"


def key(text: str) -> Key:
    """Sort key of a PEP 440 version (``packaging.version.Version`` orders itself)."""
    try:
        return (_Pep440(text),)
    except _PackagingInvalid as exc:
        raise invalid(KIND, text, "not a PEP 440 version") from exc


def canonical(text: str) -> str:
    """The normalised spelling PEP 440 gives a version (``1.0-RC1`` -> ``1.0rc1``)."""
    return str(key(text)[0])


def valid(text: str) -> bool:
    """True when ``packaging`` accepts the version."""
    try:
        _Pep440(text)
    except _PackagingInvalid:
        return False
    return True
