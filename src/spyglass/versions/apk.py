"""Alpine (apk-tools v3) package versions: ordering, validity and the fuzzy ``~`` match.

Grammar: ``digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]``. Tokens compare in order;
when their kinds differ a pre-release suffix (``_alpha`` ``_beta`` ``_pre`` ``_rc``) is lowest,
otherwise the token kind that comes *earlier* in the grammar wins (``1.0.1 > 1.0_p1 > 1.0-r1 >
1.0``). A dotted number with a leading zero compares as a string (``8.2.001 > 8.2.0``).

``compare`` refuses versions apk-tools itself calls invalid; ``compare_lenient`` gives the
answer apk-tools gives anyway (it compares token by token up to the first bad one).

Written by hand: no maintained Python library implements apk-tools v3; ``univers`` (measured)
disagrees with 16 of apk-tools' 738 test vectors and refuses some valid versions.
"""

from __future__ import annotations

import string

from spyglass.versions.key import Key, invalid

KIND = "apk"
_DIGITS = frozenset(string.digits)
_LOWER = frozenset(string.ascii_lowercase)
_HEX = frozenset("0123456789abcdef")
_PRE = {"alpha": 1, "beta": 2, "pre": 3, "rc": 4}
_POST = {"cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10}
# Grammar positions (apk-tools' token types) and sort ranks when kinds differ.
_INITIAL, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NO, _HASH, _REVISION = range(7)
_RANK = {_INITIAL: 10, _DIGIT: 9, _LETTER: 8, _SUFFIX: 7, _SUFFIX_NO: 6, _HASH: 5, _REVISION: 4}
_PRE_RANK = 0
END = (3, 0)
INVALID = (2, 0)


def _digits_end(s: str, i: int) -> int:
    while i < len(s) and s[i] in _DIGITS:
        i += 1
    return i


def _next(s: str, i: int, prev: int) -> tuple[int, tuple[int, object], int] | None:
    """The token at ``s[i]`` after a token of kind ``prev``: (kind, sort element, end) or None."""
    c = s[i]
    if c in _LOWER and prev <= _DIGIT:
        return _LETTER, (_RANK[_LETTER], ord(c)), i + 1
    if c == "." and prev <= _DIGIT:
        j = _digits_end(s, i + 1)
        digits = s[i + 1 : j]
        if not digits:
            return None
        value = (0, digits) if digits[0] == "0" else (1, int(digits))
        return _DIGIT, (_RANK[_DIGIT], value), j
    if c == "_" and prev <= _SUFFIX_NO:
        j = i + 1
        while j < len(s) and s[j] in _LOWER:
            j += 1
        name = s[i + 1 : j]
        if name in _PRE:
            return _SUFFIX, (_PRE_RANK, _PRE[name]), j
        return (_SUFFIX, (_RANK[_SUFFIX], _POST[name]), j) if name in _POST else None
    if c in _DIGITS and prev == _SUFFIX:
        j = _digits_end(s, i)
        return _SUFFIX_NO, (_RANK[_SUFFIX_NO], int(s[i:j])), j
    if c == "~" and prev < _HASH:
        j = i + 1
        while j < len(s) and s[j] in _HEX:
            j += 1
        return (_HASH, (_RANK[_HASH], s[i + 1 : j]), j) if j > i + 1 else None
    if c == "-" and prev < _REVISION and s[i + 1 : i + 2] == "r":
        j = _digits_end(s, i + 2)
        return (_REVISION, (_RANK[_REVISION], int(s[i + 2 : j])), j) if j > i + 2 else None
    return None


def tokens(text: str) -> Key:
    """All tokens of a version, ending with ``END`` or (where it stops parsing) ``INVALID``."""
    j = _digits_end(text, 0)
    if j == 0:
        return (INVALID,)
    out: list[tuple[int, object]] = [(_RANK[_INITIAL], int(text[:j]))]
    prev = _INITIAL
    while j < len(text):
        token = _next(text, j, prev)
        if token is None:
            out.append(INVALID)
            return tuple(out)
        prev, element, j = token
        out.append(element)
    out.append(END)
    return tuple(out)


def key(text: str) -> Key:
    """Sort key of a valid apk version; raises ``InvalidVersion`` for one apk-tools rejects."""
    result = tokens(text)
    if result[-1] == INVALID:
        raise invalid(
            KIND,
            text,
            "apk-tools does not accept it (expected digits{.digits}"
            "[letter]{_suffix[N]}[~hash][-rN])",
        )
    return result


def valid(text: str) -> bool:
    """True when apk-tools' ``apk_version_validate`` accepts the version."""
    return bool(tokens(text)[-1] == END)


def compare_lenient(a: str, b: str) -> int:
    """apk-tools' own answer, also for invalid versions (compared up to their first bad token)."""
    ka, kb = tokens(a), tokens(b)
    return (ka > kb) - (ka < kb)


def fuzzy_compare(a: str, b: str) -> int:
    """Like ``compare_lenient``, but 0 when ``b`` is a token prefix of ``a`` (apk's ``~``)."""
    for x, y in zip(tokens(a), tokens(b), strict=False):
        if x == y:
            if x in (END, INVALID):
                return 0
            continue
        if y == END and x[0] != END[0]:
            return 0
        return -1 if x < y else 1
    return 0


def matches(a: str, op: str, b: str) -> bool:
    """apk's ``a op b`` for op in ``<`` ``<=`` ``=`` ``>=`` ``>`` ``~`` ``<~`` ``>~``."""
    result = fuzzy_compare(a, b) if "~" in op else compare_lenient(a, b)
    allowed = {"<": (-1,), "<=": (-1, 0), "=": (0,), ">=": (0, 1), ">": (1,), "~": (0,)}
    allowed |= {"<~": (-1, 0), ">~": (0, 1)}
    return result in allowed[op]
