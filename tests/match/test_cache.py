"""CandidateCache: warm matches skip the store for names already seen; feed changes reset it."""

from __future__ import annotations

import pytest

from spyglass.inventory import Package
from spyglass.match import CandidateCache, match
from spyglass.vulndb.model import Advisory, AdvisoryId, Affected, Event, FeedData, Range
from spyglass.vulndb.store import VulnStore
from tests.match.conftest import Load, inventory


def _pypi(*fixes: tuple[str, str, str]) -> FeedData:
    """(advisory id, package, fixed version) rows of one PyPI feed."""
    return FeedData(
        tuple(Advisory(AdvisoryId(i), "osv/PyPI") for i, _, _ in fixes),
        tuple(
            Affected(
                AdvisoryId(i),
                "pypi",
                None,
                name,
                (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", fixed))),),
            )
            for i, name, fixed in fixes
        ),
    )


@pytest.fixture
def queries(store: VulnStore, monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The names of every candidate query the store answers."""
    asked: list[set[str]] = []
    real = store.candidates

    def counting(ecosystem: str, distro: str | None, names: object, **kw: bool) -> object:
        asked.append(set(names))  # type: ignore[call-overload]
        return real(ecosystem, distro, asked[-1], **kw)

    monkeypatch.setattr(store, "candidates", counting)
    return asked


def test_warm_matches_query_only_new_names(load: Load, queries: list[set[str]]) -> None:
    store = load("osv/PyPI", _pypi(("PYSEC-1", "a", "2.0"), ("PYSEC-2", "b", "2.0")))
    cache = CandidateCache()
    first = inventory(Package("a", "1.0", "pypi"))
    assert [f.id for f in match(first, store, cache=cache).findings] == ["PYSEC-1"]
    assert [f.id for f in match(first, store, cache=cache).findings] == ["PYSEC-1"]
    both = inventory(Package("a", "1.5", "pypi"), Package("b", "1.0", "pypi"))
    assert sorted(f.id for f in match(both, store, cache=cache).findings) == ["PYSEC-1", "PYSEC-2"]
    assert queries == [{"a"}, {"b"}]


def test_a_replaced_feed_resets_the_cache(load: Load, queries: list[set[str]]) -> None:
    store = load("osv/PyPI", _pypi(("PYSEC-1", "a", "2.0")))
    cache = CandidateCache()
    pkg = inventory(Package("a", "1.0", "pypi"))
    assert [f.fixed_versions for f in match(pkg, store, cache=cache).findings] == [("2.0",)]
    load("osv/npm", FeedData())  # another feed appears: the stamp changes
    load("osv/PyPI", _pypi(("PYSEC-1", "a", "1.0")))
    assert match(pkg, store, cache=cache).findings == ()
    assert queries == [{"a"}, {"a"}]


def test_cached_and_uncached_matches_agree(load: Load) -> None:
    store = load("osv/PyPI", _pypi(("PYSEC-1", "a", "2.0"), ("PYSEC-2", "a", "3.0")))
    cache = CandidateCache()
    inv = inventory(Package("a", "2.5", "pypi"), Package("A", "1.0", "pypi"))
    match(inv, store, cache=cache)
    assert match(inv, store, cache=cache) == match(inv, store)
