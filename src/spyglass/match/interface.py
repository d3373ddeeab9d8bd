"""The matcher's output: findings (package x vulnerability) and notes on what it could not decide.

A :class:`Finding` is one vulnerability in one installed package, with every advisory record
that says so merged into it (their ids become ``aliases``). A :class:`MatchNote` is the
matcher's ``Unknown``: a version that does not parse for its ecosystem, or OS packages with no
detected distro, is reported, never guessed at. Both have a JSON form for reports and storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spyglass.inventory import Package

# The package fields a finding carries in its JSON form (enough to find and fix it).
_PACKAGE_FIELDS = ("name", "version", "ecosystem", "purl", "path", "layer", "source_name")


@dataclass(frozen=True)
class Finding:
    """One vulnerability in one installed package, merged across feeds."""

    id: str
    """The vulnerability's main id: its CVE when the records agree on one, else a record id."""
    package: Package
    installed_version: str
    """The version that was compared (the source version for Debian, ``epoch:v-r`` for rpm)."""
    severity: str
    """One of :data:`spyglass.vulndb.model.SEVERITIES`."""
    state: str
    """``fixed`` (a fix exists), ``unfixed``, ``will-not-fix`` or ``end-of-life``."""
    fixed_versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """Every other id the merged records carry (CVE, GHSA, DSA, ALSA, PYSEC, GO-…)."""
    records: tuple[str, ...] = ()
    """Ids of the advisory records that matched, one per feed record."""
    feeds: tuple[str, ...] = ()
    severity_source: str = ""
    """Where ``severity`` came from: a feed name, or ``cvss`` when derived from the score."""
    cvss_score: float | None = None
    cvss_vector: str | None = None
    cvss_version: str | None = None
    known_exploited: bool = False
    """The vulnerability (by any id) is in a known-exploited catalogue (CISA KEV)."""
    title: str = ""
    url: str = ""
    matched_name: str = ""
    """The name the advisory used: the source package for Debian, Alpine origins and rpm."""

    @property
    def ids(self) -> tuple[str, ...]:
        """The main id and every alias."""
        return (self.id, *self.aliases)

    def template(self) -> dict[str, Any]:
        """Every field but the package, in order: to make findings of the same vulnerability in
        other packages with :meth:`like`."""
        fields = dict(self.__dict__)
        fields["package"] = None  # a cached template must not keep an inventory alive
        return fields

    @classmethod
    def like(
        cls,
        template: dict[str, Any],
        package: Package,
        installed_version: str,
        state: str,
        fixed_versions: tuple[str, ...],
    ) -> Finding:
        """The finding ``template`` describes, for another package, version, state and fixes.

        Equal to calling the class with every field, at a tenth of the cost: a frozen
        dataclass's ``__init__`` sets its 17 fields one ``object.__setattr__`` at a time, which
        was most of a warm match's time. Fills the instance's fields (in their order) instead.
        """
        finding = object.__new__(cls)
        fields = finding.__dict__
        fields.update(template)
        fields["package"] = package
        fields["installed_version"] = installed_version
        fields["state"] = state
        fields["fixed_versions"] = fixed_versions
        return finding

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the package reduced to what identifies and locates it)."""
        pkg = self.package.to_dict()
        data: dict[str, Any] = {k: v for k, v in self.__dict__.items() if k != "package"}
        data["package"] = {k: pkg[k] for k in _PACKAGE_FIELDS}
        for key in ("fixed_versions", "aliases", "records", "feeds"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["package"] = Package.from_dict(values["package"])
        for key in ("fixed_versions", "aliases", "records", "feeds"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


@dataclass(frozen=True)
class MatchNote:
    """Something the matcher could not decide for one package, with the reason."""

    package: Package
    reason: str
    advisory_id: str = ""
    """The advisory that could not be evaluated; empty when the whole package was skipped."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "package": {k: self.package.to_dict()[k] for k in _PACKAGE_FIELDS},
            "advisory_id": self.advisory_id,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class MatchResult:
    """Everything one match of an inventory produced."""

    findings: tuple[Finding, ...] = ()
    notes: tuple[MatchNote, ...] = ()
    packages: int = 0
    """How many packages were looked up."""
    feeds: tuple[tuple[str, str | None], ...] = ()
    """(name, last refreshed) of every feed the store held: what the findings are based on."""
