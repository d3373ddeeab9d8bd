"""Composer (Packagist) versions, ordered by PHP's ``version_compare`` as Composer uses it.

A version is split at ``.`` ``-`` ``_`` ``+`` and between letters and digits; numbers compare
numerically; words rank ``dev`` < ``alpha`` = ``a`` < ``beta`` = ``b`` < ``RC`` = ``rc`` <
number < ``pl`` = ``p``, matched by prefix as PHP does, with any other word lowest; when one
version runs out, a further number makes the other greater and a further word is ranked against
a number (``1.0 < 1.0.1``, ``1.0-beta < 1.0 < 1.0-p1``).

Two deliberate steps of Composer's own version parser come first, because Composer compares
*normalised* versions: a leading ``v`` is dropped (``v1.0`` = ``1.0``; bare PHP would rank the
``v`` as an unknown word) and words are lower-cased (``1.0-Beta1`` is a beta). Versions with
characters outside ``[0-9A-Za-z._+-]``, or with empty parts, are refused as Composer refuses
them; PHP would turn them into empty parts and, e.g., rank ``1.2.3.#`` below itself.

Written by hand: PHP is C; the PyPI ports follow osv.dev's reading, which matches words exactly.
"""

from __future__ import annotations

import re

from spyglass.versions.key import Key, invalid

KIND = "composer"
_VALID = re.compile(r"[vV]?[0-9A-Za-z]+(?:[._+-][0-9A-Za-z]+)*", re.ASCII)
_PARTS = re.compile(r"[0-9]+|[A-Za-z]+", re.ASCII)
# PHP's special forms in lookup order; a word takes the rank of the first one it starts with.
_FORMS = (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("rc", 3), ("pl", 5), ("p", 5))
_NUMBER_RANK = 4
_UNKNOWN_RANK = -1
_END = (_NUMBER_RANK, -1)  # below any number, above words ranked below numbers, below pl/p


def _word_rank(word: str) -> int:
    lowered = word.lower()
    return next((rank for form, rank in _FORMS if lowered.startswith(form)), _UNKNOWN_RANK)


def key(text: str) -> Key:
    """Sort key of a Composer version."""
    if _VALID.fullmatch(text) is None:
        raise invalid(KIND, text, "Composer accepts only letters, digits and . _ + - separators")
    body = text[1:] if text[0] in "vV" and len(text) > 1 and text[1].isdigit() else text
    elements = [
        (_NUMBER_RANK, int(p)) if p.isdigit() else (_word_rank(p), 0) for p in _PARTS.findall(body)
    ]
    return (*elements, _END)


def valid(text: str) -> bool:
    """True when the version has only Composer's characters and no empty parts."""
    return _VALID.fullmatch(text) is not None
