"""RubyGems versions, ordered as ``Gem::Version#<=>`` (RubyGems 3.5).

A version is dot-separated numbers and letter runs (``1.2.b1`` = ``1.2.b.1``; ``-`` reads as
``.pre.``). Trailing zeros of the release part and of the prerelease part are dropped
(``1.0`` = ``1``), any letter run makes a prerelease, letter runs sort before numbers and
among themselves by code, and a missing segment counts as ``0`` (``1.a < 1 < 1.0.1``).

The key makes that zero padding a plain tuple comparison: each non-zero segment is stored with
the count of zeros before it, so "fewer zeros then a number" sorts higher and "fewer zeros then
letters" sorts lower, exactly as comparing against padding would. Written by hand: RubyGems is
Ruby; its algorithm is ~30 lines.
"""

from __future__ import annotations

import re

from spyglass.versions.key import Key, invalid

KIND = "gem"
_PATTERN = re.compile(
    r"\s*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?\s*", re.ASCII
)
_SEGMENT = re.compile(r"[0-9]+|[a-z]+", re.ASCII | re.IGNORECASE)
_END = (1,)


def canonical_segments(text: str) -> list[int | str]:
    """``Gem::Version#canonical_segments`` (raises ``InvalidVersion`` when not ``correct?``)."""
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise invalid(KIND, text, "Gem::Version does not accept it (Malformed version number)")
    version = (match.group(1) or "0").replace("-", ".pre.")
    segments: list[int | str] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(version)]
    first_string = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    parts = [segments[:first_string], segments[first_string:]]
    for part in parts:
        while part and part[-1] == 0:
            part.pop()
    return parts[0] + parts[1]


def key(text: str) -> Key:
    """Sort key of a RubyGems version."""
    out: list[tuple[object, ...]] = []
    zeros = 0
    for segment in canonical_segments(text):
        if segment == 0:
            zeros += 1
        elif isinstance(segment, str):
            out.append((0, zeros, segment))
            zeros = 0
        else:
            out.append((2, -zeros, segment))
            zeros = 0
    out.append(_END)
    return tuple(out)


def valid(text: str) -> bool:
    """``Gem::Version.correct?``."""
    return _PATTERN.fullmatch(text) is not None
