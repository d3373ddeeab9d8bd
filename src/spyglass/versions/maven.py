"""Maven versions, ordered as Apache Maven's ``ComparableVersion`` (maven-artifact, Maven 4).

A version becomes nested lists of items: numbers, qualifiers (``alpha`` < ``beta`` <
``milestone`` < ``rc`` = ``cr`` < ``snapshot`` < release (``""``, ``ga``, ``final``,
``release``) < ``sp`` < unknown ones in lexical order, case-insensitive) and letter-number
combinations (``a1`` = ``alpha-1``); ``-`` opens a sub-list, and trailing null items (``0``,
release qualifiers, empty lists) are dropped. Items of different kinds compare by fixed rules
(``1.1 > 1-1 > 1-sp``), and a missing item compares as "null" (``1.0 == 1``, ``1-rc < 1``).

That comparison is recursive and depends on the other side's shape, so the key is a small
object whose ordering runs the same rules instead of a flat tuple. Written by hand: Maven is
Java; ``univers``' port (measured) misorders ``2.0.a`` and ``2-1`` and predates combinations.
"""

from __future__ import annotations

from typing import Any

from spyglass.versions.key import Key, invalid

KIND = "maven"
MAX_LENGTH = 256
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RELEASE = frozenset(("ga", "final", "release"))
_RELEASE_INDEX = str(_QUALIFIERS.index(""))
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}

# Items: ("i", int) number, ("s", str) qualifier, ("c", str, int) combination, ("l", [items]).
Item = tuple[Any, ...]


def _qualifier_rank(value: str) -> str:
    """``comparableQualifier``: a string whose lexical order is the qualifier order."""
    if value in _RELEASE:
        return _RELEASE_INDEX
    return str(_QUALIFIERS.index(value)) if value in _QUALIFIERS else f"{len(_QUALIFIERS)}-{value}"


def _string_item(value: str, followed_by_digit: bool) -> Item:
    if followed_by_digit and len(value) == 1:
        value = _SHORT.get(value, value)
    return ("s", "rc" if value == "cr" else value)


def _parse_item(combination: bool, digit: bool, buf: str) -> Item:
    if combination:
        buf = buf.replace("-", "")
        index = next((i for i, c in enumerate(buf) if c.isdigit()), 0)
        return ("c", _string_item(buf[:index], True)[1], int(buf[index:] or "0"))
    if digit:
        return ("i", int(buf or "0"))
    return ("s", "rc" if buf == "cr" else buf)


def _cmp_int(n: int, other: Item | None) -> int:
    if other is None:
        return 1 if n else 0
    if other[0] == "i":
        theirs: int = other[1]
        return (n > theirs) - (n < theirs)
    return 1  # 1.1 > 1-sp, 1.1 > 1-1


def _cmp_str(value: str, other: Item | None) -> int:
    mine = _qualifier_rank(value)
    if other is None:
        return (mine > _RELEASE_INDEX) - (mine < _RELEASE_INDEX)  # 1-rc < 1, 1-sp > 1
    kind = other[0]
    if kind == "i":
        return -1
    if kind == "s":
        theirs = _qualifier_rank(other[1])
        return (mine > theirs) - (mine < theirs)
    if kind == "c":
        result = _cmp_str(value, ("s", other[1]))
        if result == 0:
            return -_cmp_int(other[2], None) if _cmp_str(value, None) == 0 else -1
        return result
    return -_compare(other, ("s", value))


def _cmp_combination(item: Item, other: Item | None) -> int:
    _, text, digits = item
    if other is None:
        result = _cmp_str(text, None)
        return _cmp_int(digits, None) if result == 0 else result
    kind = other[0]
    if kind == "i":
        return -1
    if kind == "s":
        result = _cmp_str(text, other)
        if result == 0:
            return _cmp_int(digits, None) if _cmp_str(text, None) == 0 else 1  # X1 > X
        return result
    if kind == "c":
        result = _cmp_str(text, ("s", other[1]))
        return _cmp_int(digits, ("i", other[2])) if result == 0 else result
    return -_compare(other, item)


def _cmp_list(items: tuple[Item, ...], other: Item | None) -> int:
    if other is None:
        return next((r for r in (_compare(i, None) for i in items) if r), 0)
    kind = other[0]
    if kind == "i":
        return -1  # 1-1 < 1.0.x
    if kind in ("s", "c"):
        result = _compare(items[0], other) if items else -_compare(other, None)
        for rest in items[1:]:
            if result:
                break
            result = _compare(rest, None)
        return result
    theirs = other[1]
    for i in range(max(len(items), len(theirs))):
        left = items[i] if i < len(items) else None
        right = theirs[i] if i < len(theirs) else None
        if left is None:
            result = 0 if right is None else -_compare(right, None)
        else:
            result = _compare(left, right)
        if result:
            return result
    return 0


def _compare(item: Item, other: Item | None) -> int:
    """``item.compareTo(other)`` of ComparableVersion's item classes (``other`` may be null)."""
    kind = item[0]
    if kind == "i":
        return _cmp_int(item[1], other)
    if kind == "s":
        return _cmp_str(item[1], other)
    if kind == "c":
        return _cmp_combination(item, other)
    return _cmp_list(item[1], other)


def _is_null(item: Item) -> bool:
    kind = item[0]
    if kind == "i":
        return bool(item[1] == 0)
    if kind == "s":
        return bool(item[1] == "")
    return kind == "l" and not item[1]


def _starts_with_qualifier(item: Item) -> bool:
    return bool(item[0] == "l" and item[1] and item[1][0][0] in ("c", "s"))


def _normalize(items: list[Item]) -> list[Item]:
    """``ListItem.normalize``: drop null items that end the list or precede a qualifier."""
    for i in range(len(items) - 1, -1, -1):
        if not _is_null(items[i]):
            continue
        following = items[i + 1] if i + 1 < len(items) else None
        if following is None or following[0] == "s" or _starts_with_qualifier(following):
            del items[i]
    if len(items) == 1 and items[0][0] == "l":
        return list(items[0][1])
    return items


class _Builder:
    """The parser's stack of open lists; ``close`` normalises them innermost first."""

    def __init__(self) -> None:
        self.stack: list[list[Item]] = [[]]

    @property
    def top(self) -> list[Item]:
        return self.stack[-1]

    def open(self) -> None:
        self.stack.append([])

    def close(self) -> tuple[Item, ...]:
        inner: list[Item] | None = None
        while self.stack:
            items = self.stack.pop()
            if inner is not None:
                items.append(("l", tuple(_normalize(inner))))
            inner = items
        return tuple(_normalize(inner or []))


def _ascii_digit(c: str) -> bool:
    return "0" <= c <= "9"


def parse_items(version: str) -> tuple[Item, ...]:
    """``ComparableVersion.parseVersion``: the normalised item list of a version."""
    text = version.lower()
    build = _Builder()
    digit = combination = False
    start = 0
    for i, c in enumerate(text):
        if c == "." or c == "-":
            if i == start:
                build.top.append(("i", 0))
            elif c == "-" and not digit and i + 1 < len(text) and text[i + 1].isdecimal():
                combination = True  # X-1 is read as X1
                continue
            else:
                build.top.append(_parse_item(combination, digit, text[start:i]))
            start = i + 1
            if c == "-" and build.top:
                build.open()
            combination = False
        elif _ascii_digit(c):
            if not digit and i > start:
                combination = True
                if build.top:
                    build.open()
            digit = True
        else:
            if digit and i > start:
                build.top.append(_parse_item(combination, True, text[start:i]))
                start = i
                build.open()
                combination = False
            digit = False
    if len(text) > start:
        if not digit and build.top:
            build.open()  # treat .X as -X for a string qualifier X
        build.top.append(_parse_item(combination, digit, text[start:]))
    return build.close()


class MavenKey:
    """Orders like ``ComparableVersion.compareTo``; hashes by the leading numbers only (equal
    versions always share them, so hashing stays consistent with equality)."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Item, ...]) -> None:
        self.items = items

    def _cmp(self, other: object) -> int:
        if not isinstance(other, MavenKey):
            raise TypeError("a Maven version orders only against another")
        return _compare(("l", self.items), ("l", other.items))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenKey) and self._cmp(other) == 0

    def __lt__(self, other: object) -> bool:
        return self._cmp(other) < 0

    def __le__(self, other: object) -> bool:
        return self._cmp(other) <= 0

    def __gt__(self, other: object) -> bool:
        return self._cmp(other) > 0

    def __ge__(self, other: object) -> bool:
        return self._cmp(other) >= 0

    def __hash__(self) -> int:
        numbers = []
        for item in self.items:
            if item[0] != "i":
                break
            numbers.append(item[1])
        while numbers and numbers[-1] == 0:
            numbers.pop()
        return hash(tuple(numbers))


def key(text: str) -> Key:
    """Sort key of a Maven version."""
    if not text:
        raise invalid(KIND, text, "the version is empty")
    if len(text) > MAX_LENGTH:
        raise invalid(KIND, text, f"longer than Maven's limit of {MAX_LENGTH} characters")
    return (MavenKey(parse_items(text)),)


def valid(text: str) -> bool:
    """True for any non-empty version of at most 256 characters (Maven parses anything)."""
    return 0 < len(text) <= MAX_LENGTH
