"""Version comparison for every ecosystem Spyglass matches, each by its own tool's rules.

    compare(kind, a, b) -> -1 | 0 | 1      e.g. compare("deb", "1:2.0~rc1-1", "1:2.0-1") == -1
    parse(kind, text)   -> Version          orderable and hashable; cached
    valid(kind, text)   -> bool

``kind`` is a purl type: ``deb`` ``rpm`` ``apk`` ``pypi`` ``npm`` ``maven`` ``golang`` ``gem``
``cargo`` ``nuget`` ``composer``. A version the ecosystem rejects raises
``spyglass.errors.InvalidVersion``; an unknown kind raises ``UsageError``. Each module's
docstring names the tool it follows and any deliberate difference.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from spyglass.errors import UsageError
from spyglass.versions import (
    apk,
    cargo,
    composer,
    dpkg,
    gem,
    golang,
    maven,
    npm,
    nuget,
    pep440,
    rpm,
)
from spyglass.versions.key import Key, Version

__all__ = ["KINDS", "Key", "Version", "compare", "parse", "valid"]

_MODULES = (dpkg, rpm, apk, pep440, npm, maven, golang, gem, cargo, nuget, composer)
_KEYS: dict[str, Callable[[str], Key]] = {m.KIND: m.key for m in _MODULES}
_VALID: dict[str, Callable[[str], bool]] = {m.KIND: m.valid for m in _MODULES}
KINDS: tuple[str, ...] = tuple(_KEYS)
"""Every supported ``kind`` (purl type)."""


def _unknown(kind: str) -> UsageError:
    return UsageError(f"no version comparison for {kind!r}; known kinds: {', '.join(KINDS)}")


@lru_cache(maxsize=1 << 17)
def parse(kind: str, text: str) -> Version:
    """The parsed, orderable version; raises ``InvalidVersion`` or ``UsageError``."""
    try:
        make_key = _KEYS[kind]
    except KeyError:
        raise _unknown(kind) from None
    return Version(kind, text, make_key(text))


def compare(kind: str, a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b`` in ecosystem ``kind``."""
    ka, kb = parse(kind, a).key, parse(kind, b).key
    return (ka > kb) - (ka < kb)


def valid(kind: str, text: str) -> bool:
    """True when the ecosystem's own tool accepts ``text`` as a version."""
    try:
        return _VALID[kind](text)
    except KeyError:
        raise _unknown(kind) from None
