"""RPM versions: ``rpmvercmp`` and EVR (``[epoch:]version[-release]``) ordering as rpm 4.18.

``rpmvercmp`` splits a string into runs of ASCII digits and ASCII letters (everything else only
separates them); ``~`` sorts before everything including the end of the string, ``^`` sorts
after the end of the string but before any further run, digit runs compare as numbers and beat
letter runs, letter runs compare as bytes. An EVR compares epoch (missing = 0), then version,
then release, where a missing release sorts before any release (``rpm.labelCompare``).

Written by hand: the only pure-Python port on PyPI (``rpm-vercmp``) predates ``^`` and has not
been released since 2018, and rpm's own bindings exist only for the system Python (the test
suite uses them as the oracle).
"""

from __future__ import annotations

import string

from spyglass.versions.key import Key, invalid

KIND = "rpm"
_DIGITS = frozenset(string.digits)
_LETTERS = frozenset(string.ascii_letters)
# Token ranks: "~" < end of string < "^" < letters < digits.
_TILDE, _END, _CARET, _ALPHA, _NUM = 0, 1, 2, 3, 4


def vercmp_key(part: str) -> Key:
    """Sort key of one version or release string under ``rpmvercmp``."""
    tokens: list[tuple[int, object]] = []
    i, n = 0, len(part)
    while i < n:
        c = part[i]
        if c == "~" or c == "^":
            tokens.append((_TILDE if c == "~" else _CARET, 0))
            i += 1
            continue
        run = _DIGITS if c in _DIGITS else _LETTERS if c in _LETTERS else None
        if run is None:
            i += 1
            continue
        j = i + 1
        while j < n and part[j] in run:
            j += 1
        tokens.append((_NUM, int(part[i:j])) if run is _DIGITS else (_ALPHA, part[i:j]))
        i = j
    tokens.append((_END, 0))
    return tuple(tokens)


def vercmp(a: str, b: str) -> int:
    """``rpmvercmp(a, b)``: -1, 0 or 1 for two bare version (or release) strings."""
    ka, kb = vercmp_key(a), vercmp_key(b)
    return (ka > kb) - (ka < kb)


def split(text: str) -> tuple[int, str, str | None]:
    """``(epoch, version, release)`` as rpm's ``parseEVR`` splits them; release may be None."""
    i = 0
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    epoch = 0
    rest = text
    if i < len(text) and text[i] == ":":
        epoch = int(text[:i] or "0")
        rest = text[i + 1 :]
    version, hyphen, release = rest.rpartition("-")
    if not hyphen:
        version, release = rest, ""
    if not version:
        raise invalid(KIND, text, "the version part is empty")
    if hyphen and not release:
        raise invalid(KIND, text, "the release after '-' is empty")
    if any(c.isspace() for c in text):
        raise invalid(KIND, text, "white space is not allowed in an rpm version")
    return epoch, version, release if hyphen else None


def key(text: str) -> Key:
    """Sort key of an rpm EVR; a missing release sorts before any release."""
    epoch, version, release = split(text)
    return (epoch, vercmp_key(version), () if release is None else vercmp_key(release))


def valid(text: str) -> bool:
    """True when the text splits into a non-empty version (and release, after a ``-``)."""
    try:
        split(text)
    except ValueError:
        return False
    return True
