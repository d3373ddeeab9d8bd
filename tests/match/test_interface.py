"""Findings made from a template equal findings made field by field, JSON form included."""

from __future__ import annotations

from spyglass.inventory import Package
from spyglass.match.interface import Finding


def test_a_finding_like_a_template_equals_one_built_with_every_field() -> None:
    first = Finding(
        "CVE-1",
        Package("a", "1.0", "pypi"),
        "1.0",
        "high",
        "fixed",
        ("1.1",),
        aliases=("GHSA-x",),
        records=("GHSA-x",),
        feeds=("osv",),
        cvss_score=7.5,
        title="t",
    )
    other = Package("b", "2.0", "pypi")
    made = Finding.like(first.template(), other, "2.0", "unfixed", ())
    built = Finding(
        "CVE-1",
        other,
        "2.0",
        "high",
        "unfixed",
        (),
        aliases=("GHSA-x",),
        records=("GHSA-x",),
        feeds=("osv",),
        cvss_score=7.5,
        title="t",
    )
    assert made == built
    assert hash(made) == hash(built)
    assert list(made.to_dict().items()) == list(built.to_dict().items())  # same key order
    assert first.package.name == "a"  # the template is a copy
