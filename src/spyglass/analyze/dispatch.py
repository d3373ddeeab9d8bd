"""Which analyzers to ask about a path: every hint joined into one cheap test.

Asking all fourteen analyzers' ``required`` about every member of a layer cost more than the
parsing (about 1 us each, per file). Analyzers that declare a
:class:`~spyglass.analyze.interface.PathHint` are asked only about paths their hint matches; the
names, suffixes and prefixes of every hint are joined here so that one set lookup and two string
tests rule out nearly every path. (A single regex joining hints searched about 20 times slower
than these str methods, because an unanchored alternation is tried at every position.)
"""

from __future__ import annotations

from collections.abc import Sequence

from spyglass.analyze.interface import Analyzer


class Dispatch:
    """Picks, for one path, the analyzers worth asking, in their given order."""

    def __init__(self, analyzers: Sequence[Analyzer]) -> None:
        self._analyzers = tuple(analyzers)
        self._unhinted = tuple(a for a in analyzers if a.path_hint is None)
        hints = [a.path_hint for a in analyzers if a.path_hint is not None]
        self._names = frozenset(name for h in hints for name in h.names)
        self._suffixes = tuple(dict.fromkeys(s for h in hints for s in h.suffixes))
        self._prefixes = tuple(dict.fromkeys(p for h in hints for p in h.prefixes))

    def candidates(self, path: str) -> tuple[Analyzer, ...]:
        """The unhinted analyzers, and the hinted ones whose hint matches ``path``."""
        low = path.lower()
        if (
            low[low.rfind("/") + 1 :] not in self._names
            and not low.endswith(self._suffixes)
            and not low.startswith(self._prefixes)
        ):
            return self._unhinted  # the usual case: no hint matches
        return tuple(
            a for a in self._analyzers if a.path_hint is None or a.path_hint.matches(path)
        )
