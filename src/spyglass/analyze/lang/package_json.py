"""``package.json`` of an installed npm package: name, version and declared licences.

Written by hand: the format is JSON, and the few rules (licence forms old and new, manifests
that look like npm packages but are not) fit in a page.
"""

from __future__ import annotations

import re
from typing import Any

from spyglass.analyze.lang.files import mapping, text
from spyglass.errors import AnalyzerError
from spyglass.inventory import Package

# npm's name rules, loosened to accept the upper-case names of old packages (JSONStream).
_NAME = re.compile(r"^(?:@[^/@\s]+/)?[^/@\s.][^/@\s]*$")


def parse_package_json(data: dict[str, Any], path: str, analyzer: str) -> Package | None:
    """The package a ``package.json`` describes, or None for one that names no npm package.

    No name, an explicitly empty version (a template), or the manifest of a VS Code extension
    or a Unity package (same file name, other ecosystems) give None; a missing version gives
    a package without one.
    """
    name = text(data.get("name"))
    if not name or data.get("version") == "" or _other_ecosystem(data):
        return None
    if not _NAME.match(name):
        raise AnalyzerError(f"{path} names the package {name!r}, which is not a valid npm name")
    return Package(
        name=name,
        version=text(data.get("version")),
        ecosystem="npm",
        path=path,
        licenses=licenses(data),
        analyzer=analyzer,
    )


def _other_ecosystem(data: dict[str, Any]) -> bool:
    engines = mapping(data.get("engines"))
    return "contributes" in data or "vscode" in engines or "unity" in data


def licenses(data: dict[str, Any]) -> tuple[str, ...]:
    """Licences from ``license`` (an SPDX string, or the deprecated object or list of objects),
    else the deprecated ``licenses`` list. A list of bare strings is no form npm defines and is
    ignored, as other scanners do."""
    return _license_values(data.get("license")) or _license_values(data.get("licenses"))


def _license_values(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value.strip(),) if value.strip() else ()
    items = value if isinstance(value, list) else [value]
    found = (text(item.get("type")) for item in items if isinstance(item, dict))
    return tuple(name for name in found if name)
