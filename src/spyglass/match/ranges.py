"""OSV range evaluation: is one installed version inside an affected entry's ranges or list.

Follows the OSV schema's evaluation rules: a range's events are sorted by version (stable, so
the source's order breaks ties); ``introduced`` opens, ``fixed`` closes at that version,
``last_affected`` closes after it; ``introduced: "0"`` is below every version; ``limit`` events
cap the range (``"*"`` is no cap). An explicit ``versions`` list matches on equal versions
(falling back to equal text for listed versions that do not parse). ECOSYSTEM and SEMVER ranges
are both compared with the package ecosystem's own rules (every SEMVER ecosystem's comparator
orders SemVer correctly).

Written by hand: the only Python OSV evaluators (``osv`` on PyPI, osv.dev's) are the server's
code with their own comparators; this one takes the comparator as a function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from spyglass.errors import InvalidVersion
from spyglass.vulndb.model import RANGE_TYPES, Affected, Event, Range

Parse = Callable[[str], Any]
"""Version text to an orderable value of one ecosystem; raises ``InvalidVersion``."""

_ZERO, _INFINITE = "0", "*"
_BOTTOM, _VALUE, _TOP = 0, 1, 2  # sort classes: "0" below everything, "*" above


@dataclass(frozen=True)
class Verdict:
    """Whether the version is affected, and the fixes that end the ranges it falls in."""

    affected: bool
    fixed: tuple[str, ...] = ()


NOT_AFFECTED = Verdict(False)


def _position(event: Event, parse: Parse) -> tuple[int, Any]:
    if event.kind == "introduced" and event.version == _ZERO:
        return (_BOTTOM, None)
    if event.kind == "limit" and event.version == _INFINITE:
        return (_TOP, None)
    return (_VALUE, parse(event.version))


def _sorted(events: Sequence[Event], parse: Parse) -> list[tuple[tuple[int, Any], Event]]:
    keyed = [(_position(e, parse), e) for e in events]
    # Only the class and the parsed value order events; ties keep the source's order.
    keyed.sort(key=lambda item: _SortKey(item[0]))
    return keyed


class _SortKey:
    """Orders (class, value) pairs without comparing ``None`` values."""

    __slots__ = ("pos",)

    def __init__(self, pos: tuple[int, Any]) -> None:
        self.pos = pos

    def __lt__(self, other: _SortKey) -> bool:
        if self.pos[0] != other.pos[0]:
            return bool(self.pos[0] < other.pos[0])
        return self.pos[0] == _VALUE and bool(self.pos[1] < other.pos[1])


def _below(version: Any, pos: tuple[int, Any]) -> bool:
    """``version < pos``."""
    return pos[0] == _TOP or (pos[0] == _VALUE and bool(version < pos[1]))


def _closes(event: Event, pos: tuple[int, Any], version: Any) -> bool:
    """``fixed`` at or below the version, or ``last_affected`` strictly below it."""
    if event.kind == "fixed":
        return not _below(version, pos)
    return event.kind == "last_affected" and pos[0] == _VALUE and bool(version > pos[1])


def in_range(version: Any, rng: Range, parse: Parse) -> Verdict:
    """Evaluate one range for an already parsed version; raises ``InvalidVersion`` on an event."""
    events = _sorted(rng.events, parse)
    limits = [pos for pos, e in events if e.kind == "limit"]
    if limits and not any(_below(version, pos) for pos in limits):
        return NOT_AFFECTED
    affected, fix = False, None
    for pos, event in events:
        if event.kind == "introduced" and not _below(version, pos):
            affected, fix = True, None
        elif _closes(event, pos, version):
            affected = False
        elif event.kind == "fixed" and affected and fix is None:
            fix = event.version  # the first fix above the version closes its interval
    return Verdict(True, (fix,) if fix else ()) if affected else NOT_AFFECTED


def _listed(version: Any, text: str, listed: Sequence[str], parse: Parse) -> bool:
    for item in listed:
        if item == text:
            return True
        try:
            if parse(item) == version:
                return True
        except InvalidVersion:
            continue  # a listed version this ecosystem cannot read is only matched as text
    return False


def evaluate(text: str, affected: Affected, parse: Parse) -> Verdict:
    """Is version ``text`` affected? Raises ``InvalidVersion`` when it cannot be decided.

    An unparseable installed version always raises. An unparseable event only raises when no
    other range or listed version already answers "affected".
    """
    version = parse(text)
    fixed: list[str] = []
    hit = _listed(version, text, affected.versions, parse)
    failure: InvalidVersion | None = None
    for rng in affected.ranges:
        if rng.type not in RANGE_TYPES:
            continue
        try:
            verdict = in_range(version, rng, parse)
        except InvalidVersion as exc:
            failure = failure or exc
            continue
        hit = hit or verdict.affected
        fixed.extend(f for f in verdict.fixed if f not in fixed)
    if hit:
        return Verdict(True, tuple(fixed))
    if failure is not None:
        raise failure
    return NOT_AFFECTED
