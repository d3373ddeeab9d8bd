"""Debian package versions, ordered and validated as dpkg 1.21 does.

Ordering is ``dpkg --compare-versions``: epoch numerically, then upstream version and revision by
dpkg's ``verrevcmp`` (alternating non-digit runs, compared character by character with ``~``
before the end of the string before letters before everything else, and digit runs compared as
numbers). ``compare`` accepts what ``dpkg --compare-versions`` accepts: dpkg only *warns* about
bad characters or an upstream version that does not start with a digit
(``6.0-4.el6.x86_64``), and such versions do reach package databases. ``valid`` is stricter and
answers as ``dpkg --validate-version`` does (warnings count as invalid).

Written by hand: python-debian's ``Version`` orders correctly but re-parses both strings with
regular expressions on every comparison (measured ~50 µs a comparison against ~0.1 µs for the
cached tuple keys here) and refuses versions that dpkg compares with a warning.
"""

from __future__ import annotations

import string

from spyglass.versions.key import Key, invalid

KIND = "deb"
_INT_MAX = 2**31 - 1
_ALNUM = frozenset((string.ascii_letters + string.digits).encode())
_UPSTREAM_OK = _ALNUM | frozenset(b".-+~:")
_REVISION_OK = _ALNUM | frozenset(b".+~")
_DIGITS = frozenset(b"0123456789")


def _weight(byte: int) -> int:
    # dpkg's order(): letters by code, '~' below the end of string (0), anything else above
    # letters. It reads a signed char, so bytes >= 0x80 land between letters and punctuation.
    if byte in _DIGITS:
        return 0
    if chr(byte).isascii() and chr(byte).isalpha():
        return byte
    if byte == ord("~"):
        return -1
    return byte + 256 if byte < 0x80 else byte


_WEIGHTS = tuple(_weight(b) for b in range(256))
_END = ((0,), 0)


def verrevcmp_key(part: str) -> Key:
    """The sort key of an upstream version or revision under dpkg's ``verrevcmp``.

    Each (non-digit run, number) pair is a tuple element; a terminator equal to an empty pair
    closes the key so that a longer string compares against "nothing left" as dpkg does.
    """
    data = part.encode()
    pairs: list[tuple[tuple[int, ...], int]] = []
    i, n = 0, len(data)
    while True:
        j = i
        while j < n and data[j] not in _DIGITS:
            j += 1
        k = j
        while k < n and data[k] in _DIGITS:
            k += 1
        weights = (*(_WEIGHTS[c] for c in data[i:j]), 0)
        pairs.append((weights, int(data[j:k] or b"0")))
        i = k
        if i >= n:
            break
    pairs.append(_END)
    return tuple(pairs)


def _epoch(text: str, field: str) -> int:
    digits = field.lstrip("\n\v\f\r")  # strtol() skips leading white space
    body = digits[1:] if digits[:1] in ("+", "-") else digits
    if not body:
        raise invalid(KIND, text, "epoch in version is empty")
    if not (body.isascii() and body.isdigit()):
        raise invalid(KIND, text, "epoch in version is not number")
    value = -int(body) if digits[:1] == "-" else int(body)
    if value < 0:
        raise invalid(KIND, text, "epoch in version is negative")
    if value > _INT_MAX:
        raise invalid(KIND, text, "epoch in version is too big")
    return value


def split(text: str) -> tuple[int, str, str]:
    """``(epoch, upstream, revision)``; raises ``InvalidVersion`` where dpkg reports an error."""
    s = text.strip(" \t")
    if not s:
        raise invalid(KIND, text, "version string is empty")
    if " " in s or "\t" in s:
        raise invalid(KIND, text, "version string has embedded spaces")
    epoch, colon = 0, s.find(":")
    if colon >= 0:
        epoch = _epoch(text, s[:colon])
        s = s[colon + 1 :]
        if not s:
            raise invalid(KIND, text, "nothing after colon in version number")
    upstream, hyphen, revision = s.rpartition("-")
    if not hyphen:
        upstream, revision = s, ""
    elif not revision:
        raise invalid(KIND, text, "revision number is empty")
    if not upstream:
        raise invalid(KIND, text, "version number is empty")
    return epoch, upstream, revision


def warning(upstream: str, revision: str) -> str:
    """What ``dpkg`` warns about in an otherwise parseable version, or ``""``."""
    up, rev = upstream.encode(), revision.encode()
    if up[0] not in _DIGITS:
        return "version number does not start with digit"
    if not set(up) <= _UPSTREAM_OK:
        return "invalid character in version number"
    if not set(rev) <= _REVISION_OK:
        return "invalid character in revision number"
    return ""


def key(text: str) -> Key:
    """Sort key of a dpkg version (accepts what ``dpkg --compare-versions`` accepts)."""
    epoch, upstream, revision = split(text)
    return (epoch, verrevcmp_key(upstream), verrevcmp_key(revision))


def valid(text: str) -> bool:
    """True when ``dpkg --validate-version`` accepts the version (no error and no warning)."""
    try:
        _, upstream, revision = split(text)
    except ValueError:
        return False
    return not warning(upstream, revision)
