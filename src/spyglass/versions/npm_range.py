"""npm version ranges: ``satisfies(range, version)`` as node-semver 7's ``satisfies``.

A port of node-semver's range desugaring (hyphen ranges, x-ranges, ``~``, ``^``, ``*``) into
comparator sets, and of its prerelease rule: a prerelease version only satisfies a set in which
some comparator carries a prerelease of the same ``major.minor.patch``, unless
``include_prerelease``. The steps keep node-semver's regular expressions and order, because its
answers on odd input (spaces after operators, ``1.2.3+build`` bounds, loose mode) come from
exactly those rewrites. Written by hand for the reason given in ``spyglass.versions.npm``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spyglass.versions import npm
from spyglass.versions.key import Key


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


_N, _NL = r"0|[1-9][0-9]*", r"[0-9]+"
_NONNUM = r"[0-9]*[a-zA-Z-][a-zA-Z0-9-]*"
_PRE = rf"(?:-((?:{_NONNUM}|{_N})(?:\.(?:{_NONNUM}|{_N}))*))"
_BUILD = r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))"
_GTLT = r"((?:<|>)?=?)"


_PRE_LOOSE = rf"(?:-?((?:{_NONNUM}|{_NL})(?:\.(?:{_NONNUM}|{_NL}))*))"


def _xplain(ident: str, pre: str) -> str:
    return rf"[v=\s]*({ident})(?:\.({ident})(?:\.({ident})(?:{pre})?{_BUILD}?)?)?"


_XPLAIN = {
    False: _xplain(rf"{_N}|x|X|\*", _PRE),
    True: _xplain(rf"{_NL}|x|X|\*", _PRE_LOOSE),
}
_PLAIN = {False: npm.FULL_PLAIN, True: npm.LOOSE_PLAIN}
_HYPHEN = {k: _re(rf"^\s*({x})\s+-\s+({x})\s*$") for k, x in _XPLAIN.items()}
_XRANGE = {k: _re(rf"^{_GTLT}\s*{x}$") for k, x in _XPLAIN.items()}
_TILDE = {k: _re(rf"^(?:~>?){x}$") for k, x in _XPLAIN.items()}
_CARET = {k: _re(rf"^(?:\^){x}$") for k, x in _XPLAIN.items()}
_COMPARATOR = {k: _re(rf"^{_GTLT}\s*({p})$|^$") for k, p in _PLAIN.items()}
_TRIM = _re(rf"(\s*){_GTLT}\s*({npm.LOOSE_PLAIN}|{_XPLAIN[False]})")
_TILDE_TRIM = _re(r"(\s*)(?:~>?)\s+")
_CARET_TRIM = _re(r"(\s*)(?:\^)\s+")
_STAR = _re(r"(<|>)?=?\s*\*")
_GTE0 = {False: _re(r"^\s*>=\s*0\.0\.0\s*$"), True: _re(r"^\s*>=\s*0\.0\.0-0\s*$")}
_BUILD_RE = _re(_BUILD)
_Parts = tuple[int, int, int, tuple[str, ...]]


def _is_x(part: str | None) -> bool:
    return not part or part.lower() == "x" or part == "*"


@dataclass(frozen=True)
class _Options:
    loose: bool
    pre: bool  # includePrerelease


@dataclass(frozen=True)
class Comparator:
    """One ``<op><version>``; ``version`` None is node-semver's ANY (matches everything)."""

    operator: str
    version: str | None
    key: Key = ()
    prerelease: tuple[str, ...] = ()
    main: tuple[int, int, int] = (0, 0, 0)

    @property
    def value(self) -> str:
        return "" if self.version is None else self.operator + self.version

    def test(self, key: Key) -> bool:
        """Whether a version's sort key satisfies this comparator."""
        if self.version is None:
            return True
        op = self.operator
        return {
            "": key == self.key,
            "<": key < self.key,
            ">": key > self.key,
            "<=": key <= self.key,
            ">=": key >= self.key,
        }[op]


def _tilde(comp: str, o: _Options) -> str:
    match = _TILDE[o.loose].match(comp)
    if match is None:
        return comp
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    z = "-0" if o.pre else ""
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0{z} <{int(major) + 1}.0.0-0"
    if _is_x(patch):
        return f">={major}.{minor}.0{z} <{major}.{int(minor) + 1}.0-0"
    low = f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    return f">={low} <{major}.{int(minor) + 1}.0-0"


def _caret_upper(major: str, minor: str, patch: str) -> str:
    if major != "0":
        return f"<{int(major) + 1}.0.0-0"
    if minor != "0":
        return f"<{major}.{int(minor) + 1}.0-0"
    return f"<{major}.{minor}.{int(patch) + 1}-0"


def _caret(comp: str, o: _Options) -> str:
    match = _CARET[o.loose].match(comp)
    if match is None:
        return comp
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    z = "-0" if o.pre else ""
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0{z} <{int(major) + 1}.0.0-0"
    if _is_x(patch):
        upper = f"<{major}.{int(minor) + 1}.0-0" if major == "0" else f"<{int(major) + 1}.0.0-0"
        return f">={major}.{minor}.0{z} {upper}"
    low = f"{major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    return f">={low} {_caret_upper(major, minor, patch)}"


def _xrange(comp: str, o: _Options) -> str:
    match = _XRANGE[o.loose].match(comp.strip())
    if match is None:
        return comp.strip()
    gtlt, major, minor, patch = match.group(1, 2, 3, 4)
    if (_is_x(major) and not _is_x(minor)) or (_is_x(minor) and patch and not _is_x(patch)):
        return comp.strip()  # invalidXRangeOrder: 1.x.3, x.2
    x_major, x_minor, x_patch = _is_x(major), _is_x(major) or _is_x(minor), False
    x_patch = x_minor or _is_x(patch)
    if gtlt == "=" and x_patch:
        gtlt = ""
    pr = "-0" if o.pre else ""
    if x_major:
        return "<0.0.0-0" if gtlt in (">", "<") else "*"
    if gtlt and x_patch:
        big, mid = int(major), 0 if x_minor else int(minor)
        if gtlt == ">":
            gtlt, big, mid = (">=", big + 1, 0) if x_minor else (">=", big, mid + 1)
        elif gtlt == "<=":
            gtlt, big, mid = ("<", big + 1, mid) if x_minor else ("<", big, mid + 1)
        if gtlt == "<":
            pr = "-0"
        return f"{gtlt}{big}.{mid}.0{pr}"
    if x_minor:
        return f">={major}.0.0{pr} <{int(major) + 1}.0.0-0"
    if x_patch:
        return f">={major}.{minor}.0{pr} <{major}.{int(minor) + 1}.0-0"
    return match.group(0)


def _hyphen(match: re.Match[str], o: _Options) -> str:
    z = "-0" if o.pre else ""
    whole_from, f_major, f_minor, f_patch, f_pre = match.group(1, 2, 3, 4, 5)
    whole_to, t_major, t_minor, t_patch, t_pre = match.group(7, 8, 9, 10, 11)
    if _is_x(f_major):
        low = ""
    elif _is_x(f_minor):
        low = f">={f_major}.0.0{z}"
    elif _is_x(f_patch):
        low = f">={f_major}.{f_minor}.0{z}"
    else:
        low = f">={whole_from}" + ("" if f_pre else z)
    if _is_x(t_major):
        high = ""
    elif _is_x(t_minor):
        high = f"<{int(t_major) + 1}.0.0-0"
    elif _is_x(t_patch):
        high = f"<{t_major}.{int(t_minor) + 1}.0-0"
    elif t_pre:
        high = f"<={t_major}.{t_minor}.{t_patch}-{t_pre}"
    elif o.pre:
        high = f"<{t_major}.{t_minor}.{int(t_patch) + 1}-0"
    else:
        high = f"<={whole_to}"
    return f"{low} {high}".strip()


def _comparator(comp: str, o: _Options) -> Comparator:
    match = _COMPARATOR[o.loose].match(comp)
    if match is None:
        raise ValueError(f"invalid comparator {comp!r}")
    operator = "" if match.group(1) in ("=", None) else match.group(1)
    if not match.group(2):
        return Comparator(operator, None)
    major, minor, patch, pre = npm.parts(match.group(2), loose=o.loose)
    text = f"{major}.{minor}.{patch}" + (f"-{'.'.join(pre)}" if pre else "")
    key = npm.parse_loose(match.group(2)) if o.loose else npm.key(match.group(2))
    return Comparator(operator, text, key, pre, (major, minor, patch))


def _desugar(comp: str, o: _Options) -> str:
    """node-semver's ``parseComparator``: carets, tildes, x-ranges, then stars."""
    comp = _BUILD_RE.sub("", comp, count=1)
    for step in (_caret, _tilde):
        comp = " ".join(step(c, o) for c in comp.strip().split())
    comp = " ".join(_xrange(c, o) for c in re.split(r"\s+", comp))
    return _STAR.sub("", comp.strip(), count=1)


def _parse_set(text: str, o: _Options) -> list[Comparator]:
    text = _BUILD_RE.sub("", text)
    text = _HYPHEN[o.loose].sub(lambda m: _hyphen(m, o), text)
    text = _TRIM.sub(r"\1\2\3", text)
    text = _TILDE_TRIM.sub(r"\1~", text)
    text = _CARET_TRIM.sub(r"\1^", text)
    parts = re.split(r"\s+", " ".join(_desugar(c, o) for c in text.split(" ")))
    parts = [_GTE0[o.pre].sub("", c.strip()) for c in parts]
    if o.loose:
        parts = [c for c in parts if _COMPARATOR[True].match(c)]
    found: dict[str, Comparator] = {}
    for comparator in (_comparator(c, o) for c in parts):
        if comparator.value == "<0.0.0-0":
            return [comparator]
        found[comparator.value] = comparator
    if len(found) > 1:
        found.pop("", None)
    return list(found.values())


def parse_range(text: str, loose: bool = False, include_prerelease: bool = False) -> Range:
    """A node-semver ``Range``; raises ``ValueError`` where node-semver throws."""
    o = _Options(loose, include_prerelease)
    raw = re.sub(r"\s+", " ", text.strip())
    sets = [s for s in (_parse_set(part.strip(), o) for part in raw.split("||")) if s]
    if not sets:
        raise ValueError(f"invalid npm range {text!r}")
    if len(sets) > 1:
        sets = [s for s in sets if s[0].value != "<0.0.0-0"] or sets[:1]
        sets = next(([s] for s in sets if len(s) == 1 and s[0].version is None), sets)
    return Range(tuple(tuple(s) for s in sets), include_prerelease)


@dataclass(frozen=True)
class Range:
    """A union of comparator sets; a version satisfies it when it satisfies any one set."""

    sets: tuple[tuple[Comparator, ...], ...]
    include_prerelease: bool

    def test(self, version: str, loose: bool = False) -> bool:
        """node-semver's ``Range.test``: an unparseable version satisfies nothing."""
        try:
            key = npm.parse_loose(version) if loose else npm.key(version)
            main = npm.parts(version, loose)
        except ValueError:
            return False
        return any(self._test_set(s, key, main) for s in self.sets)

    def _test_set(self, comparators: tuple[Comparator, ...], key: Key, main: _Parts) -> bool:
        if not all(c.test(key) for c in comparators):
            return False
        if not main[3] or self.include_prerelease:
            return True
        # A prerelease only passes if a comparator names a prerelease of the same x.y.z.
        return any(
            c.version is not None and c.prerelease and c.main == main[:3] for c in comparators
        )


def satisfies(
    range_: str, version: str, *, loose: bool = False, include_prerelease: bool = False
) -> bool:
    """node-semver's ``satisfies(version, range, {loose, includePrerelease})``."""
    try:
        parsed = parse_range(range_, loose, include_prerelease)
    except ValueError:
        return False
    return parsed.test(version, loose)
