"""Matching an inventory against the vulnerability store, reduced to the store's finding rows.

The matcher (``spyglass.match``) and the vulnerability store (``spyglass.vulndb``) do the work;
this module only adapts their ``Finding`` to :class:`~spyglass.store.results.FindingRow`, and
says "not matched" (``None``) when no vulnerability data has been loaded yet.
"""

from __future__ import annotations

import logging

from spyglass.errors import SpyglassError
from spyglass.inventory import Inventory
from spyglass.jobs.runtime import Runtime
from spyglass.match.interface import Finding
from spyglass.store.results import FindingRow

log = logging.getLogger(__name__)


def to_row(finding: Finding) -> FindingRow:
    """The columns the store keeps for one matcher finding (the rest goes in ``detail``)."""
    pkg = finding.package
    return FindingRow(
        advisory_id=finding.id, package=pkg.name, version=pkg.full_version,
        ecosystem=pkg.ecosystem, severity=finding.severity,
        fixed_version=finding.fixed_versions[0] if finding.fixed_versions else None,
        known_exploited=finding.known_exploited, layer=pkg.layer, detail=finding.to_dict(),
    )


def match_findings(runtime: Runtime, inventory: Inventory) -> list[FindingRow] | None:
    """The inventory's findings, or ``None`` when there is no vulnerability data to match."""
    from spyglass.match import match_inventory
    from spyglass.vulndb.store import VulnStore

    store = VulnStore(runtime.db.engine)  # same database; the vuln_ tables sit beside ours
    try:
        if not store.feeds():
            return None
        return [to_row(f) for f in match_inventory(inventory, store)]
    except SpyglassError as exc:  # the inventory is still worth keeping; match again later
        log.warning("matching %s failed: %s", inventory.reference, exc)
        return None
