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
     "analyzers": [{"name", "version"}]}
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from spyglass.inventory import Inventory

SCHEMA_NAME = "spyglass/scan-report"
SCHEMA_VERSION = 1


def report_document(inventory: Inventory) -> dict[str, Any]:
    """The JSON document for one scanned image."""
    return {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION, **inventory.to_dict()}


def render_json(inventory: Inventory) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_document(inventory), indent=2, sort_keys=False)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the report document."""
    text = resources.files("spyglass.report").joinpath("scan-report.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema
