"""The ``--format json`` document of ``spyglass scan``.

Versioned: ``schema`` names the document and its version. Adding fields keeps the version;
renaming or removing one bumps it. The schema itself ships as ``scan-report.schema.json``
beside this module.

Version 1 layout::

    {"schema": "spyglass/scan-report", "schema_version": 1,
     "reference": str, "digest": str | null, "platform": "os/arch[/variant]",
     "os": {"family", "version", "name", "codename"} | null,
     "layers": [{"digest", "diff_id", "size", "media_type", "created_by", "cached"}],
     "packages": [{"name", "version", "ecosystem", "epoch", "release", "arch",
                   "source_name", "source_version", "source_release", "licenses", "purl",
                   "path", "layer", "analyzer", "extra"}],
     "secrets": [{"rule_id", "title", "severity", "path", "line", "match", "layer"}],
     "unknowns": [{"path", "reason", "analyzer", "layer"}],
     "analyzers": [{"name", "version"}],
     "vulnerability_data": {"feeds": [{"name", "refreshed_at"}]} | null,
     "findings": [{"id", "aliases", "records", "feeds", "package": {"name", "version",
                   "ecosystem", "purl", "path", "layer", "source_name"}, "installed_version",
                   "fixed_versions", "state", "severity", "severity_source", "cvss_score",
                   "cvss_vector", "cvss_version", "known_exploited", "title", "url",
                   "matched_name"}],
     "match_notes": [{"package": {...as in findings}, "advisory_id", "reason"}]}

``vulnerability_data`` is ``null`` when the store held no data (the image was not matched;
``findings`` is then empty, which does not mean "no vulnerabilities"). The last three keys
were added within version 1: documents without them are still version 1.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from spyglass.inventory import Inventory
from spyglass.match.interface import MatchResult

SCHEMA_NAME = "spyglass/scan-report"
SCHEMA_VERSION = 1


def _vulnerabilities(result: MatchResult | None) -> dict[str, Any]:
    if result is None:
        return {"vulnerability_data": None, "findings": [], "match_notes": []}
    feeds = [{"name": name, "refreshed_at": when} for name, when in result.feeds]
    return {
        "vulnerability_data": {"feeds": feeds},
        "findings": [f.to_dict() for f in result.findings],
        "match_notes": [n.to_dict() for n in result.notes],
    }


def report_document(inventory: Inventory, result: MatchResult | None = None) -> dict[str, Any]:
    """The JSON document for one scanned image and, when it was matched, its findings."""
    return {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        **inventory.to_dict(),
        **_vulnerabilities(result),
    }


def render_json(inventory: Inventory, result: MatchResult | None = None) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_document(inventory, result), indent=2, sort_keys=False)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the report document."""
    text = resources.files("spyglass.report").joinpath("scan-report.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema
