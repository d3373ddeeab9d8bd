"""OSV range evaluation: each event kind, ``0``, limits, explicit versions, bad versions."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from spyglass.errors import InvalidVersion
from spyglass.match import parser_for
from spyglass.match.ranges import (
    Verdict,
    compile_entry,
    compile_range,
    evaluate,
    evaluate_compiled,
    matches,
    sort_range,
)
from spyglass.vulndb.model import AdvisoryId, Affected, Event, Range

PEP440 = parser_for("pypi")


def entry(
    *events: tuple[str, str], versions: tuple[str, ...] = (), kind: str = "ECOSYSTEM"
) -> Affected:
    ranges = (Range(kind, tuple(Event(k, v) for k, v in events)),) if events else ()
    return Affected(AdvisoryId("X-1"), "pypi", None, "pkg", ranges=ranges, versions=versions)


@pytest.mark.parametrize(
    ("version", "want"),
    [
        ("0.0.1", Verdict(True, ("1.2",))),
        ("1.1.9", Verdict(True, ("1.2",))),
        ("1.2", Verdict(False)),
        ("1.2.0", Verdict(False)),  # PEP 440: 1.2 == 1.2.0
        ("2.0", Verdict(False)),
        ("1.2rc1", Verdict(True, ("1.2",))),  # a pre-release sorts below its release
    ],
)
def test_introduced_zero_then_fixed(version: str, want: Verdict) -> None:
    assert evaluate(version, entry(("introduced", "0"), ("fixed", "1.2")), PEP440) == want


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.9", False), ("1.0", True), ("1.4", True), ("1.5", True), ("1.5.1", False)],
)
def test_introduced_then_last_affected(version: str, affected: bool) -> None:
    # last_affected includes its own version (fixed does not), and names no fix
    got = evaluate(version, entry(("introduced", "1.0"), ("last_affected", "1.5")), PEP440)
    assert got == Verdict(affected)


def test_last_affected_differs_from_fixed_at_the_bound() -> None:
    assert evaluate("1.5", entry(("introduced", "0"), ("fixed", "1.5")), PEP440).affected is False
    assert evaluate("1.5", entry(("introduced", "0"), ("last_affected", "1.5")), PEP440).affected


def test_introduced_only_is_every_later_version_without_a_fix() -> None:
    assert evaluate("99.0", entry(("introduced", "2.0")), PEP440) == Verdict(True)
    assert evaluate("1.0", entry(("introduced", "2.0")), PEP440) == Verdict(False)


def test_several_intervals_in_one_range_name_the_fix_of_the_interval_hit() -> None:
    # Events out of order on purpose: OSV evaluates them sorted by version.
    two = entry(("introduced", "2.0"), ("fixed", "2.5"), ("introduced", "0"), ("fixed", "1.3"))
    assert evaluate("1.0", two, PEP440) == Verdict(True, ("1.3",))
    assert evaluate("1.3", two, PEP440) == Verdict(False)
    assert evaluate("2.1", two, PEP440) == Verdict(True, ("2.5",))
    assert evaluate("3.0", two, PEP440) == Verdict(False)


@pytest.mark.parametrize(
    ("version", "affected"), [("0.5", False), ("1.0", True), ("1.9", True), ("2.0", False)]
)
def test_limit_caps_the_range(version: str, affected: bool) -> None:
    # e.g. a branch-limited range: introduced 1.0 with no fix, but only below the limit
    got = evaluate(version, entry(("introduced", "1.0"), ("limit", "2.0")), PEP440)
    assert got.affected is affected


def test_limit_star_is_no_cap() -> None:
    assert evaluate("9.0", entry(("introduced", "0"), ("limit", "*")), PEP440).affected


def test_explicit_versions_list_matches_equal_versions() -> None:
    listed = entry(versions=("1.0", "1.1", "not a version at all"))
    assert evaluate("1.1", listed, PEP440) == Verdict(True)
    assert evaluate("1.1.0", listed, PEP440) == Verdict(True)  # equal under PEP 440
    assert evaluate("1.2", listed, PEP440) == Verdict(False)


def test_versions_list_or_ranges_either_counts() -> None:
    both = entry(("introduced", "2.0"), ("fixed", "2.1"), versions=("1.0",))
    assert evaluate("1.0", both, PEP440).affected
    assert evaluate("2.0.5", both, PEP440) == Verdict(True, ("2.1",))


def test_unparseable_installed_version_raises() -> None:
    with pytest.raises(InvalidVersion):
        evaluate("not-a-version!", entry(("introduced", "0"), ("fixed", "1.0")), PEP440)


def test_unparseable_event_raises_unless_something_else_says_affected() -> None:
    bad = entry(("introduced", "0"), ("fixed", "bogus version"))
    with pytest.raises(InvalidVersion):
        evaluate("1.0", bad, PEP440)
    listed = entry(("introduced", "0"), ("fixed", "bogus version"), versions=("1.0",))
    assert evaluate("1.0", listed, PEP440).affected


def test_semver_ranges_use_the_ecosystems_semver_rules() -> None:
    semver = Affected(
        AdvisoryId("GO-1"),
        "golang",
        None,
        "m",
        ranges=(Range("SEMVER", (Event("introduced", "0"), Event("fixed", "1.2.3-rc.1"))),),
    )
    golang = parser_for("golang")
    assert evaluate("v1.2.3-beta.2", semver, golang) == Verdict(True, ("1.2.3-rc.1",))
    assert evaluate("v1.2.3", semver, golang) == Verdict(False)


def test_git_ranges_are_not_evaluated() -> None:
    git = Affected(
        AdvisoryId("X"), "pypi", None, "p", ranges=(Range("GIT", (Event("introduced", "0"),)),)
    )
    assert evaluate("1.0", git, PEP440) == Verdict(False)


def test_dpkg_and_apk_ranges() -> None:
    deb = Affected(
        AdvisoryId("CVE-1"),
        "deb",
        "debian:12",
        "openssl",
        ranges=(
            Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "3.0.11-1~deb12u2"))),
        ),
    )
    assert evaluate("3.0.11-1~deb12u1", deb, parser_for("deb")).affected
    assert not evaluate("3.0.11-1~deb12u2", deb, parser_for("deb")).affected
    apk = Affected(
        AdvisoryId("CVE-2"),
        "apk",
        "alpine:3.10",
        "busybox",
        ranges=(Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "1.30.1-r2"))),),
    )
    assert evaluate("1.30.1-r1", apk, parser_for("apk")).affected
    assert not evaluate("1.30.1-r5", apk, parser_for("apk")).affected


# The OSV schema's reference evaluation, written as plainly as the spec states it, on integer
# versions: the compiled, early-exit evaluation must agree with it on any events.
_KINDS = st.sampled_from(["introduced", "fixed", "last_affected", "limit"])
_EVENTS = st.lists(st.tuples(_KINDS, st.integers(0, 12)), min_size=1, max_size=6)


def _spec(version: int, events: list[tuple[str, int]]) -> bool:
    ordered = sorted(events, key=lambda e: e[1])  # "0" is the smallest integer here anyway
    limits = [v for k, v in ordered if k == "limit"]
    if limits and not any(version < v for v in limits):
        return False
    affected = False
    for kind, bound in ordered:
        if kind == "introduced" and version >= bound:
            affected = True
        elif (kind == "fixed" and version >= bound) or (
            kind == "last_affected" and version > bound
        ):
            affected = False
    return affected


@given(version=st.integers(0, 13), events=_EVENTS)
def test_evaluation_agrees_with_the_spec_algorithm(
    version: int, events: list[tuple[str, int]]
) -> None:
    # Ties (equal versions) are left to the source's order in both, so sort them apart first.
    assume(len({v for _, v in events}) == len(events))
    got = evaluate(str(version), entry(*((k, str(v)) for k, v in events)), PEP440)
    assert got.affected is _spec(version, events)
    if got.fixed:
        fix = int(got.fixed[0])
        assert fix > version and ("fixed", fix) in events


_RANGES = st.lists(
    st.lists(
        st.tuples(_KINDS, st.sampled_from(["0", "1", "2", "3", "5", "8", "bad!"])), max_size=5
    ),
    max_size=3,
)


@given(
    version=st.sampled_from(["0", "1", "2", "3", "4", "8", "9", "1.0"]),
    ranges=_RANGES,
    listed=st.lists(st.sampled_from(["1", "3.0", "4", "bad!"]), max_size=2),
)
def test_the_per_package_batch_agrees_with_evaluating_each_entry(
    version: str, ranges: list[list[tuple[str, str]]], listed: list[str]
) -> None:
    affected = Affected(
        AdvisoryId("X-1"),
        "pypi",
        None,
        "pkg",
        ranges=tuple(Range("ECOSYSTEM", tuple(Event(k, v) for k, v in r)) for r in ranges),
        versions=tuple(listed),
    )
    compiled = compile_entry(affected, PEP440)
    try:
        want: object = evaluate_compiled(PEP440(version), version, compiled)
    except InvalidVersion as exc:
        want = exc
    found = matches(PEP440(version), version, [compiled, compiled])
    if isinstance(want, Verdict) and not want.affected:
        assert found == []
    elif isinstance(want, Verdict):
        assert found == [(0, want.fixed), (1, want.fixed)]
    else:
        assert [index for index, _ in found] == [0, 1]
        assert all(outcome is want for _, outcome in found)


@given(
    start=st.sampled_from(["0", "1", "2", "2.0", "3", "bad!"]),
    end=st.sampled_from(["0", "1", "2", "2.0", "3", "bad!"]),
    kinds=st.sampled_from(
        [("introduced", "fixed"), ("fixed", "introduced"), ("introduced", "limit")]
    ),
)
def test_the_two_event_shortcut_compiles_as_sorting_does(
    start: str, end: str, kinds: tuple[str, str]
) -> None:
    rng = Range("ECOSYSTEM", (Event(kinds[0], start), Event(kinds[1], end)))
    try:
        want: object = sort_range(rng, PEP440)
    except InvalidVersion as exc:
        want = str(exc)
    try:
        got: object = compile_range(rng, PEP440)
    except InvalidVersion as exc:
        got = str(exc)
    assert got == want


def test_listed_versions_are_parsed_only_when_asked() -> None:
    parsed: list[str] = []

    def parse(text: str) -> object:
        parsed.append(text)
        return PEP440(text)

    compiled = compile_entry(entry(("introduced", "0"), ("fixed", "2"), versions=("3.0",)), parse)
    assert parsed == ["2"]  # the bound only
    assert PEP440("3") in compiled.listed and parsed == ["2", "3.0"]
    assert PEP440("4") not in compiled.listed and parsed == ["2", "3.0"]  # parsed once
