"""OSV range evaluation: is one installed version inside an affected entry's ranges or list.

Follows the OSV schema's evaluation rules: a range's events are sorted by version (stable, so
the source's order breaks ties); ``introduced`` opens, ``fixed`` closes at that version,
``last_affected`` closes after it; ``introduced: "0"`` is below every version; ``limit`` events
cap the range (``"*"`` is no cap). An explicit ``versions`` list matches on equal versions
(falling back to equal text for listed versions that do not parse). ECOSYSTEM and SEMVER ranges
are both compared with the package ecosystem's own rules (every SEMVER ecosystem's comparator
orders SemVer correctly).

An entry is compiled once (:func:`compile_entry`: bounds parsed and sorted) and then evaluated
against many versions, so that a warm matcher does tuple comparisons only. Its listed versions
are parsed on first need (:class:`Listed`): only a version outside every range and not listed
verbatim needs them, and parsing every record's list up front was ~40% of an uncached match.

Written by hand: the only Python OSV evaluators (``osv`` on PyPI, osv.dev's) are the server's
code with their own comparators; this one takes the comparator as a function.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from spyglass.errors import InvalidVersion
from spyglass.vulndb.model import RANGE_TYPES, Affected, Event, Range

Parse = Callable[[str], Any]
"""Version text to an orderable, hashable value of one ecosystem; raises ``InvalidVersion``."""

_ZERO, _INFINITE = "0", "*"
_BOTTOM, _VALUE, _TOP = 0, 1, 2  # sort classes: "0" below everything, "*" above

Bound = tuple[int, Any, str, str]
"""(sort class, parsed version or None, event kind, version text) of one event."""


@dataclass(frozen=True)
class Verdict:
    """Whether the version is affected, and the fixes that end the ranges it falls in."""

    affected: bool
    fixed: tuple[str, ...] = ()


NOT_AFFECTED = Verdict(False)


@dataclass(frozen=True, slots=True)
class Cuts:
    """A range that is only alternating ``introduced`` / ``fixed`` events: disjoint intervals.

    The version's place among the sorted bound values (a bisection) then answers alone: after
    an odd number of bounds it is inside an interval, closed by the bound at that position.
    """

    values: tuple[Any, ...]
    """The parsed versions of the bounds, sorted (without a leading ``introduced: "0"``)."""
    base: int
    """1 when the range starts with ``introduced: "0"`` (passed by every version), else 0."""
    fixes: tuple[str, ...]
    """At position ``i``: the fix that ends the interval entered after ``i`` bounds, or ""."""


@dataclass(frozen=True, slots=True)
class CompiledRange:
    """One range's events parsed and sorted, with its limits apart."""

    bounds: tuple[Bound, ...]
    limits: tuple[Bound, ...]
    cuts: Cuts | None = None
    """The same range as intervals, when it has that shape (the usual case)."""


class Listed:
    """An entry's listed versions, parsed when first asked for a version (``version in it``)."""

    __slots__ = ("_parse", "_parsed", "_texts")

    def __init__(self, texts: Sequence[str], parse: Parse) -> None:
        self._texts, self._parse = texts, parse
        self._parsed: frozenset[Any] | None = None

    def __contains__(self, version: object) -> bool:
        parsed = self._parsed
        if parsed is None:  # a benign race: two threads would build the same set
            parsed = self._parsed = _listed(self._texts, self._parse)
        return version in parsed

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Listed) and set(self._texts) == set(other._texts)

    def __hash__(self) -> int:
        return hash(frozenset(self._texts))


@dataclass(frozen=True, slots=True)
class Compiled:
    """An affected entry ready for evaluation against any number of versions."""

    ranges: tuple[CompiledRange, ...]
    listed_text: frozenset[str]
    listed: Listed
    """The same versions parsed: asked only once ``listed_text`` does not hold the version."""
    error: InvalidVersion | None = None
    """The first bound that did not parse (its range is left out): a note, unless another
    range or the versions list already says "affected"."""
    only: Cuts | None = None
    """The cuts of the only range, when that and the versions list are all there is (the
    usual case, which :func:`matches` decides inline)."""


class _Order:
    """Sort key for bounds that never compares ``None`` values."""

    __slots__ = ("bound",)

    def __init__(self, bound: Bound) -> None:
        self.bound = bound

    def __lt__(self, other: _Order) -> bool:
        a, b = self.bound, other.bound
        if a[0] != b[0]:
            return a[0] < b[0]
        return a[0] == _VALUE and bool(a[1] < b[1])


def _bound(event: Event, parse: Parse) -> Bound:
    if event.kind == "introduced" and event.version == _ZERO:
        return (_BOTTOM, None, event.kind, event.version)
    if event.kind == "limit" and event.version == _INFINITE:
        return (_TOP, None, event.kind, event.version)
    return (_VALUE, parse(event.version), event.kind, event.version)


def compile_range(rng: Range, parse: Parse) -> CompiledRange:
    """Parse and sort one range's events; raises ``InvalidVersion`` for a bad bound."""
    if len(rng.events) == 2:
        interval = _interval(rng.events, parse)
        if interval is not None:
            return interval
    return sort_range(rng, parse)


def sort_range(rng: Range, parse: Parse) -> CompiledRange:
    """:func:`compile_range` for any shape of range: its events parsed, then sorted."""
    bounds = sorted((_bound(e, parse) for e in rng.events), key=_Order)
    kept = tuple(b for b in bounds if b[2] != "limit")
    limits = tuple(b for b in bounds if b[2] == "limit")
    return CompiledRange(kept, limits, None if limits else _cuts(kept))


def _interval(events: tuple[Event, ...], parse: Parse) -> CompiledRange | None:
    """The usual range, ``introduced`` then a higher ``fixed``, compiled without sorting (the
    general path's result, at half its cost); ``None`` for any other shape."""
    start, end = events
    if start.kind != "introduced" or end.kind != "fixed":
        return None
    low, high = _bound(start, parse), _bound(end, parse)
    if low[0] == _VALUE and not low[1] < high[1]:
        return None
    base = 1 if low[0] == _BOTTOM else 0
    values = (high[1],) if base else (low[1], high[1])
    return CompiledRange((low, high), (), Cuts(values, base, (low[3], high[3], "")))


def _cuts(bounds: tuple[Bound, ...]) -> Cuts | None:
    kinds = [b[2] for b in bounds]
    if kinds != ["introduced", "fixed"] * (len(kinds) // 2) + ["introduced"] * (len(kinds) % 2):
        return None
    base = 1 if bounds and bounds[0][0] == _BOTTOM else 0
    if any(b[0] != _VALUE for b in bounds[base:]):
        return None
    values = tuple(b[1] for b in bounds[base:])
    return Cuts(values, base, (*(b[3] for b in bounds), ""))


def _listed(values: Sequence[str], parse: Parse) -> frozenset[Any]:
    parsed = set()
    for item in values:
        try:
            parsed.add(parse(item))
        except InvalidVersion:
            continue  # a listed version this ecosystem cannot read is only matched as text
    return frozenset(parsed)


def compile_entry(affected: Affected, parse: Parse) -> Compiled:
    """The entry with every bound parsed once; never raises (a bad bound is kept as ``error``)."""
    ranges: list[CompiledRange] = []
    error: InvalidVersion | None = None
    for rng in affected.ranges:
        if rng.type not in RANGE_TYPES:
            continue
        try:
            ranges.append(compile_range(rng, parse))
        except InvalidVersion as exc:
            error = error or exc
    versions = affected.versions
    only = ranges[0].cuts if len(ranges) == 1 and error is None else None
    listed = Listed(versions, parse)
    return Compiled(tuple(ranges), frozenset(versions), listed, error, only)


def _below(version: Any, bound: Bound) -> bool:
    """``version < bound``."""
    return bound[0] == _TOP or (bound[0] == _VALUE and bool(version < bound[1]))


def _scan(version: Any, bounds: tuple[Bound, ...]) -> str | None:
    """The fix closing the interval ``version`` falls in ("" if none); ``None`` if outside."""
    affected, fix = False, None
    for cls, value, kind, text in bounds:  # limits are apart, so no _TOP class here
        if cls == _VALUE and version < value:
            # Sorted: every later bound is above the version too, so only the first fix
            # above it (which closes the interval it is in) is still of interest.
            if not affected or kind == "fixed":
                fix = text if affected else None
                break
        elif kind == "introduced":
            affected, fix = True, None
        elif kind == "fixed" or (kind == "last_affected" and version != value):
            affected = False  # at or past a fix, or strictly past the last affected version
    return (fix or "") if affected else None


def _capped(version: Any, rng: CompiledRange) -> bool:
    return bool(rng.limits) and not any(_below(version, limit) for limit in rng.limits)


def in_range(version: Any, rng: CompiledRange) -> Verdict:
    """Evaluate one compiled range for a parsed version."""
    fix = None if _capped(version, rng) else _scan(version, rng.bounds)
    if fix is None:
        return NOT_AFFECTED
    return Verdict(True, (fix,) if fix else ())


def affected_fixes(version: Any, text: str, entry: Compiled) -> tuple[str, ...] | None:
    """The fixes if the parsed ``version`` (written ``text``) is affected, else ``None``.

    What :func:`evaluate_compiled` answers, without building a :class:`Verdict`: the
    matcher's inner loop. Raises ``InvalidVersion`` if undecidable.
    """
    fixes: tuple[str, ...] | None = None
    for rng in entry.ranges:
        cuts = rng.cuts
        if cuts is not None:
            passed = cuts.base + bisect_right(cuts.values, version)
            fix = cuts.fixes[passed] if passed & 1 else None
        elif rng.limits and _capped(version, rng):
            fix = None
        else:
            fix = _scan(version, rng.bounds)
        if fix is None:
            continue
        if fixes is None:
            fixes = (fix,) if fix else ()
        elif fix and fix not in fixes:
            fixes = (*fixes, fix)
    listed = entry.listed_text
    if fixes is None and listed and (text in listed or version in entry.listed):
        fixes = ()
    if fixes is None and entry.error is not None:
        raise entry.error
    return fixes


Outcome = tuple[int, "tuple[str, ...] | InvalidVersion"]
"""(position of an entry, its fixes when affected, or why it cannot be decided)."""


def matches(version: Any, text: str, entries: Sequence[Compiled]) -> list[Outcome]:
    """Every entry the parsed ``version`` (written ``text``) is affected by, and every one that
    cannot be decided: :func:`affected_fixes` over one package's candidates in a single call
    (the matcher's inner loop; the usual single-interval entries are decided inline)."""
    found: list[Outcome] = []
    for index, entry in enumerate(entries):
        cuts = entry.only
        if cuts is not None:
            passed = cuts.base + bisect_right(cuts.values, version)
            listed = entry.listed_text
            if passed & 1:
                fix = cuts.fixes[passed]
                found.append((index, (fix,) if fix else ()))
            elif listed and (text in listed or version in entry.listed):
                found.append((index, ()))
            continue
        try:
            fixes = affected_fixes(version, text, entry)
        except InvalidVersion as exc:
            found.append((index, exc))
            continue
        if fixes is not None:
            found.append((index, fixes))
    return found


def evaluate_compiled(version: Any, text: str, entry: Compiled) -> Verdict:
    """Is the parsed ``version`` (written ``text``) affected? ``InvalidVersion`` if undecidable."""
    fixes = affected_fixes(version, text, entry)
    return NOT_AFFECTED if fixes is None else Verdict(True, fixes)


def evaluate(text: str, affected: Affected, parse: Parse) -> Verdict:
    """Is version ``text`` affected? Raises ``InvalidVersion`` when it cannot be decided.

    An unparseable installed version always raises. An unparseable bound only raises when no
    other range or listed version already answers "affected".
    """
    return evaluate_compiled(parse(text), text, compile_entry(affected, parse))
