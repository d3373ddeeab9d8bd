"""Order laws for every comparator, on valid versions drawn from ``strategies``.

Total order: reflexive, antisymmetric, transitive (checked by sorting a sample and comparing
every pair), and ``a == b`` implies equal hashes. Round trip where there is a canonical form.
"""

from __future__ import annotations

import functools
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.versions import KINDS, compare, dpkg, golang, npm, parse, pep440, rpm, valid
from tests.versions.strategies import BY_KIND

KIND_LIST = sorted(BY_KIND)


def test_every_kind_has_a_strategy() -> None:
    assert sorted(KINDS) == KIND_LIST


@pytest.mark.parametrize("kind", KIND_LIST)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_generated_versions_are_valid(kind: str, data: st.DataObject) -> None:
    text = data.draw(BY_KIND[kind])
    assert valid(kind, text), text
    assert compare(kind, text, text) == 0


@pytest.mark.parametrize("kind", KIND_LIST)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_antisymmetric_and_hash_consistent(kind: str, data: st.DataObject) -> None:
    a, b = data.draw(BY_KIND[kind]), data.draw(BY_KIND[kind])
    assert compare(kind, a, b) == -compare(kind, b, a)
    if compare(kind, a, b) == 0:
        assert hash(parse(kind, a)) == hash(parse(kind, b))
        assert parse(kind, a) == parse(kind, b)


@pytest.mark.parametrize("kind", KIND_LIST)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_transitive(kind: str, data: st.DataObject) -> None:
    """Sorting with the comparator and re-checking every pair catches any intransitive triple."""
    versions = data.draw(st.lists(BY_KIND[kind], min_size=3, max_size=8))
    ordered = sorted(versions, key=functools.cmp_to_key(lambda x, y: compare(kind, x, y)))
    for i, j in itertools.combinations(range(len(ordered)), 2):
        assert compare(kind, ordered[i], ordered[j]) <= 0, (ordered[i], ordered[j], ordered)
    by_key = sorted(versions, key=lambda v: parse(kind, v))
    assert all(compare(kind, x, y) == 0 for x, y in zip(by_key, ordered, strict=True))


@settings(max_examples=200, deadline=None)
@given(BY_KIND["pypi"])
def test_pep440_round_trip(text: str) -> None:
    assert compare("pypi", pep440.canonical(text), text) == 0
    assert pep440.canonical(pep440.canonical(text)) == pep440.canonical(text)


@settings(max_examples=200, deadline=None)
@given(BY_KIND["golang"])
def test_go_round_trip(text: str) -> None:
    assert compare("golang", golang.canonical(text), text) == 0
    assert golang.canonical(golang.canonical(text)) == golang.canonical(text)


@settings(max_examples=200, deadline=None)
@given(BY_KIND["npm"])
def test_npm_round_trip(text: str) -> None:
    assert compare("npm", npm.canonical(text), text) == 0
    assert npm.canonical(npm.canonical(text)) == npm.canonical(text)


@settings(max_examples=200, deadline=None)
@given(BY_KIND["deb"])
def test_dpkg_round_trip(text: str) -> None:
    epoch, upstream, revision = dpkg.split(text)
    rebuilt = f"{epoch}:{upstream}" + (f"-{revision}" if revision else "")
    assert compare("deb", rebuilt, text) == 0


@settings(max_examples=200, deadline=None)
@given(BY_KIND["rpm"])
def test_rpm_round_trip(text: str) -> None:
    epoch, version, release = rpm.split(text)
    rebuilt = f"{epoch}:{version}" + (f"-{release}" if release is not None else "")
    assert compare("rpm", rebuilt, text) == 0
