"""The parsed form every comparator returns: a version string with an orderable key.

A key is a plain tuple built once per string (and cached), so that the millions of comparisons
a matcher makes are tuple comparisons in C rather than string parsing in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyglass.errors import InvalidVersion

Key = tuple[Any, ...]
"""An ecosystem's sort key: equal keys mean equal versions; only keys of one kind compare."""


@dataclass(frozen=True, eq=False, slots=True)
class Version:
    """A version of one ecosystem: ordered and hashed by its key, printed as its text."""

    kind: str
    text: str
    key: Key

    def _other(self, other: object) -> Key:
        if not isinstance(other, Version):
            raise TypeError(f"cannot order a {self.kind} version against {type(other).__name__}")
        if other.kind != self.kind:
            raise TypeError(f"cannot order a {self.kind} version against a {other.kind} version")
        return other.key

    def __lt__(self, other: object) -> bool:
        return self.key < self._other(other)

    def __le__(self, other: object) -> bool:
        return self.key <= self._other(other)

    def __gt__(self, other: object) -> bool:
        return self.key > self._other(other)

    def __ge__(self, other: object) -> bool:
        return self.key >= self._other(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self.kind == other.kind and self.key == other.key

    def __hash__(self) -> int:
        return hash((self.kind, self.key))

    def __str__(self) -> str:
        return self.text


def invalid(kind: str, text: str, why: str) -> InvalidVersion:
    """The error for a version the ecosystem rejects (callers ``raise`` it)."""
    return InvalidVersion(kind, text, why)
